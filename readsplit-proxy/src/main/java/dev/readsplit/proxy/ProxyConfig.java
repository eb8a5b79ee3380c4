package dev.readsplit.proxy;

import dev.readsplit.config.Secret;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The proxy's own settings (the routing, nodes and consistency come from the data source's {@code ReadsplitConfig}):
 * where it listens, how clients authenticate, and the bounds on what a client may send. Immutable; built by
 * {@link #builder()}, which fails fast naming the bad value. See {@code docs/proxy.md}.
 *
 * @param users       client users and their passwords (plain, or a stored {@code md5...} hash or
 *                    {@code SCRAM-SHA-256$...} verifier), checked by {@code auth}; empty with trust and passthrough
 * @param auth        how clients are authenticated ({@link ClientAuth})
 * @param tlsCertificate the PEM certificate (chain) served to clients that ask for TLS, or null: no TLS
 * @param tlsKey      its PEM (PKCS#8) private key, or null
 * @param poolMode    when client sessions give their backends back ({@link PoolMode#SESSION} by default)
 * @param drainTimeout how long {@link ProxyServer#close()} lets clients finish their transactions before it closes
 *                    them ({@code 0}: at once; 10 s by default)
 * @param pipelineDepth in transaction pooling, how many clients' autocommit reads one backend connection may have in
 *                    flight at once, sent one behind the other (1, the default: one at a time; docs/proxy.md, "Pipelining")
 * @param pipelineMaxWait how long the statement a backend answers now may have run for another client's read to be
 *                    sent behind it (2 ms by default): no read waits long behind a slow statement
 */
public record ProxyConfig(String listenHost, int listenPort, int maxClients, int maxMessageBytes, int maxPipelineBytes,
                          int maxPipelineMessages, int maxIdlePerNode, Duration connectTimeout,
                          Duration authTimeout, Map<String, Secret> users, ClientAuth auth, Path tlsCertificate,
                          Path tlsKey, PoolMode poolMode, Duration drainTimeout,
                          int pipelineDepth, Duration pipelineMaxWait) {

    public ProxyConfig {
        Objects.requireNonNull(listenHost, "listenHost");
        Objects.requireNonNull(poolMode, "poolMode");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(auth, "auth");
        users = Collections.unmodifiableMap(new LinkedHashMap<>(users));
        if (pipelineDepth < 1 || pipelineDepth > MAX_PIPELINE_DEPTH) {
            throw new IllegalArgumentException("pipelineDepth must be 1.." + MAX_PIPELINE_DEPTH + ": " + pipelineDepth);
        }
        Objects.requireNonNull(pipelineMaxWait, "pipelineMaxWait");
        if (pipelineDepth > 1 && poolMode != PoolMode.TRANSACTION) {
            throw new IllegalArgumentException("pipelineDepth " + pipelineDepth + " needs transaction pooling (poolMode"
                    + " transaction): in session mode each client keeps its backends to itself");
        }
    }

    /** The most clients' statements one backend connection may have in flight ({@link #pipelineDepth}). */
    public static final int MAX_PIPELINE_DEPTH = 64;

    /** Whether any client user is accepted without a password. */
    public boolean trust() {
        return auth == ClientAuth.TRUST;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        return "ProxyConfig[listen=" + listenHost + ":" + listenPort + ", maxClients=" + maxClients + ", users="
                + users.keySet() + ", auth=" + auth.label() + ", tls=" + (tlsCertificate != null) + ", poolMode="
                + poolMode.name().toLowerCase(java.util.Locale.ROOT) + ", drainTimeout=" + drainTimeout
                + ", pipelineDepth=" + pipelineDepth + ", pipelineMaxWait=" + pipelineMaxWait + "]";
    }

    /** Builds a {@link ProxyConfig}; each setter checks its argument at once. */
    public static final class Builder {
        private String listenHost = "127.0.0.1";
        private int listenPort = 6432;
        private int maxClients = 1000;
        private int maxMessageBytes = 64 * 1024 * 1024;
        private int maxPipelineBytes = 64 * 1024 * 1024;
        private int maxPipelineMessages = 100_000;
        private int maxIdlePerNode = 32;
        private Duration connectTimeout = Duration.ofSeconds(5);
        private Duration authTimeout = Duration.ofSeconds(10);
        private PoolMode poolMode = PoolMode.SESSION;
        private Duration drainTimeout = Duration.ofSeconds(10);
        private int pipelineDepth = 1;
        private Duration pipelineMaxWait = Duration.ofMillis(2);
        private final Map<String, Secret> users = new LinkedHashMap<>();
        private ClientAuth auth = ClientAuth.SCRAM_SHA_256;
        private Path tlsCertificate;
        private Path tlsKey;

        private Builder() {
        }

        /** {@code HOST:PORT}; port 0 picks a free one. */
        public Builder listen(String hostPort) {
            int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("listen must be HOST:PORT: " + hostPort);
            }
            listenHost = hostPort.substring(0, colon);
            try {
                return listenPort(Integer.parseInt(hostPort.substring(colon + 1)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("listen port is not a number: " + hostPort);
            }
        }

        public Builder listenPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("listen port out of range: " + port);
            }
            listenPort = port;
            return this;
        }

        public Builder maxClients(int n) {
            maxClients = positive("maxClients", n);
            return this;
        }

        public Builder maxMessageBytes(int n) {
            maxMessageBytes = atLeast("maxMessageBytes", n, 1024);
            return this;
        }

        public Builder maxPipelineBytes(int n) {
            maxPipelineBytes = atLeast("maxPipelineBytes", n, 1024);
            return this;
        }

        public Builder maxPipelineMessages(int n) {
            maxPipelineMessages = positive("maxPipelineMessages", n);
            return this;
        }

        public Builder maxIdlePerNode(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("maxIdlePerNode cannot be negative: " + n);
            }
            maxIdlePerNode = n;
            return this;
        }

        public Builder connectTimeout(Duration d) {
            connectTimeout = positive("connectTimeout", d);
            return this;
        }

        public Builder authTimeout(Duration d) {
            authTimeout = positive("authTimeout", d);
            return this;
        }

        /**
         * A client user with its password: plain, or as PostgreSQL stores it (an {@code md5...} hash for md5, a
         * {@code SCRAM-SHA-256$...} verifier for SCRAM-SHA-256).
         */
        public Builder user(String name, Secret password) {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("user name cannot be empty");
            }
            if (password == null || password.isEmpty()) {
                throw new IllegalArgumentException("user " + name + " needs a password (or use trust)");
            }
            if (users.containsKey(name)) {
                throw new IllegalArgumentException("client user " + name + " is configured twice");
            }
            users.put(name, password);
            return this;
        }

        /** Every user of {@code list} (e.g. {@link UserList#read}), as by {@link #user}. */
        public Builder users(Map<String, Secret> list) {
            list.forEach(this::user);
            return this;
        }

        /** How clients authenticate (default {@link ClientAuth#SCRAM_SHA_256}). */
        public Builder auth(ClientAuth method) {
            auth = Objects.requireNonNull(method, "auth");
            return this;
        }

        /** Accept any client user without a password ({@code auth(TRUST)}); false leaves another method alone. */
        public Builder trust(boolean on) {
            if (on) {
                auth = ClientAuth.TRUST;
            } else if (auth == ClientAuth.TRUST) {
                auth = ClientAuth.SCRAM_SHA_256;
            }
            return this;
        }

        /** TLS for clients that send an SSLRequest: a PEM certificate (chain) and its PEM PKCS#8 private key. */
        public Builder tls(Path certificate, Path key) {
            for (Path p : new Path[] {certificate, key}) {
                if (p == null || !Files.isReadable(p)) {
                    throw new IllegalArgumentException("TLS certificate and key must be readable files: " + p);
                }
            }
            tlsCertificate = certificate;
            tlsKey = key;
            return this;
        }

        /** When client sessions give their backends back: {@link PoolMode#SESSION} (default) or per transaction. */
        public Builder poolMode(PoolMode mode) {
            poolMode = Objects.requireNonNull(mode, "poolMode");
            return this;
        }

        /**
         * How long {@link ProxyServer#close()} waits for clients inside a transaction or running a statement to reach
         * the end of it (each is closed there, an idle one at once) before it closes the rest; {@link Duration#ZERO}
         * closes every client at once. Default 10 s.
         */
        public Builder drainTimeout(Duration d) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException("drainTimeout cannot be negative: " + d);
            }
            drainTimeout = d;
            return this;
        }

        /**
         * In transaction pooling, how many clients' autocommit reads one backend connection may have in flight at once,
         * each sent behind the one before without waiting for its answer (1..{@value ProxyConfig#MAX_PIPELINE_DEPTH};
         * 1, the default, sends one at a time). Needs {@link PoolMode#TRANSACTION}; see docs/proxy.md, "Pipelining".
         */
        public Builder pipelineDepth(int depth) {
            if (depth < 1 || depth > MAX_PIPELINE_DEPTH) {
                throw new IllegalArgumentException("pipelineDepth must be 1.." + MAX_PIPELINE_DEPTH + ": " + depth);
            }
            pipelineDepth = depth;
            return this;
        }

        /**
         * With pipelining, how long the statement a backend connection answers now may have run for another client's
         * read to be sent behind it (default 2 ms; at most 1 minute): a read never waits long behind a slow statement,
         * it takes another connection instead.
         */
        public Builder pipelineMaxWait(Duration d) {
            if (d == null || d.isNegative() || d.isZero() || d.compareTo(Duration.ofMinutes(1)) > 0) {
                throw new IllegalArgumentException("pipelineMaxWait must be above 0 and at most 1 minute: " + d);
            }
            pipelineMaxWait = d;
            return this;
        }

        public ProxyConfig build() {
            checkAuth();
            if (maxPipelineBytes < maxMessageBytes) {
                throw new IllegalArgumentException("maxPipelineBytes (" + maxPipelineBytes
                        + ") cannot be smaller than maxMessageBytes (" + maxMessageBytes + ")");
            }
            return new ProxyConfig(listenHost, listenPort, maxClients, maxMessageBytes, maxPipelineBytes,
                    maxPipelineMessages, maxIdlePerNode, connectTimeout, authTimeout, users, auth, tlsCertificate, tlsKey,
                    poolMode, drainTimeout, pipelineDepth, pipelineMaxWait);
        }

        /** Each method's needs: a user list whose entries it can use, or (passthrough) none and a safe channel. */
        private void checkAuth() {
            switch (auth) {
                case TRUST -> { }
                case SCRAM_SHA_256, MD5 -> {
                    if (users.isEmpty()) {
                        throw new IllegalArgumentException(auth.label() + " authentication needs at least one client"
                                + " user (a user list, or a user and password), or trust or passthrough authentication");
                    }
                    for (Map.Entry<String, Secret> e : users.entrySet()) {
                        String stored = e.getValue().reveal();
                        if (auth == ClientAuth.SCRAM_SHA_256 && ClientCredentials.isMd5Hash(stored)) {
                            throw new IllegalArgumentException("client user " + e.getKey() + " has an md5 hash as"
                                    + " password: it can serve md5 authentication only, not scram-sha-256 (give the"
                                    + " plain password or its SCRAM-SHA-256 verifier)");
                        }
                        if (auth == ClientAuth.MD5 && stored.startsWith(Scram.VERIFIER_PREFIX)) {
                            throw new IllegalArgumentException("client user " + e.getKey() + " has a SCRAM-SHA-256"
                                    + " verifier as password: it can serve scram-sha-256 only, not md5 (give the plain"
                                    + " password or its md5 hash)");
                        }
                        if (auth == ClientAuth.SCRAM_SHA_256 && stored.startsWith(Scram.VERIFIER_PREFIX)) {
                            Scram.Verifier.parse(stored, e.getKey()); // malformed: named now, not at the first login
                        }
                    }
                }
                case PASSTHROUGH -> {
                    if (!users.isEmpty()) {
                        throw new IllegalArgumentException("passthrough authentication checks every password at the"
                                + " primary: a client user list (" + users.keySet() + ") would be ignored; remove it");
                    }
                    if (tlsCertificate == null && !loopback(listenHost)) {
                        throw new IllegalArgumentException("passthrough authentication receives each client's password"
                                + " in clear text: it needs TLS (a certificate and key) or a loopback listen address,"
                                + " not " + listenHost);
                    }
                }
            }
        }

        private static boolean loopback(String host) {
            try {
                return java.net.InetAddress.getByName(host).isLoopbackAddress();
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException("listen host " + host + " cannot be resolved");
            }
        }

        private static int positive(String what, int n) {
            if (n <= 0) {
                throw new IllegalArgumentException(what + " must be positive: " + n);
            }
            return n;
        }

        private static int atLeast(String what, int n, int min) {
            if (n < min) {
                throw new IllegalArgumentException(what + " must be at least " + min + ": " + n);
            }
            return n;
        }

        private static Duration positive(String what, Duration d) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException(what + " must be positive: " + d);
            }
            return d;
        }
    }
}

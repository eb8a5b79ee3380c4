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
 * @param users       client users and their passwords, checked by SCRAM-SHA-256; empty with {@code trust}
 * @param trust       accept any client user without a password (loopback tests, trusted networks only)
 * @param tlsCertificate the PEM certificate (chain) served to clients that ask for TLS, or null: no TLS
 * @param tlsKey      its PEM (PKCS#8) private key, or null
 */
public record ProxyConfig(String listenHost, int listenPort, int maxClients, int maxMessageBytes, int maxPipelineBytes,
                          int maxPipelineMessages, int maxIdlePerNode, Duration connectTimeout,
                          Duration authTimeout, Map<String, Secret> users, boolean trust, Path tlsCertificate,
                          Path tlsKey) {

    public ProxyConfig {
        Objects.requireNonNull(listenHost, "listenHost");
        users = Collections.unmodifiableMap(new LinkedHashMap<>(users));
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        return "ProxyConfig[listen=" + listenHost + ":" + listenPort + ", maxClients=" + maxClients + ", users="
                + users.keySet() + ", trust=" + trust + ", tls=" + (tlsCertificate != null) + "]";
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
        private final Map<String, Secret> users = new LinkedHashMap<>();
        private boolean trust;
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

        /** A client user, authenticated by SCRAM-SHA-256 with {@code password}. */
        public Builder user(String name, Secret password) {
            if (name == null || name.isEmpty()) {
                throw new IllegalArgumentException("user name cannot be empty");
            }
            if (password == null || password.isEmpty()) {
                throw new IllegalArgumentException("user " + name + " needs a password (or use trust)");
            }
            users.put(name, password);
            return this;
        }

        /** Accept any client user without a password. */
        public Builder trust(boolean on) {
            trust = on;
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

        public ProxyConfig build() {
            if (!trust && users.isEmpty()) {
                throw new IllegalArgumentException("the proxy needs at least one client user, or trust authentication");
            }
            if (maxPipelineBytes < maxMessageBytes) {
                throw new IllegalArgumentException("maxPipelineBytes (" + maxPipelineBytes
                        + ") cannot be smaller than maxMessageBytes (" + maxMessageBytes + ")");
            }
            return new ProxyConfig(listenHost, listenPort, maxClients, maxMessageBytes, maxPipelineBytes,
                    maxPipelineMessages, maxIdlePerNode, connectTimeout, authTimeout, users, trust, tlsCertificate, tlsKey);
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

package dev.readsplit.cli;

import dev.readsplit.admin.AdminOptions;
import dev.readsplit.admin.AdminServer;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Secret;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.proxy.ClientAuth;
import dev.readsplit.proxy.ProxyConfig;
import dev.readsplit.proxy.ProxyServer;
import dev.readsplit.proxy.UserList;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Callable;

/**
 * {@code readsplit proxy}: a PostgreSQL wire-protocol proxy on {@code --listen}, routing every client's statements with
 * the configured cluster's router (see {@code docs/proxy.md}). Runs until Ctrl-C, or for {@code --duration}.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true,
        description = {"Serve the cluster to PostgreSQL clients in any language (psql, pgbench, psycopg, node-postgres, "
                + "pgx, tokio-postgres...) over the wire protocol, with Readsplit's routing and read-your-writes.",
            "Configuration: --url, else --config, else the environment, as for check. Clients log in with the "
                + "configured database user and password (SCRAM-SHA-256) unless --users, --client-user, --auth or "
                + "--trust say otherwise."})
final class ProxyCommand implements Callable<Integer> {

    static final String CLIENT_PASSWORD_ENV = "READSPLIT_PROXY_PASSWORD";
    static final String USERS_FILE_ENV = "READSPLIT_PROXY_USERS_FILE";

    @Mixin
    ConfigOptions source = new ConfigOptions();

    @Option(names = "--listen", defaultValue = "127.0.0.1:6432", paramLabel = "HOST:PORT",
            description = "Where to listen (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--client-user", paramLabel = "NAME",
            description = "The user clients log in as, with the password in $" + CLIENT_PASSWORD_ENV
                    + " (default: the configured database user and password).")
    String clientUser;

    @Option(names = "--trust", description = "Accept clients without a password (trusted networks only); same as"
            + " --auth trust.")
    boolean trust;

    @Option(names = "--auth", paramLabel = "METHOD", description = "Client authentication: scram-sha-256 (default),"
            + " md5, trust, or passthrough (each client's password checked by logging in to the primary as that user;"
            + " needs TLS or a loopback --listen).")
    String auth;

    @Option(names = "--users", paramLabel = "FILE", description = "Client users and passwords, PgBouncer's"
            + " userlist.txt format (\"name\" \"password\" per line; plain, md5 hash or SCRAM-SHA-256 verifier);"
            + " default: $" + USERS_FILE_ENV + ".")
    java.nio.file.Path usersFile;

    @Option(names = "--admin-port", paramLabel = "PORT", description = "Also start the admin server and dashboard"
            + " on 127.0.0.1:PORT (0: a free port), with the proxy's clients, backends and meters (default: none).")
    Integer adminPort;

    @Option(names = "--tls-cert", paramLabel = "FILE",
            description = "PEM certificate (chain) for clients that ask for TLS (with --tls-key); default: no TLS.")
    java.nio.file.Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM (PKCS#8) private key of --tls-cert.")
    java.nio.file.Path tlsKey;

    @Option(names = "--max-clients", defaultValue = "1000", description = "Client connections at most (default: "
            + "${DEFAULT-VALUE}).")
    int maxClients;

    @Option(names = "--pool-mode", paramLabel = "MODE", defaultValue = "session", description = "When a client's"
            + " backends go back to the pool: session (when it leaves, the default) or transaction (at each"
            + " transaction's end, unless it holds state that cannot move; see docs/proxy.md).")
    String poolMode;

    @Option(names = "--pipeline-depth", paramLabel = "N", defaultValue = "1", description = "With --pool-mode"
            + " transaction: how many clients' autocommit reads one server connection may have in flight at once, each"
            + " sent behind the one before (1..64; default ${DEFAULT-VALUE}: one at a time; see docs/proxy.md,"
            + " Pipelining).")
    int pipelineDepth;

    @Option(names = "--drain-timeout", converter = DurationConverter.OrZero.class, paramLabel = "DURATION",
            defaultValue = "10s", description = "At shutdown, how long clients inside a transaction may take to end"
            + " it (each client is closed with 57P01 once outside one; the rest after this; 0s: close them all at"
            + " once; at most 1d; default: ${DEFAULT-VALUE}).")
    Duration drainTimeout;

    @Option(names = "--duration", converter = DurationConverter.class, paramLabel = "DURATION",
            description = "Stop after this long (default: run until interrupted).")
    Duration duration;

    @ParentCommand
    ReadsplitCommand parent;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ReadsplitConfig config = source.load(parent.env());
        ProxyConfig.Builder b = ProxyConfig.builder();
        ClientAuth method;
        try {
            method = auth == null ? (trust ? ClientAuth.TRUST : ClientAuth.SCRAM_SHA_256) : ClientAuth.parse(auth);
            if (trust && method != ClientAuth.TRUST) {
                throw new IllegalArgumentException("--trust contradicts --auth " + auth);
            }
            if (adminPort != null && (adminPort < 0 || adminPort > 65535)) {
                throw new IllegalArgumentException("--admin-port must be 0..65535: " + adminPort);
            }
            b.listen(listen).maxClients(maxClients).auth(method).poolMode(dev.readsplit.proxy.PoolMode.parse(poolMode))
                    .drainTimeout(drainTimeout).pipelineDepth(pipelineDepth);
            DurationConverter.checkRange(spec.commandLine(), "--drain-timeout", drainTimeout, Duration.ZERO,
                    Duration.ofDays(1));
            if (tlsCert != null || tlsKey != null) {
                b.tls(tlsCert, tlsKey);
            }
            java.nio.file.Path list = usersFile;
            String fromEnv = parent.env().get(USERS_FILE_ENV);
            if (list == null && fromEnv != null && !fromEnv.isBlank()) {
                list = java.nio.file.Path.of(fromEnv);
            }
            if (list != null) {
                if (method == ClientAuth.TRUST || method == ClientAuth.PASSTHROUGH) {
                    throw new IllegalArgumentException((usersFile != null ? "--users" : "$" + USERS_FILE_ENV)
                            + " has no use with --auth " + method.label() + ": remove it");
                }
                b.users(UserList.read(list));
            }
            if (method == ClientAuth.SCRAM_SHA_256 || method == ClientAuth.MD5) {
                if (clientUser != null) {
                    String pw = parent.env().get(CLIENT_PASSWORD_ENV);
                    if (pw == null || pw.isEmpty()) {
                        throw new ParameterException(spec.commandLine(), "--client-user " + clientUser + " needs its"
                                + " password in $" + CLIENT_PASSWORD_ENV);
                    }
                    b.user(clientUser, Secret.of(pw));
                } else if (list == null) {
                    Secret pw = config.primary().password();
                    if (pw == null || pw.isEmpty()) {
                        throw new ParameterException(spec.commandLine(), "the configured user has no password: give"
                                + " --client-user with $" + CLIENT_PASSWORD_ENV + ", or --trust");
                    }
                    b.user(config.primary().user(), pw);
                }
            } else if (clientUser != null) {
                throw new IllegalArgumentException("--client-user has no use with --auth " + method.label()
                        + ": remove it");
            }
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        ProxyConfig proxyConfig;
        try {
            proxyConfig = b.build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                closed.await(15, TimeUnit.SECONDS); // Ctrl-C: let the clients' sessions end and the pools close
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "readsplit-proxy-ctrl-c");
        Runtime.getRuntime().addShutdownHook(hook);
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config);
             ProxyServer proxy = ProxyServer.start(ds, proxyConfig)) {
            AdminServer admin = adminPort == null ? null : AdminServer.start(ds, AdminOptions.builder()
                    .port(adminPort).proxy(() -> proxy.status().toJson(), proxy.metrics()).build());
            try {
                serve(proxy, admin, ds, config, proxyConfig, out, stop);
            } finally {
                if (admin != null) {
                    admin.close();
                }
            }
        } finally {
            closed.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down
            }
        }
        return ReadsplitCommand.EXIT_OK;
    }

    /** Says where it listens, then waits for Ctrl-C, the end of {@code --duration} or an interrupt. */
    private void serve(ProxyServer proxy, AdminServer admin, ReadsplitDataSource ds, ReadsplitConfig config,
                       ProxyConfig proxyConfig, PrintWriter out, CountDownLatch stop) {
        out.println("readsplit proxy: listening on " + proxy.address().getHostString() + ":"
                + proxy.address().getPort() + " for " + ds.topology().nodes().size() + " nodes of "
                + config.primary().database() + " (config from " + source.describe() + ", clients by "
                + proxyConfig.auth().label() + ")");
        if (admin != null) {
            out.println("readsplit proxy: admin server and dashboard on " + admin.uri());
        }
        out.flush();
        try {
            if (duration != null) {
                stop.await(duration.toMillis(), TimeUnit.MILLISECONDS);
            } else {
                stop.await();
            }
        } catch (InterruptedException e) {
            // interrupted (an embedding program stopping it): stop like Ctrl-C
        }
        out.println("readsplit proxy: stopping");
        out.flush();
    }
}

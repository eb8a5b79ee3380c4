package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.readsplit.Role;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.metrics.ReadsplitMetrics;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.TopologyEvent;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Secret hygiene across a fault scenario (issue 9): distinctive passwords (the cluster's, a wrong one on one
 * node, a secret-named jdbc property) and an admin token must appear in no log line (captured from logback
 * at DEBUG for readsplit and HikariCP), exception message or stack trace, {@code toString} (config, nodes,
 * data source, connections, statements, events), status JSON or metric id/value, while a replica is killed
 * and restarted and a node answers with authentication errors.
 */
class SecretHygieneIT {

    private static final String PASSWORD = "Sekr1t-Cluster-Pw-9f3e";
    private static final String WRONG = "Wr0ng-Node-Pw-77ab";
    private static final String TOKEN = "Adm1n-Tok3n-4d2c";
    private static final String SSL_KEY_PASSWORD = "Ssl-Key-Pw-31xq";
    private static final List<String> SECRETS = List.of(PASSWORD, WRONG, TOKEN, SSL_KEY_PASSWORD);
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static EmbeddedCluster cluster;
    private static ListAppender<ILoggingEvent> logs;
    private static final Map<String, Level> levelsBefore = new java.util.HashMap<>();

    @BeforeAll
    static void start() {
        logs = new ListAppender<>();
        logs.start();
        root().addAppender(logs);
        for (String name : List.of("dev.readsplit", "com.zaxxer.hikari")) {
            // DEBUG into the list only (not additive): the console keeps its usual INFO output
            Logger l = (Logger) LoggerFactory.getLogger(name);
            levelsBefore.put(name, l.getLevel());
            l.setLevel(Level.DEBUG);
            l.addAppender(logs);
            l.setAdditive(false);
        }
        cluster = EmbeddedCluster.builder().standbys(2).password(PASSWORD).start();
        Clusters.exec(cluster.primary(), "CREATE TABLE t (id bigserial PRIMARY KEY)");
    }

    @AfterAll
    static void stop() {
        levelsBefore.forEach((name, level) -> {
            Logger l = (Logger) LoggerFactory.getLogger(name);
            l.setLevel(level);
            l.detachAppender(logs);
            l.setAdditive(true);
        });
        root().detachAppender(logs);
        if (cluster != null) {
            cluster.close();
        }
    }

    private static Logger root() {
        return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    }

    private static Node nodeOf(ReadsplitDataSource ds, EmbeddedNode n) {
        return Topology.of(ds).nodes().stream().filter(x -> x.config().port() == n.port()).findFirst().orElseThrow();
    }

    @Test
    void noSecretInLogsExceptionsToStringStatusOrMetricsAcrossFaults() throws Exception {
        List<String> texts = new ArrayList<>();
        List<Throwable> thrown = new CopyOnWriteArrayList<>();
        ReadsplitConfig config = ReadsplitConfig.builder().name("secrets")
                .primary(cluster.primary().host(), cluster.primary().port())
                .addReplica(cluster.standby(0).host(), cluster.standby(0).port())
                .addReplica(NodeConfig.builder().host(cluster.standby(1).host()).port(cluster.standby(1).port())
                        .password(WRONG).build())
                .database(cluster.database()).user(cluster.user()).password(PASSWORD)
                .jdbcProperty("sslpassword", SSL_KEY_PASSWORD)
                .adminToken(TOKEN)
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000))
                .connectionTimeout(Duration.ofMillis(1000))
                .build();
        ReadsplitConfig allWrong = ReadsplitConfig.builder().name("secrets-auth")
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database()).user(cluster.user()).password(WRONG)
                .healthCheckInterval(Duration.ofMillis(200)).connectionTimeout(Duration.ofMillis(1000))
                .build();
        texts.add(config.toString());
        texts.add(allWrong.toString());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        List<TopologyEvent> events = new CopyOnWriteArrayList<>();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config);
             ReadsplitDataSource auth = new ReadsplitDataSource(allWrong);
             ReadsplitMetrics metrics = new ReadsplitMetrics(ds)) {
            metrics.bindTo(registry);
            Topology.of(ds).addListener(events::add);
            Node wrongNode = nodeOf(ds, cluster.standby(1));
            Node victim = nodeOf(ds, cluster.standby(0));

            // readers and a writer throughout
            AtomicBoolean running = new AtomicBoolean(true);
            ConcurrentLinkedQueue<String> seen = new ConcurrentLinkedQueue<>();
            List<Thread> load = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                boolean writer = i == 0;
                Thread t = new Thread(() -> {
                    while (running.get()) {
                        try (Connection c = ds.getConnection();
                             PreparedStatement ps = c.prepareStatement(writer ? "INSERT INTO t DEFAULT VALUES RETURNING id"
                                     : "SELECT inet_server_port()")) {
                            seen.add(c.toString());
                            seen.add(ps.toString());
                            for (int n = 0; n < 20 && running.get(); n++) {
                                try (ResultSet rs = ps.executeQuery()) {
                                    rs.next();
                                }
                            }
                        } catch (SQLException e) {
                            thrown.add(e);
                        }
                    }
                }, "secrets-load-" + i);
                t.setDaemon(true);
                load.add(t);
                t.start();
            }
            try {
                // the node with the wrong password: authentication errors, DOWN
                await().atMost(WAIT).until(() -> wrongNode.state() == NodeState.DOWN);
                assertThat(wrongNode.lastError()).contains("28P01").contains("password authentication failed");
                // a replica killed and restarted under the load
                cluster.standby(0).kill();
                await().atMost(WAIT).until(() -> victim.state() == NodeState.DOWN);
                cluster.standby(0).start();
                await().atMost(WAIT).until(() -> victim.state() == NodeState.UP);

                // a data source whose every node refuses the password: writes fail, before and after DOWN
                for (int i = 0; i < 2; i++) {
                    try (Connection c = auth.getConnection(); Statement s = c.createStatement()) {
                        thrown.add(assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO t DEFAULT VALUES")));
                    }
                    await().atMost(WAIT).until(() -> Topology.of(auth).primary().state() == NodeState.DOWN);
                }
                // the driver: a password in the URL and in the properties, with a typo that fails the URL
                Properties info = new Properties();
                info.setProperty("password", PASSWORD);
                thrown.add(assertThrows(SQLException.class, () -> DriverManager.getConnection("jdbc:readsplit:postgresql://127.0.0.1:"
                        + cluster.primary().port() + "/" + cluster.database() + "?user=" + cluster.user()
                        + "&password=" + WRONG + "&consistncy=strong", info)));
                // status, events and metrics while a node is DOWN
                texts.add(StatusSnapshot.of(ds).toJson());
                texts.add(StatusSnapshot.of(ds).toString());
                texts.add(StatusSnapshot.of(ds).eventsJson());
                texts.add(StatusSnapshot.of(auth).toJson());
                texts.add(metrics.snapshot().toString());
                for (Meter m : registry.getMeters()) {
                    texts.add(m.getId().toString());
                    m.measure().forEach(x -> texts.add(x.toString()));
                }
                try (ReadsplitConnection c = ds.getConnection(Role.PRIMARY); Statement s = c.createStatement()) {
                    s.execute("SELECT 1");
                    texts.add(c.toString());
                    texts.add(s.toString());
                }
            } finally {
                running.set(false);
                for (Thread t : load) {
                    t.join(WAIT.toMillis());
                }
            }
            texts.addAll(seen);
            texts.add(ds.toString());
            texts.add(auth.toString());
            Topology.of(ds).nodes().forEach(n -> {
                texts.add(n.toString());
                texts.add(n.config().toString());
                texts.add(String.valueOf(n.lastError()));
            });
            Topology.of(auth).nodes().forEach(n -> texts.add(n.toString() + " " + n.config() + " " + n.lastError()));
            events.forEach(e -> texts.add(e.toString()));
            ds.recentEvents().forEach(e -> texts.add(e.toString()));
            auth.recentEvents().forEach(e -> texts.add(e.toString()));
        }
        for (Throwable t : thrown) {
            StringWriter w = new StringWriter();
            t.printStackTrace(new PrintWriter(w));
            texts.add(w.toString());
        }
        List<String> logLines = new ArrayList<>();
        for (ILoggingEvent e : List.copyOf(logs.list)) {
            logLines.add(e.getLevel() + " " + e.getLoggerName() + " " + e.getFormattedMessage());
            for (IThrowableProxy p = e.getThrowableProxy(); p != null; p = p.getCause()) {
                logLines.add(p.getClassName() + ": " + p.getMessage());
            }
        }
        // what was looked at really covers the faults
        assertThat(logLines).anyMatch(l -> l.contains("28P01"));
        assertThat(logLines).anyMatch(l -> l.startsWith("DEBUG com.zaxxer.hikari"));
        assertThat(thrown).isNotEmpty();
        assertThat(texts).anyMatch(t -> t.contains("password authentication failed"));
        System.out.printf("SecretHygieneIT: %d log lines, %d exceptions, %d other texts checked%n",
                logLines.size(), thrown.size(), texts.size());
        for (String secret : SECRETS) {
            assertThat(logLines).as("log lines containing " + secret).noneMatch(l -> l.contains(secret));
            assertThat(texts).as("texts containing " + secret).noneMatch(l -> l.contains(secret));
        }
    }
}

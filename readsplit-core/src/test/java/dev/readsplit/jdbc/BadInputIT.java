package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.readsplit.jdbc.Clusters.exec;
import static dev.readsplit.jdbc.Clusters.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Bad input at start (issue 9): a replica at a closed port, a primary at a closed port, nodes that are not
 * PostgreSQL (a silent TCP server, an HTTP server), and a configured replica that is really a primary (of
 * another cluster). Each asserts the message the user sees: log lines (captured from logback), node errors,
 * events and exceptions.
 */
class BadInputIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static EmbeddedCluster cluster;
    private static EmbeddedCluster other;
    private static ListAppender<ILoggingEvent> logs;
    private static final List<AutoCloseable> fakes = new ArrayList<>();

    @BeforeAll
    static void start() {
        logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
        cluster = EmbeddedCluster.builder().standbys(1).password("Bad-Input-Pw").start();
        exec(cluster.primary(), "CREATE TABLE t (id bigserial PRIMARY KEY)");
        await().atMost(WAIT).until(() -> queryLong(cluster.standby(0), "SELECT count(*) FROM pg_class WHERE relname = 't'") == 1);
    }

    @AfterAll
    static void stop() throws Exception {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        for (AutoCloseable f : fakes) {
            f.close();
        }
        if (other != null) {
            other.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ReadsplitConfig.Builder base(String name) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name(name)
                .database(cluster.database()).user(cluster.user()).password(cluster.password())
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000))
                .connectionTimeout(Duration.ofMillis(1000));
        return b;
    }

    /** WARN and ERROR lines, from any logger, that mention {@code text}. */
    private static List<String> warnings(String text) {
        List<String> out = new ArrayList<>();
        for (ILoggingEvent e : List.copyOf(logs.list)) {
            if (e.getLevel().isGreaterOrEqual(Level.WARN) && e.getFormattedMessage().contains(text)) {
                out.add(e.getLevel() + " " + e.getFormattedMessage());
            }
        }
        return out;
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Node node(ReadsplitDataSource ds, int port) {
        return Topology.of(ds).nodes().stream().filter(n -> n.config().port() == port).findFirst().orElseThrow();
    }

    private static int readPort(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void aReplicaAtAClosedPortStartsDegradedWithOneWarnAndReadsGoToTheOthers() throws Exception {
        int dead = closedPort();
        ReadsplitConfig config = base("bad-replica")
                .primary(cluster.primary().host(), cluster.primary().port())
                .addReplica(cluster.standby(0).host(), cluster.standby(0).port())
                .addReplica("127.0.0.1", dead)
                .build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            Node deadNode = node(ds, dead);
            // reads from the first moment: none fails, whatever the dead replica's state
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 50; i++) {
                    assertThat(readPort(c)).isEqualTo(cluster.standby(0).port());
                }
            }
            await().atMost(WAIT).until(() -> deadNode.state() == NodeState.DOWN);
            // a few more checks fail: still one line
            long checks = deadNode.healthCheckFailures();
            await().atMost(WAIT).until(() -> deadNode.healthCheckFailures() >= checks + 5);
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 50; i++) {
                    assertThat(readPort(c)).isEqualTo(cluster.standby(0).port());
                }
            }
            assertThat(warnings(deadNode.name())).singleElement().asString()
                    .isEqualTo("WARN bad-replica: node " + deadNode.name() + " SUSPECT -> DOWN: 3 consecutive failed checks;"
                            + " last: [08001] Connection to " + deadNode.name() + " refused. Check that the hostname"
                            + " and port are correct and that the postmaster is accepting TCP/IP connections.");
            assertThat(deadNode.lastError()).contains("refused");
            assertThat(Topology.of(ds).primary().state()).isEqualTo(NodeState.UP);
        }
    }

    @Test
    void aPrimaryAtAClosedPortFailsWritesFastNamingItWhileReadsGoOn() throws Exception {
        int dead = closedPort();
        ReadsplitConfig config = base("bad-primary")
                .primary("127.0.0.1", dead)
                .addReplica(cluster.standby(0).host(), cluster.standby(0).port())
                // far longer than the wait asserted below: a write that waited for the pool would fail the test
                .connectionTimeout(Duration.ofSeconds(20))
                .build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            Node primary = Topology.of(ds).primary();
            await().atMost(WAIT).until(() -> primary.state() == NodeState.DOWN);
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 50; i++) {
                    assertThat(readPort(c)).isEqualTo(cluster.standby(0).port());
                }
                SQLException e = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertThrows(SQLException.class, () -> {
                    try (Statement s = c.createStatement()) {
                        s.executeUpdate("INSERT INTO t DEFAULT VALUES");
                    }
                }));
                assertThat((Throwable) e).isInstanceOf(SQLTransientConnectionException.class);
                assertThat(e.getSQLState()).isEqualTo("08001");
                assertThat(e.getMessage()).isEqualTo("bad-primary: cannot get a connection to " + primary.name() + ": node "
                        + primary.name() + " (PRIMARY) is DOWN: 3 consecutive failed checks; last: [08001] Connection to "
                        + primary.name() + " refused. Check that the hostname and port are correct and that the"
                        + " postmaster is accepting TCP/IP connections.");
                // reads still go on after the failed write (the session has no write to wait for)
                assertThat(readPort(c)).isEqualTo(cluster.standby(0).port());
            }
            assertThat(warnings(primary.name())).hasSize(1);
        }
    }

    @Test
    void nodesThatAreNotPostgresAreDownWithAClearReason() throws Exception {
        FakeServer silent = FakeServer.silent();
        FakeServer http = FakeServer.http();
        ReadsplitConfig config = base("not-pg")
                .primary(cluster.primary().host(), cluster.primary().port())
                .addReplica(cluster.standby(0).host(), cluster.standby(0).port())
                .addReplica("127.0.0.1", silent.port())
                .addReplica("127.0.0.1", http.port())
                .build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            Node silentNode = node(ds, silent.port());
            Node httpNode = node(ds, http.port());
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 30; i++) {
                    assertThat(readPort(c)).isEqualTo(cluster.standby(0).port());
                }
            }
            await().atMost(WAIT).until(() -> silentNode.state() == NodeState.DOWN && httpNode.state() == NodeState.DOWN);
            assertThat(silentNode.lastError()).isEqualTo("3 consecutive failed checks; last: no answer within 1000 ms");
            assertThat(httpNode.lastError()).isEqualTo("3 consecutive failed checks; last: [08P01] An error occurred while"
                    + " setting up the SSL connection. (protocol violation: the server does not speak the PostgreSQL"
                    + " protocol; is it a PostgreSQL server?)");
            assertThat(warnings(silentNode.name())).hasSize(1);
            assertThat(warnings(httpNode.name())).hasSize(1);
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 30; i++) {
                    assertThat(readPort(c)).isEqualTo(cluster.standby(0).port());
                }
            }
        }
    }

    @Test
    void aConfiguredReplicaThatIsReallyAPrimaryIsReportedFencedAndGetsNoStatement() throws Exception {
        other = EmbeddedCluster.builder().standbys(0).start(); // another cluster's primary (trust auth)
        exec(other.primary(), "CREATE TABLE t (id bigserial PRIMARY KEY)");
        List<TopologyEvent> events = new CopyOnWriteArrayList<>();
        ReadsplitConfig config = base("wrong-replica")
                .primary(cluster.primary().host(), cluster.primary().port())
                .addReplica(cluster.standby(0).host(), cluster.standby(0).port())
                .addReplica(other.primary().host(), other.primary().port())
                .build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            Topology.of(ds).addListener(events::add);
            Node wrong = node(ds, other.primary().port());
            await().atMost(WAIT).until(() -> wrong.state() == NodeState.FENCED);
            assertThat(Topology.of(ds).primary().config().port()).isEqualTo(cluster.primary().port());
            assertThat(Topology.of(ds).primary().state()).isEqualTo(NodeState.UP);
            assertThat(Topology.of(ds).replicas()).extracting(Node::name).doesNotContain(wrong.name());
            assertThat(warnings(wrong.name())).anyMatch(l -> l.equals("WARN wrong-replica: node " + wrong.name()
                    + " now reports itself PRIMARY (was REPLICA, timeline 1)"));
            assertThat(warnings(wrong.name())).anyMatch(l -> l.startsWith("ERROR wrong-replica: split brain: " + wrong.name()
                    + " (timeline 1) and " + Topology.of(ds).primary().name() + " (timeline 1) both report themselves primary"));
            assertThat(ds.recentEvents()).extracting(TopologyEvent::kind)
                    .contains(TopologyEvent.Kind.ROLE_CHANGE, TopologyEvent.Kind.SPLIT_BRAIN, TopologyEvent.Kind.FENCED);
            long before = queryLong(other.primary(), "SELECT count(*) FROM t");
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                for (int i = 0; i < 50; i++) {
                    assertThat(readPort(c)).isEqualTo(cluster.standby(0).port());
                    s.executeUpdate("INSERT INTO t DEFAULT VALUES");
                }
            }
            assertThat(wrong.readsServed() + wrong.writesServed()).isZero();
            assertThat(queryLong(other.primary(), "SELECT count(*) FROM t")).isEqualTo(before);
        }
    }

    /** A loopback TCP server that is not PostgreSQL. */
    static final class FakeServer implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> open = new CopyOnWriteArrayList<>();
        private final Thread thread;

        private FakeServer(byte[] answer) throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        if (answer == null) {
                            open.add(s); // accept and say nothing, ever
                        } else {
                            try (s; OutputStream out = s.getOutputStream()) {
                                out.write(answer);
                                out.flush();
                            }
                        }
                    } catch (IOException e) {
                        // closed
                    }
                }
            }, "fake-server");
            thread.setDaemon(true);
            thread.start();
            fakes.add(this);
        }

        static FakeServer silent() throws IOException {
            return new FakeServer(null);
        }

        static FakeServer http() throws IOException {
            return new FakeServer(("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
                    + "Connection: close\r\n\r\nBad Request").getBytes(StandardCharsets.US_ASCII));
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : open) {
                s.close();
            }
        }
    }
}

package dev.readsplit.it;

import dev.readsplit.Role;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitConnection;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;
import org.postgresql.largeobject.LargeObject;
import org.postgresql.largeobject.LargeObjectManager;

import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static dev.readsplit.it.Placement.port;
import static dev.readsplit.it.Placement.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * pgjdbc's own API through a Readsplit logical connection (issue 14, items 1 and 2): {@code unwrap(PGConnection)}
 * pins the logical connection to one node and hands out that physical connection (COPY in and out, LISTEN/NOTIFY,
 * large objects), and {@code cancel()}/{@code setQueryTimeout} act on whatever statement runs now, on any node.
 */
class PgjdbcApiIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static int primaryPort;
    private static Set<Integer> standbyPorts;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password("Pgjdbc-Api-pw1").start();
        Placement.exec(cluster.primary(), "CREATE TABLE copied (v text, written_on int DEFAULT inet_server_port())");
        Placement.exec(cluster.primary(), "CREATE TABLE copied_then_read (v text)");
        ds = new ReadsplitDataSource(Placement.config(cluster, "pgjdbc-api").build());
        Placement.awaitAllUp(ds);
        Placement.awaitReplayed(cluster);
        primaryPort = cluster.primary().port();
        standbyPorts = Placement.standbyPorts(cluster);
    }

    @AfterAll
    static void stop() {
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void unwrapOnAPrimaryConnectionGivesCopyInAndOutThere() throws Exception {
        try (Connection c = ds.getConnection(Role.PRIMARY)) {
            assertThat(c.isWrapperFor(PGConnection.class)).isTrue();
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            long in = copy.copyIn("COPY copied(v) FROM STDIN", new StringReader("alpha\nbeta\ngamma\n"));
            assertThat(in).isEqualTo(3);
            StringWriter out = new StringWriter();
            copy.copyOut("COPY (SELECT v, written_on FROM copied WHERE v IN ('alpha','beta','gamma') ORDER BY v) TO STDOUT",
                    out);
            assertThat(out.toString()).isEqualTo("alpha\t" + primaryPort + "\nbeta\t" + primaryPort + "\ngamma\t"
                    + primaryPort + "\n");
            assertThat(port(c)).as("the logical connection stays on the node it handed out").isEqualTo(primaryPort);
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM copied WHERE v IN ('alpha','beta','gamma')"))
                .isEqualTo(3);
    }

    @Test
    void listenThenGetNotificationsThroughTheUnwrappedConnection() throws Exception {
        try (Connection c = ds.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.execute("LISTEN jobs");
            }
            PGConnection pg = c.unwrap(PGConnection.class);
            try (Connection other = cluster.primary().connect(); Statement s = other.createStatement()) {
                s.execute("NOTIFY jobs, 'hello from the primary'");
            }
            PGNotification[] got = pg.getNotifications(10_000);
            assertThat(got).isNotNull();
            assertThat(got).extracting(PGNotification::getName).contains("jobs");
            assertThat(got).extracting(PGNotification::getParameter).contains("hello from the primary");
        }
    }

    @Test
    void largeObjectsInATransaction() throws Exception {
        byte[] payload = "a large object through Readsplit".getBytes(StandardCharsets.UTF_8);
        long oid;
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            LargeObjectManager lobs = c.unwrap(PGConnection.class).getLargeObjectAPI();
            oid = lobs.createLO(LargeObjectManager.READWRITE);
            try (LargeObject lo = lobs.open(oid, LargeObjectManager.WRITE)) {
                lo.write(payload);
            }
            c.commit();
            try (LargeObject lo = lobs.open(oid, LargeObjectManager.READ)) {
                assertThat(lo.read(payload.length)).isEqualTo(payload);
            }
            c.commit();
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM pg_largeobject_metadata WHERE oid = " + oid))
                .isEqualTo(1);
    }

    @Test
    void unwrapOnAReadOnlyConnectionPinsItToOneStandby() throws Exception {
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            PGConnection pg = c.unwrap(PGConnection.class);
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                seen.add(port(c));
            }
            assertThat(seen).hasSize(1);
            assertThat(standbyPorts).containsAll(seen);
            // the handed-out physical connection is that same node
            try (Statement s = ((Connection) pg).createStatement();
                 ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                rs.next();
                assertThat(seen).containsExactly(rs.getInt(1));
            }
        }
    }

    /** Whatever ran through an unwrapped primary connection may have written: its causal token covers the COPY. */
    @Test
    void aCopyThroughUnwrapCountsAsAWriteForReadYourWrites() throws Exception {
        for (EmbeddedNode s : cluster.standbys()) {
            s.setApplyDelay(Duration.ofSeconds(30));
        }
        try {
            CausalToken token;
            try (ReadsplitConnection c = ds.getConnection()) {
                c.unwrap(PGConnection.class).getCopyAPI()
                        .copyIn("COPY copied_then_read(v) FROM STDIN", new StringReader("1\n2\n3\n4\n5\n"));
                token = c.causalToken();
            }
            assertThat(token).as("a causal position was taken after the COPY").isNotNull();
            // another connection (another request, another process) carrying the token reads the COPY's rows
            try (ReadsplitConnection c = ds.getConnection()) {
                c.observe(token);
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM copied_then_read")) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("the token's holder reads the COPY").isEqualTo(5);
                }
            }
        } finally {
            for (EmbeddedNode s : cluster.standbys()) {
                s.setApplyDelay(Duration.ZERO);
            }
        }
    }

    @Test
    void cancelStopsTheFirstExecutionOfAStatement() throws Exception {
        assertCancelled("first-run", false);
    }

    @Test
    void cancelStopsALaterExecutionOnAnotherNode() throws Exception {
        assertCancelled("later-run", true);
    }

    private static void assertCancelled(String marker, boolean runSomethingElseFirst) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            if (runSomethingElseFirst) {
                s.executeUpdate("INSERT INTO copied(v) VALUES ('before the slow read')"); // on the primary
            }
            CompletableFuture<Boolean> run = CompletableFuture.supplyAsync(() -> {
                try (ResultSet rs = s.executeQuery("SELECT pg_sleep(20), '" + marker + "'")) {
                    return rs.next();
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            });
            int on = Backends.awaitRunning(cluster.nodes(), marker, Duration.ofSeconds(15));
            assertThat(on).as("the slow statement started").isPositive();
            s.cancel();
            ExecutionException e = assertThrows(ExecutionException.class, () -> run.get(60, TimeUnit.SECONDS));
            assertThat(e.getCause().getCause()).isInstanceOf(SQLException.class);
            assertThat(((SQLException) e.getCause().getCause()).getSQLState()).isEqualTo("57014");
        }
    }

    @Test
    void queryTimeoutCancelsTheStatementWhereverItRuns() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout(1);
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELECT pg_sleep(20)"));
            assertThat(e.getSQLState()).isEqualTo("57014");
        }
    }
}

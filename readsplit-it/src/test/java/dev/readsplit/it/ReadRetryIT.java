package dev.readsplit.it;

import dev.readsplit.Consistency;
import dev.readsplit.Role;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static dev.readsplit.it.Placement.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Transparent read retry (issue 14, items 5 and 6) on a real cluster: the backend serving a read is terminated on
 * the server ({@code pg_terminate_backend}, what a crashed session looks like to the client) before any row reached
 * the caller. Every autocommit read is retried once elsewhere, whatever the connection's role; a write or anything in
 * a transaction never is (no duplicate rows); a failure while the caller reads a result set reaches the failure
 * funnel (the node turns SUSPECT at once).
 */
class ReadRetryIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static Set<Integer> standbyPorts;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password("Read-Retry-pw1").start();
        Placement.exec(cluster.primary(), "CREATE TABLE once (marker text)");
        ds = new ReadsplitDataSource(Placement.config(cluster, "read-retry").consistency(Consistency.eventual()).build());
        Placement.awaitReplayed(cluster);
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

    @BeforeEach
    void everyNodeUp() {
        Placement.awaitAllUp(ds);
    }

    @Test
    void anAutocommitReadIsRetriedElsewhere() throws Exception {
        try (Connection c = ds.getConnection()) {
            assertRetried(c, "");
        }
    }

    @Test
    void aReadOnAReadOnlyConnectionIsRetriedElsewhere() throws Exception {
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            assertRetried(c, "");
        }
    }

    @Test
    void aReadOnAReplicaRoleConnectionIsRetriedElsewhere() throws Exception {
        try (Connection c = ds.getConnection(Role.REPLICA)) {
            assertRetried(c, "");
        }
    }

    @Test
    void aReplicaHintedReadIsRetriedElsewhere() throws Exception {
        try (Connection c = ds.getConnection()) {
            assertRetried(c, "/* readsplit:replica */ ");
        }
    }

    @Test
    void aFailedWriteIsNeverRunTwice() throws Exception {
        String marker = marker();
        long retries = ds.readRetries();
        CompletableFuture<Integer> killed = Backends.terminateOnce(List.of(cluster.primary()), marker, Duration.ofSeconds(20));
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeUpdate(
                    "INSERT INTO once(marker) SELECT '" + marker + "' FROM pg_sleep(2)"));
            assertThat(e.getSQLState()).startsWith("57P0");
        }
        assertThat(killed.get(30, TimeUnit.SECONDS)).isEqualTo(cluster.primary().port());
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM once WHERE marker = '" + marker + "'"))
                .as("the write was not run again").isZero();
        assertThat(ds.readRetries()).isEqualTo(retries);
    }

    @Test
    void aReadInsideAReadOnlyTransactionIsNotRetried() throws Exception {
        String marker = marker();
        long retries = ds.readRetries();
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            int first = Placement.port(c);
            CompletableFuture<Integer> killed = Backends.terminateOnce(cluster.standbys(), marker, Duration.ofSeconds(20));
            SQLException e = assertThrows(SQLException.class, () -> Placement.port(c,
                    "SELECT inet_server_port() FROM pg_sleep(2) WHERE '" + marker + "' <> ''"));
            assertThat(e.getSQLState()).startsWith("57P0");
            assertThat(killed.get(30, TimeUnit.SECONDS)).isEqualTo(first);
        }
        assertThat(ds.readRetries()).isEqualTo(retries);
    }

    @Test
    void aFailureWhileReadingAResultSetReachesTheFailureFunnel() throws Exception {
        String marker = marker();
        Instant before = Instant.now();
        int[] on = new int[1];
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            c.setAutoCommit(false); // a cursor: rows are fetched while the caller reads
            try (Statement s = c.createStatement()) {
                s.setFetchSize(10);
                try (ResultSet rs = s.executeQuery("SELECT g, inet_server_port() FROM generate_series(1, 10000000) g"
                        + " WHERE '" + marker + "' <> ''")) {
                    assertThat(rs.next()).isTrue();
                    on[0] = rs.getInt(2);
                    EmbeddedNode node = cluster.standbys().stream().filter(n -> n.port() == on[0]).findFirst().orElseThrow();
                    assertThat(Backends.terminateSession(node, marker)).isTrue();
                    SQLException e = assertThrows(SQLException.class, () -> {
                        while (rs.next()) {
                            rs.getInt(1);
                        }
                    });
                    assertThat(e.getSQLState()).matches("57P0.|08.*");
                }
            }
        }
        String nodeSuffix = ":" + on[0];
        List<TopologyEvent> suspect = ds.recentEvents().stream()
                .filter(ev -> ev.kind() == TopologyEvent.Kind.STATE_CHANGE && !ev.at().isBefore(before)
                        && ev.node().endsWith(nodeSuffix) && "SUSPECT".equals(ev.to()))
                .toList();
        assertThat(suspect).as("the node turned SUSPECT from the failure seen by the caller").isNotEmpty();
    }

    /** Terminates the first attempt of a slow read on whichever standby runs it; the read must still succeed. */
    private static void assertRetried(Connection c, String hint) throws Exception {
        String marker = marker();
        long retries = ds.readRetries();
        CompletableFuture<Integer> killed = Backends.terminateOnce(cluster.standbys(), marker, Duration.ofSeconds(20));
        int servedBy = Placement.port(c, hint + "SELECT inet_server_port() FROM pg_sleep(2) WHERE '" + marker + "' <> ''");
        int killedOn = killed.get(30, TimeUnit.SECONDS);
        assertThat(standbyPorts).as("the first attempt ran on a standby and was terminated").contains(killedOn);
        assertThat(servedBy).as("served by another node").isNotEqualTo(killedOn);
        assertThat(ds.readRetries()).isEqualTo(retries + 1);
    }

    private static String marker() {
        return "m" + UUID.randomUUID().toString().replace("-", "");
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.RouteReason;
import dev.readsplit.Consistency;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The generic JDBC dialect (seed 001's SQLite replicas): three real SQLite files as primary and replicas.
 * SQLite has no replication, so each file says which node it is ({@code whoami}), which proves where each
 * statement ran.
 */
class GenericDialectSqliteIT {

    @TempDir
    static Path dir;

    @BeforeAll
    static void files() throws SQLException {
        for (String name : new String[] {"primary", "replica1", "replica2"}) {
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve(name + ".db"));
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE whoami (name TEXT)");
                s.execute("INSERT INTO whoami VALUES ('" + name + "')");
                s.execute("CREATE TABLE items (v TEXT)");
            }
        }
    }

    private static NodeConfig node(String file) {
        return NodeConfig.ofUrl("jdbc:sqlite:file:" + dir.resolve(file) + "?mode=rw");
    }

    private static ReadsplitConfig.Builder config(String... replicaFiles) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("sqlite")
                // the exact 50/50 split of one thread's reads asserted below is round-robin's (not the default)
                .balancer(dev.readsplit.balance.BalancerKind.ROUND_ROBIN)
                .primary(node("primary.db"))
                .healthCheckInterval(Duration.ofMillis(100))
                .healthCheckTimeout(Duration.ofMillis(1000))
                .primaryPoolSize(2).replicaPoolSize(2);
        for (String f : replicaFiles) {
            b.addReplica(node(f));
        }
        return b;
    }

    private static String whoami(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void readsGoToReplicasWritesToThePrimaryAndTheSessionReadsItsWritesFromThePrimary() throws SQLException {
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config("replica1.db", "replica2.db").build())) {
            Clusters.awaitAllUp(ds);
            Map<String, Integer> seen = new HashMap<>();
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 100; i++) {
                    seen.merge(whoami(c, "SELECT name FROM whoami"), 1, Integer::sum);
                }
            }
            assertThat(seen).containsOnlyKeys("replica1", "replica2");
            assertThat(seen.values()).containsOnly(50);

            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO items VALUES ('written')");
                // read-your-writes without WAL positions: after a write the session reads the primary
                assertThat(whoami(c, "SELECT name FROM whoami")).isEqualTo("primary");
                assertThat(whoami(c, "SELECT v FROM items")).isEqualTo("written");
                assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.TOKEN_NOT_REPLAYED);
                assertThat(((ReadsplitConnection) c).causalToken()).isNull();
            }
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("primary.db"));
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM items")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
            // under EVENTUAL the same session's reads go back to the replicas
            try (ReadsplitConnection c = ds.getConnection()) {
                c.setConsistency(Consistency.eventual());
                c.createStatement().executeUpdate("INSERT INTO items VALUES ('again')");
                assertThat(whoami(c, "SELECT name FROM whoami")).startsWith("replica");
            }
            assertThat(Clusters.activeConnections(ds)).isZero();
        }
    }

    @Test
    void anUnavailableReplicaFailsItsSelectOneCheckAndReadsAvoidIt() throws SQLException {
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config("replica1.db", "missing.db").build())) {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    Topology.of(ds).node("missing.db").state() == NodeState.DOWN
                            && Topology.of(ds).node("replica1.db").state() == NodeState.UP);
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 20; i++) {
                    assertThat(whoami(c, "SELECT name FROM whoami")).isEqualTo("replica1");
                }
            }
        }
    }

    @Test
    void noReplicaAvailableFallsBackToThePrimaryOrFailsClearlyWhenFallbackIsOff() throws SQLException {
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config("missing1.db", "missing2.db").build())) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Topology.of(ds).replicas().stream()
                    .allMatch(n -> n.state() == NodeState.DOWN));
            try (ReadsplitConnection c = ds.getConnection()) {
                assertThat(whoami(c, "SELECT name FROM whoami")).isEqualTo("primary");
                assertThat(c.lastRoute().reason()).isEqualTo(RouteReason.NO_REPLICA_FALLBACK);
            }
        }
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config("missing1.db").fallbackToPrimary(false).build())) {
            await().atMost(Duration.ofSeconds(10)).until(() -> Topology.of(ds).replicas().stream()
                    .allMatch(n -> n.state() == NodeState.DOWN));
            try (Connection c = ds.getConnection()) {
                SQLException e = assertThrows(SQLException.class, () -> whoami(c, "SELECT name FROM whoami"));
                assertThat(e.getMessage()).startsWith("sqlite: no eligible replica for a read and fallback to the primary is off")
                        .contains("missing1.db is DOWN");
            }
        }
    }
}

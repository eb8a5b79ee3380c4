package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.awaitility.Awaitility.await;

/** Helpers shared by the integration tests: a data source config for an embedded cluster, server-side queries. */
public final class Clusters {

    private Clusters() {
    }

    public static ReadsplitConfig.Builder config(EmbeddedCluster cluster) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder()
                .name("test")
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database())
                .user(cluster.user())
                .healthCheckInterval(Duration.ofMillis(200))
                .healthCheckTimeout(Duration.ofMillis(1000))
                .primaryPoolSize(8)
                .replicaPoolSize(8);
        if (cluster.password() != null) {
            b.password(cluster.password());
        }
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(s.host(), s.port());
        }
        return b;
    }

    /** Waits until the data source has checked every node once and sees them all UP. */
    public static void awaitAllUp(ReadsplitDataSource ds) {
        await().atMost(Duration.ofSeconds(30)).until(() -> Topology.of(ds).nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
    }

    static long queryLong(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new AssertionError(sql + " on " + node + ": " + e.getMessage(), e);
        }
    }

    static void exec(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new AssertionError(sql + " on " + node + ": " + e.getMessage(), e);
        }
    }

    static int port(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static int activeConnections(ReadsplitDataSource ds) {
        int active = 0;
        for (Node n : Topology.of(ds).nodes()) {
            active += n.poolStats().active();
        }
        return active;
    }
}

package dev.readsplit.it;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

import static org.awaitility.Awaitility.await;

/**
 * What the acceptance tests share: a Readsplit config and URL for an embedded cluster, and the server's own answer
 * to "where did this run?" ({@code inet_server_port()}, {@code pg_is_in_recovery()}), never Readsplit's report.
 */
final class Placement {

    /** The statement every placement assertion runs: the server's port and whether it is a standby. */
    static final String WHERE = "SELECT inet_server_port(), pg_is_in_recovery()";

    private Placement() {
    }

    static ReadsplitConfig.Builder config(EmbeddedCluster cluster, String name) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder()
                .name(name)
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database())
                .user(cluster.user())
                .healthCheckInterval(Duration.ofMillis(200))
                .healthCheckTimeout(Duration.ofMillis(1000))
                .primaryPoolSize(4)
                .replicaPoolSize(4);
        if (cluster.password() != null) {
            b.password(cluster.password());
        }
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(s.host(), s.port());
        }
        return b;
    }

    /** {@code jdbc:readsplit:postgresql://primary,standby.../db} plus extra query parameters (may be empty). */
    static String url(EmbeddedCluster cluster, String query) {
        StringBuilder u = new StringBuilder("jdbc:readsplit:postgresql://")
                .append(cluster.primary().host()).append(':').append(cluster.primary().port());
        for (EmbeddedNode s : cluster.standbys()) {
            u.append(',').append(s.host()).append(':').append(s.port());
        }
        u.append('/').append(cluster.database());
        if (!query.isEmpty()) {
            u.append('?').append(query);
        }
        return u.toString();
    }

    static Set<Integer> standbyPorts(EmbeddedCluster cluster) {
        return cluster.standbys().stream().map(EmbeddedNode::port).collect(Collectors.toSet());
    }

    /** Waits until the data source has checked every node and sees them all UP. */
    static void awaitAllUp(ReadsplitDataSource ds) {
        await().atMost(Duration.ofSeconds(30)).until(() -> ds.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
    }

    /** Waits until every standby has replayed everything the primary has written so far. */
    static void awaitReplayed(EmbeddedCluster cluster) {
        String lsn = queryString(cluster.primary(), "SELECT pg_current_wal_lsn()::text");
        await().atMost(Duration.ofSeconds(30)).until(() -> cluster.standbys().stream().allMatch(s ->
                queryLong(s, "SELECT CASE WHEN pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn THEN 1 ELSE 0 END") == 1));
    }

    /** The port of the server that ran {@code sql} (its first column must be {@code inet_server_port()}). */
    static int port(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static int port(Connection c) throws SQLException {
        return port(c, WHERE);
    }

    static String string(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    static long queryLong(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new AssertionError(sql + " on " + node + ": " + e.getMessage(), e);
        }
    }

    static String queryString(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
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
}

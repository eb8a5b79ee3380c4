package dev.readsplit.admin;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.awaitility.Awaitility.await;

/** A data source config for an embedded cluster, as core's ITs build it. */
final class TestClusters {

    static final String PASSWORD = "pw-It-3f9a71c2";
    static final String TOKEN = "tok-It-8e41d0b7a6";

    private TestClusters() {
    }

    static EmbeddedCluster start(int standbys) {
        return EmbeddedCluster.builder().standbys(standbys).password(PASSWORD).start();
    }

    static ReadsplitConfig.Builder config(EmbeddedCluster cluster) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder()
                .name("it")
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database())
                .user(cluster.user())
                .password(cluster.password())
                .adminToken(TOKEN)
                .healthCheckInterval(Duration.ofMillis(200))
                .healthCheckTimeout(Duration.ofMillis(1000))
                .primaryPoolSize(8)
                .replicaPoolSize(8);
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(s.host(), s.port());
        }
        return b;
    }

    static void awaitAllUp(ReadsplitDataSource ds) {
        await().atMost(Duration.ofSeconds(30)).until(() -> ds.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
    }

    static void exec(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new AssertionError(sql + " on " + node + ": " + e.getMessage(), e);
        }
    }
}

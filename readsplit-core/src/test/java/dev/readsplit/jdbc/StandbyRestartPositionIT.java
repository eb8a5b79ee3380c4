package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static dev.readsplit.jdbc.Clusters.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A standby that crashed and came back has its known replay position re-learned from the server, never kept from
 * before the crash (issue 13, docs/consistency.md): killed, the node's position is forgotten as soon as the data
 * source sees it fail; restarted, the position it then knows is one the restarted server reported, and reads after
 * writes still see their writes.
 */
class StandbyRestartPositionIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).start();
        exec(cluster.primary(), "CREATE TABLE items (id bigint PRIMARY KEY)");
        ds = new ReadsplitDataSource(Clusters.config(cluster).name("restart").build());
        Clusters.awaitAllUp(ds);
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

    private static long serverReplayLsn(EmbeddedNode standby) {
        return Clusters.queryLong(standby, "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint");
    }

    private static void writeThenRead(long id) throws SQLException {
        try (Connection c = ds.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO items VALUES (" + id + ")");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM items WHERE id = ?")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void aKilledStandbysPositionIsForgottenAndReLearnedFromTheRestartedServer() throws SQLException {
        EmbeddedNode standby = cluster.standby(0);
        Node node = Topology.of(ds).node(standby.host() + ":" + standby.port());
        writeThenRead(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> node.replayLsn() > 0);

        standby.kill();
        await().atMost(Duration.ofSeconds(30)).until(() -> node.state() != NodeState.UP);
        assertThat(node.replayLsn()).as("position forgotten once the standby stopped answering").isEqualTo(-1);

        standby.start();
        Clusters.awaitAllUp(ds);
        await().atMost(Duration.ofSeconds(30)).until(() -> node.replayLsn() > 0);
        // what the data source knows now was reported by the restarted server: never ahead of what it says it replayed
        assertThat(node.replayLsn()).isLessThanOrEqualTo(serverReplayLsn(standby));
        writeThenRead(2);
    }
}

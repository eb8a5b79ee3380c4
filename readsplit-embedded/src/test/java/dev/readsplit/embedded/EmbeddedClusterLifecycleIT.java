package dev.readsplit.embedded;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.readsplit.embedded.EmbeddedClusterIT.exec;
import static dev.readsplit.embedded.EmbeddedClusterIT.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Tests that change a cluster for good (promotion) or end it (close): one small cluster for each. */
class EmbeddedClusterLifecycleIT {

    @Test
    void promotedStandbyBecomesWritablePrimary() {
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(1).start()) {
            exec(cluster.primary(), "CREATE TABLE t (v int)");
            EmbeddedNode standby = cluster.standby(0);
            cluster.primary().stop();
            standby.promote();
            assertThat(standby.role()).isEqualTo(NodeRole.PRIMARY);
            exec(standby, "INSERT INTO t VALUES (42)");
            assertThat(queryLong(standby, "SELECT sum(v) FROM t")).isEqualTo(42);
            assertThat(cluster.currentPrimary()).isSameAs(standby);
            assertThat(queryLong(standby, "SELECT timeline_id FROM pg_control_checkpoint()")).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void closeLeavesNoServerProcessAndNoDirectory() {
        EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(1).database("other_db").start();
        List<Long> pids = new ArrayList<>();
        List<ProcessHandle> handles = new ArrayList<>();
        for (EmbeddedNode n : cluster.nodes()) {
            ProcessHandle h = ProcessHandle.of(n.pid()).orElseThrow();
            handles.add(h);
            h.descendants().forEach(handles::add);
            pids.add(n.pid());
        }
        assertThat(handles.size()).isGreaterThan(pids.size());
        Path dir = cluster.directory();
        assertThat(dir).isDirectory();
        cluster.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> handles.stream().noneMatch(ProcessHandle::isAlive));
        assertThat(dir).doesNotExist();
        cluster.close(); // idempotent
    }

    @Test
    void synchronousStandbyMakesCommitsWaitForIt() throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(1)
                .synchronousStandbyNames("standby1").setting("synchronous_commit", "remote_apply").start()) {
            exec(cluster.primary(), "CREATE TABLE t (v int)");
            try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO t VALUES (1)");
            }
            // remote_apply: acknowledged on the primary means already visible on the standby
            assertThat(queryLong(cluster.standby(0), "SELECT count(*) FROM t")).isEqualTo(1);
            assertThat(queryLong(cluster.primary(),
                    "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'")).isEqualTo(1);
            // the setting is the cluster's, not only the first primary's: a promoted standby keeps it (a failover
            // test that relied on it was asynchronous after its first promotion, and lost an acknowledged write)
            cluster.standby(0).promote();
            try (Connection c = cluster.standby(0).connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), current_setting('synchronous_standby_names')")) {
                rs.next();
                assertThat(rs.getBoolean(1)).isFalse();
                assertThat(rs.getString(2)).isEqualTo("standby1");
            }
        }
    }
}

package dev.readsplit.proxy;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Secret;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A replica killed under pgbench through the proxy: reads are retried elsewhere before any row reached a client. */
class ProxyFailureIT {

    static EmbeddedCluster cluster;
    static ReadsplitDataSource ds;
    static ProxyServer proxy;

    @BeforeAll
    static void start() throws Exception {
        cluster = EmbeddedCluster.builder().standbys(2).password("cluster-pw").start();
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("proxyfail")
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database()).user(cluster.user()).password(cluster.password())
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000));
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(s.host(), s.port());
        }
        ds = new ReadsplitDataSource(b.build());
        await().atMost(Duration.ofSeconds(30)).until(() -> ds.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
        proxy = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0").user("app", Secret.of("pw")).build());
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static long commits(EmbeddedNode node) throws Exception {
        try (Connection c = node.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT sum(xact_commit) FROM pg_stat_database")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Client statements running on {@code node} now, other than this one. */
    static long runningStatements(EmbeddedNode node) throws Exception {
        try (Connection c = node.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                     + " AND state = 'active' AND pid <> pg_backend_pid()")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void killingAReplicaUnderPgbenchFailsNoReadTransaction() throws Exception {
        List<String> base = List.of("/usr/bin/pgbench", "-h", "127.0.0.1", "-p", String.valueOf(proxy.address().getPort()),
                "-U", "app");
        ProcessBuilder init = new ProcessBuilder(concat(base, "-i", "-I", "dtGvp", "-s", "1", cluster.database()))
                .redirectErrorStream(true);
        init.environment().put("PGPASSWORD", "pw");
        Process i = init.start();
        String initOut = new String(i.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(i.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(i.exitValue()).as(initOut).isZero();
        EmbeddedNode victim = cluster.standby(0);
        long before = commits(victim);
        ProcessBuilder pb = new ProcessBuilder(concat(base, "-S", "-M", "prepared", "-c", "4", "-j", "2", "-T", "10",
                cluster.database())).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", "pw");
        Process bench = pb.start();
        try {
            // pgbench's clients are reading from the victim: kill it under them. Asked of the victim itself: it has
            // served reads, and a statement runs there now (each client keeps a replica for a run of reads, so all
            // four could be on the other one for a while; a kill then would leave no read to retry)
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
                    .until(() -> commits(victim) > before + 20 && runningStatements(victim) > 0);
            victim.kill();
            assertThat(bench.isAlive()).as("pgbench still running when the replica died").isTrue();
            String out = new String(bench.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(bench.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(bench.exitValue()).as(out).isZero();
            assertThat(out).contains("number of failed transactions: 0").doesNotContain("aborted");
        } finally {
            bench.destroyForcibly();
        }
        assertThat(ds.readRetries()).isPositive();
        // the proxy's status counts the lost backends against the killed replica
        String victimName = victim.host() + ":" + victim.port();
        assertThat(proxy.status().nodes().stream().filter(n -> n.node().equals(victimName)).findFirst().orElseThrow()
                .backendFailures()).isPositive();
        assertThat(proxy.status().backendFailures()).isPositive();
    }

    private static List<String> concat(List<String> base, String... more) {
        List<String> l = new java.util.ArrayList<>(base);
        l.addAll(List.of(more));
        return l;
    }
}

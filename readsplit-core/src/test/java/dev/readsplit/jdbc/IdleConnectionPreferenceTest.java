package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.Consistency;
import dev.readsplit.balance.BalancerKind;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.cluster.Node;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reads go to a replica whose pool has an idle connection rather than wait on a saturated one (docs/routing.md,
 * "Idle connections first"), through the real node pools (HikariCP's idle count) over the stub driver. On the
 * code before the preference, a read sent to r1 waited its pool's connectionTimeout, failed, marked r1 SUSPECT
 * and was retried on r2.
 */
class IdleConnectionPreferenceTest {

    @ParameterizedTest
    @EnumSource(value = BalancerKind.class, names = {"AFFINITY", "ROUND_ROBIN", "RANDOM", "WEIGHTED", "LATENCY_AWARE"})
    void readsAvoidASaturatedReplicaPoolWhileTheOtherHasIdleConnections(BalancerKind kind) throws Exception {
        StubDriver.register();
        String name = "idle-" + kind.name().toLowerCase(java.util.Locale.ROOT);
        ReadsplitConfig config = ReadsplitConfig.builder().name(name)
                .primary(NodeConfig.builder().name("primary").url("jdbc:stub:" + name + "-primary").build())
                .addReplica(NodeConfig.builder().name("r1").url("jdbc:stub:" + name + "-r1").build())
                .addReplica(NodeConfig.builder().name("r2").url("jdbc:stub:" + name + "-r2").build())
                .primaryPoolSize(2).replicaPoolSize(2).minIdle(0).balancer(kind)
                .consistency(Consistency.eventual()).causalScope(CausalScope.CONNECTION)
                .connectionTimeout(Duration.ofMillis(250))
                .healthCheckInterval(Duration.ofHours(1)).healthCheckTimeout(Duration.ofSeconds(5))
                // where reads go is the point here, not hedging (HedgedReadTest's subject): on a loaded machine a read
                // on r1, which had finished nothing yet, can stall past its hedge budget; a hedge on r2 then answers it
                // and r1 turns SUSPECT, and the rest of the reads rightly go to r2
                .hedgeReads(false)
                .build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            Node r1 = Topology.of(ds).node("r1");
            Node r2 = Topology.of(ds).node("r2");
            // r2 has an idle connection; every connection of r1 is taken (by another part of the application)
            r2.pool().getConnection().close();
            List<Connection> held = new ArrayList<>();
            held.add(r1.pool().getConnection());
            held.add(r1.pool().getConnection());
            try {
                assertThat(r1.idleConnections()).isZero();
                assertThat(r2.idleConnections()).isPositive();
                long retriesBefore = ds.readRetries();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<String> where = new ArrayList<>();
                Thread reader = new Thread(() -> {
                    try {
                        for (int i = 0; i < 20; i++) {
                            String sql = "SELECT " + i + " FROM idle_first";
                            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                                 ResultSet rs = s.executeQuery(sql)) {
                                where.add(((ReadsplitConnection) c).lastRoute().nodeName());
                            }
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                reader.start();
                reader.join();
                assertThat(failure.get()).isNull();
                assertThat(where).hasSize(20).containsOnly("r2");
                // not by waiting out r1's pool, failing, marking r1 SUSPECT and retrying: no read waited at all
                assertThat(ds.readRetries()).isEqualTo(retriesBefore);
                assertThat(r1.state()).isEqualTo(dev.readsplit.topology.NodeState.UP);
            } finally {
                for (Connection c : held) {
                    c.close();
                }
            }
            // r1 free again: the balancer's own choice is back (both replicas serve). Four threads, because AFFINITY
            // keeps one thread on one replica for a whole run (thousands of reads) and deals runs, not reads, out
            List<String> after = java.util.Collections.synchronizedList(new ArrayList<>());
            AtomicReference<Throwable> afterFailure = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread r = new Thread(() -> {
                    try {
                        for (int i = 0; i < 100; i++) {
                            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                                 ResultSet rs = s.executeQuery("SELECT 1 FROM idle_after")) {
                                after.add(((ReadsplitConnection) c).lastRoute().nodeName());
                            }
                        }
                    } catch (Throwable e) {
                        afterFailure.set(e);
                    }
                });
                readers.add(r);
                r.start();
            }
            for (Thread r : readers) {
                r.join();
            }
            assertThat(afterFailure.get()).isNull();
            assertThat(after).hasSize(400).contains("r1", "r2");
        }
    }

    /**
     * Regression: a pool that has not opened its connections yet (a replica just added, minIdle 0) is not
     * saturated. Counting only idle connections sent every read to the replica that had one, so the new replica
     * never got a read (ReadsplitBootIT's replica added at runtime stayed unused).
     */
    @ParameterizedTest
    @EnumSource(value = BalancerKind.class, names = {"ROUND_ROBIN", "RANDOM", "WEIGHTED"})
    void aPoolThatHasNotOpenedItsConnectionsYetStillGetsReads(BalancerKind kind) throws Exception {
        StubDriver.register();
        String name = "cold-" + kind.name().toLowerCase(java.util.Locale.ROOT);
        ReadsplitConfig config = ReadsplitConfig.builder().name(name)
                .primary(NodeConfig.builder().name("primary").url("jdbc:stub:" + name + "-primary").build())
                .addReplica(NodeConfig.builder().name("r1").url("jdbc:stub:" + name + "-r1").build())
                .addReplica(NodeConfig.builder().name("r2").url("jdbc:stub:" + name + "-r2").build())
                .primaryPoolSize(2).replicaPoolSize(2).minIdle(0).balancer(kind)
                .consistency(Consistency.eventual()).causalScope(CausalScope.CONNECTION)
                .connectionTimeout(Duration.ofMillis(250))
                .healthCheckInterval(Duration.ofHours(1)).healthCheckTimeout(Duration.ofSeconds(5))
                // where reads go is the point here, not hedging (HedgedReadTest's subject): on a loaded machine a read
                // on r1, which had finished nothing yet, can stall past its hedge budget; a hedge on r2 then answers it
                // and r1 turns SUSPECT, and the rest of the reads rightly go to r2
                .hedgeReads(false)
                .build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            Node r1 = Topology.of(ds).node("r1");
            Node r2 = Topology.of(ds).node("r2");
            r1.pool().getHikariPoolMXBean().softEvictConnections(); // r1 holds no connection at all
            r2.pool().getConnection().close();                       // r2 holds an idle one
            List<String> where = new ArrayList<>();
            for (int i = 0; i < 200 && !where.contains("r1"); i++) {
                try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT 1 FROM cold_pool")) {
                    where.add(((ReadsplitConnection) c).lastRoute().nodeName());
                }
            }
            assertThat(where).as("reads with %s", kind).contains("r1");
        }
    }
}

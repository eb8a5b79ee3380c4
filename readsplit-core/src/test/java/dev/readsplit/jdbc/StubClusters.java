package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.Consistency;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;

import java.time.Duration;
import java.util.List;

/** Data sources over {@link StubDriver} servers: a primary and two replicas, no I/O, for the fast routing tests. */
final class StubClusters {

    private StubClusters() {
    }

    /** A data source named {@code name} over stub servers {@code name-primary}, {@code name-r1}, {@code name-r2}. */
    static ReadsplitDataSource dataSource(String name, Consistency consistency, CausalScope scope, boolean fallback) {
        StubDriver.register();
        ReadsplitConfig config = ReadsplitConfig.builder().name(name)
                .primary(NodeConfig.builder().name("primary").url("jdbc:stub:" + name + "-primary").build())
                .addReplica(NodeConfig.builder().name("r1").url("jdbc:stub:" + name + "-r1").build())
                .addReplica(NodeConfig.builder().name("r2").url("jdbc:stub:" + name + "-r2").build())
                .primaryPoolSize(2).replicaPoolSize(2).minIdle(0)
                // placement tests name the replica each read lands on: round-robin (named because they depend on it)
                // deals them r1, r2, r1...; the default, AFFINITY, would keep this one thread on one replica
                .balancer(dev.readsplit.balance.BalancerKind.ROUND_ROBIN)
                .consistency(consistency).causalScope(scope).fallbackToPrimary(fallback)
                // the checks do not run during a test: node states are what the test sets
                .healthCheckInterval(Duration.ofHours(1)).healthCheckTimeout(Duration.ofSeconds(5))
                .build();
        return new ReadsplitDataSource(config);
    }

    /**
     * Waits until no health check is running: a traffic error starts an immediate check of its node, which must end
     * against the stub server as the test left it (dead or not) before the test heals the node by hand, or the check
     * lands later and turns the node SUSPECT under the next test.
     */
    static void awaitChecks(ReadsplitDataSource ds) {
        org.awaitility.Awaitility.await().pollDelay(java.time.Duration.ZERO)
                .pollInterval(java.time.Duration.ofMillis(5)).atMost(java.time.Duration.ofSeconds(30))
                .until(() -> !ds.healthChecker().checking());
    }

    /** Sets every replica's state (the health checker is idle: it stays so). */
    static void replicas(ReadsplitDataSource ds, NodeState state) {
        for (Node n : Topology.of(ds).nodes()) {
            if (n != Topology.of(ds).primary() && n.state() != state) {
                Topology.of(ds).transition(n, state, "set by the test");
            }
        }
    }

    /** The stub servers that ran {@code sql} on this thread since {@link #clear}: "primary", "r1", "r2", joined by ",". */
    static String ranOn(ReadsplitDataSource ds, String sql) {
        List<String> where = new java.util.ArrayList<>();
        for (String node : List.of("primary", "r1", "r2")) {
            if (StubDriver.server(ds.name() + "-" + node).ranBy(Thread.currentThread()).contains(sql)) {
                where.add(node);
            }
        }
        return String.join(",", where);
    }

    static void clear(ReadsplitDataSource ds) {
        for (String node : List.of("primary", "r1", "r2")) {
            StubDriver.server(ds.name() + "-" + node).clear();
        }
    }
}

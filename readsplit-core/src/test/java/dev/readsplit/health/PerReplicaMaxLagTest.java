package dev.readsplit.health;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.FakeClock;
import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Seed 004's per-replica {@code max_lag_seconds}: each replica is excluded at its own limit (fake clock). */
class PerReplicaMaxLagTest {

    private final FakeClock clock = new FakeClock(1_000_000);
    private final Topology topology = new Topology(ReadsplitConfig.builder().name("lag")
            .primary("127.0.0.1", 1)
            .addReplica(NodeConfig.builder().host("127.0.0.1").port(2).name("tolerant").maxLag(Duration.ofSeconds(5))
                    .build())
            .addReplica(NodeConfig.builder().host("127.0.0.1").port(3).name("strict").build())
            .maxLag(Duration.ofSeconds(1)).build(), clock);
    private final LagTracker lag = new LagTracker(topology);
    private final Node tolerant = topology.node("tolerant");
    private final Node strict = topology.node("strict");

    @AfterEach
    void close() {
        topology.close();
    }

    @Test
    void eachReplicaIsExcludedAndReadmittedAtItsOwnLimit() {
        lag.replicaObserved(tolerant, 100, 3_000);
        lag.replicaObserved(strict, 100, 3_000);
        assertThat(strict.lagExcluded()).as("over the data source's 1s").isTrue();
        assertThat(tolerant.lagExcluded()).as("under its own 5s").isFalse();

        lag.replicaObserved(tolerant, 100, 6_000);
        assertThat(tolerant.lagExcluded()).as("over its own 5s").isTrue();

        lag.replicaObserved(tolerant, 100, 3_000);
        assertThat(tolerant.lagExcluded()).as("hysteresis: readmitted only under 0.5 x 5s").isTrue();
        lag.replicaObserved(tolerant, 100, 2_000);
        assertThat(tolerant.lagExcluded()).isFalse();
        assertThat(topology.config().lag().maxLag(tolerant.config())).isEqualTo(Duration.ofSeconds(5));
        assertThat(topology.config().lag().maxLag(strict.config())).isEqualTo(Duration.ofSeconds(1));
    }
}

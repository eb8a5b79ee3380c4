package dev.readsplit.health;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.FakeClock;
import dev.readsplit.topology.Node;
import dev.readsplit.topology.Topology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Time lag as an upper bound that an idle, caught-up replica cannot inflate (no database, fake clock). */
class LagTrackerTest {

    private final FakeClock clock = new FakeClock(1_000_000);
    private final Topology topology = new Topology(ReadsplitConfig.builder().name("lag")
            .primary("127.0.0.1", 1).addReplica("127.0.0.1", 2)
            .maxLag(Duration.ofSeconds(1)).build(), clock);
    private final LagTracker lag = new LagTracker(topology);
    private final Node replica = topology.nodes().get(1);

    @AfterEach
    void close() {
        topology.close();
    }

    @Test
    void aBurstOfWalAfterAnIdleMinuteIsNotAMinuteOfLag() {
        lag.replicaObserved(replica, 100, 0);             // caught up
        clock.advance(1_000);
        // a checkpoint record arrived and is not replayed yet; the last commit replayed is a minute old
        lag.replicaObserved(replica, 100, 60_000);
        assertThat(replica.lagMillis()).isLessThanOrEqualTo(1_000);
        assertThat(replica.lagExcluded()).isFalse();
    }

    @Test
    void aReplicaThatStaysBehindReadsItsRealLagAndIsExcluded() {
        lag.replicaObserved(replica, 100, 0);
        for (int second = 1; second <= 3; second++) {
            clock.advance(1_000);
            lag.replicaObserved(replica, 100, second * 1_000L);
        }
        assertThat(replica.lagMillis()).isEqualTo(3_000);
        assertThat(replica.lagExcluded()).isTrue();
    }

    @Test
    void withoutAnyCaughtUpObservationTheReportedLagStands() {
        lag.replicaObserved(replica, 100, 2_500);
        assertThat(replica.lagMillis()).isEqualTo(2_500);
    }
}

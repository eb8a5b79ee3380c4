package dev.readsplit.health;

import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.FakeClock;
import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Time lag as an upper bound that an idle, caught-up replica cannot inflate (no database, fake clock). */
class LagTrackerTest {

    private final FakeClock clock = new FakeClock(1_000_000);
    private final Topology topology = new Topology(ReadsplitConfig.builder().name("lag")
            .primary("127.0.0.1", 1).addReplica("127.0.0.1", 2).addReplica("127.0.0.1", 3)
            .maxLag(Duration.ofSeconds(1)).healthCheckInterval(Duration.ofSeconds(1)).build(), clock);
    private final LagTracker lag = new LagTracker(topology);
    private final Node primary = topology.nodes().get(0);
    private final Node replica = topology.nodes().get(1);
    private final Node other = topology.nodes().get(2);

    private static Probe.WalReceiver streamingFrom(int port, long timeline, long received) {
        return Probe.WalReceiver.of("streaming", "127.0.0.1", port, timeline, received);
    }

    /** The primary on timeline {@code timeline} at {@code lsn}, observed now. */
    private void primaryAt(long lsn, long timeline) {
        topology.observeRole(primary, Role.PRIMARY, timeline);
        lag.primaryObserved(primary, lsn);
    }

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

    // ---------------------------------------------------------------------------------------------
    // standbys that follow the wrong primary, or none (issue 17, item 1)

    @Test
    void regressionAStandbyWhoseReceiverIsGoneReadsItsLagAgainstThePrimaryNotZeroMsAndIsExcluded() {
        primaryAt(1000, 2);
        lag.replicaObserved(replica, 1000, 0, streamingFrom(1, 2, 1000));
        assertThat(replica.lagExcluded()).isFalse();
        // the primary moves on; the standby has no WAL receiver (it follows a dead primary): it reports 0 ms itself
        clock.advance(1_000);
        primaryAt(5000, 2);
        clock.advance(500);
        lag.replicaObserved(replica, 1000, 0, Probe.WalReceiver.absent(1000));
        assertThat(replica.lagMillis()).as("lag against the current primary").isEqualTo(500);
        assertThat(replica.lagBytes()).isEqualTo(4000);
        assertThat(replica.lagExcluded()).isTrue();
        assertThat(replica.exclusionReason()).contains("no WAL receiver is running");
    }

    @Test
    void aStandbyOnAnOlderTimelineIsExcludedAtOnceAndReadmittedWhenItFollows() {
        primaryAt(1000, 2);
        lag.replicaObserved(replica, 1000, 0, streamingFrom(9, 1, 1000));
        assertThat(replica.lagExcluded()).isTrue();
        assertThat(replica.exclusionReason()).contains("timeline 1", "timeline 2");
        clock.advance(1_000);
        lag.replicaObserved(replica, 1000, 0, streamingFrom(1, 2, 1000));
        assertThat(replica.lagExcluded()).isFalse();
        assertThat(replica.exclusionReason()).isNull();
    }

    @Test
    void aStandbyStreamingFromTheOldPrimaryIsExcludedEvenOnTheSameTimeline() {
        primaryAt(1000, 1);
        // the old primary (port 1) was demoted and the node at port 3 promoted: writes go there
        topology.observeRole(other, Role.PRIMARY, 2);
        assertThat(topology.primary()).isSameAs(other);
        topology.observeRole(primary, Role.REPLICA, 1);
        lag.primaryObserved(other, 1000);
        lag.replicaObserved(replica, 1000, 0, streamingFrom(1, 2, 1000));
        assertThat(replica.lagExcluded()).isTrue();
        assertThat(replica.exclusionReason()).contains("streams from 127.0.0.1:1");
    }

    @Test
    void aCascadingStandbyAndOneBehindAServiceAddressAreNotJudgedByTheirSender() {
        primaryAt(1000, 1);
        lag.replicaObserved(other, 1000, 0, streamingFrom(1, 1, 1000));
        // replica streams from the other standby (cascading), which is healthy
        lag.replicaObserved(replica, 1000, 0, streamingFrom(3, 1, 1000));
        assertThat(replica.lagExcluded()).isFalse();
        // a sender that is no configured node (a virtual IP, a Kubernetes service)
        lag.replicaObserved(replica, 1000, 0, Probe.WalReceiver.of("streaming", "db-rw.prod.svc", 5432, 1, 1000));
        assertThat(replica.lagExcluded()).isFalse();
    }

    @Test
    void withoutTheReceiverDetailsAStandbyThatStopsReplayingIsExcludedAfterTwoIntervals() {
        primaryAt(1000, 2);
        lag.replicaObserved(replica, 1000, 0, Probe.WalReceiver.hidden(1000));
        for (int second = 1; second <= 3; second++) {
            clock.advance(1_000);
            primaryAt(1000 + second * 100L, 2);
            clock.advance(1);
            lag.replicaObserved(replica, 1000, 0, Probe.WalReceiver.hidden(1000));
            if (second == 1) {
                assertThat(replica.lagExcluded()).as("one interval behind is only lag").isFalse();
                assertThat(replica.lagMillis()).isPositive();
            }
        }
        assertThat(replica.lagExcluded()).isTrue();
        assertThat(replica.exclusionReason()).contains("not replaying");
    }

    @Test
    void aStandbyThatReplaysUnderWriteLoadIsNotStalled() {
        for (int second = 0; second <= 5; second++) {
            primaryAt(1000 + second * 100L, 1);
            clock.advance(5);
            // 5 ms behind the primary's latest sample, replaying continuously
            lag.replicaObserved(replica, 1000 + second * 100L - 10, 5, Probe.WalReceiver.hidden(1000 + second * 100L - 10));
            clock.advance(995);
        }
        assertThat(replica.lagExcluded()).isFalse();
        assertThat(replica.lagMillis()).isLessThan(1_000);
    }

    @Test
    void anIdleStandbyThatReceivedAllButCannotReplayAHalfWrittenRecordIsCaughtUp() {
        // an idle primary whose write position is inside a record that straddles a page: the standby received it all
        for (int second = 0; second <= 5; second++) {
            primaryAt(8192, 1);
            lag.replicaObserved(replica, 8100, 0, streamingFrom(1, 1, 8192));
            clock.advance(1_000);
        }
        assertThat(replica.lagMillis()).isZero();
        assertThat(replica.lagExcluded()).isFalse();
    }

    @Test
    void whileThePrimaryIsDownNoStandbyIsExcludedForHavingLostIt() {
        primaryAt(1000, 1);
        topology.checkFailed(primary, "refused", clock.millis());
        lag.replicaObserved(replica, 1000, 0, Probe.WalReceiver.absent(1000));
        assertThat(replica.lagExcluded()).isFalse();
    }
}

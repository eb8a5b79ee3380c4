package dev.readsplit.cluster;

import dev.readsplit.topology.FakeClock;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A standby's known replay position is re-learned after it stops answering (a restart, a crash, a rebuild can bring
 * it back behind what it replayed before): never served from before (docs/consistency.md). Driven through the
 * topology's funnel with a fake clock; no database.
 */
class ReplayPositionTest {

    private final FakeClock clock = new FakeClock(1_000_000);
    private Topology topology;
    private Node replica;

    @BeforeEach
    void setUp() {
        topology = new Topology(TopologyTest.config().build(), clock);
        topology.urgentCheck(n -> { });
        replica = topology.nodes().get(1);
    }

    @AfterEach
    void tearDown() {
        topology.close();
    }

    @Test
    void aTrafficFailureForgetsThePositionUntilAnswersFromAfterItArrive() {
        replica.observeReplayLsn(5_000, replica.replayGeneration());
        assertThat(replica.replayLsn()).isEqualTo(5_000);
        int before = replica.replayGeneration(); // a check that asked the server before the failure

        topology.onTrafficError(replica, new SQLException("terminating connection due to administrator command", "57P01"));
        assertThat(replica.state()).isEqualTo(NodeState.SUSPECT);
        assertThat(replica.replayLsn()).isEqualTo(-1);

        // that check's answer arrives late: it may be from before the restart, so it is dropped
        replica.observeReplayLsn(5_000, before);
        assertThat(replica.replayLsn()).isEqualTo(-1);

        // the restarted standby says it is behind: that is what is known now
        replica.observeReplayLsn(3_000, replica.replayGeneration());
        assertThat(replica.replayLsn()).isEqualTo(3_000);
    }

    @Test
    void goingDownAfterFailedChecksForgetsThePositionToo() {
        replica.observeReplayLsn(9_000, replica.replayGeneration());
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(replica, "connection refused", clock.millis());
        }
        assertThat(replica.state()).isEqualTo(NodeState.DOWN);
        assertThat(replica.replayLsn()).isEqualTo(-1);
    }

    @Test
    void aHealthyNodeKeepsLearningForward() {
        replica.observeReplayLsn(1_000, replica.replayGeneration());
        replica.observeReplayLsn(2_000, replica.replayGeneration());
        replica.observeReplayLsn(1_500, replica.replayGeneration()); // an older answer arriving late
        assertThat(replica.replayLsn()).isEqualTo(2_000);
    }
}

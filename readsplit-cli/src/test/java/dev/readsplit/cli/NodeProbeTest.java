package dev.readsplit.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Regression: a NULL replay_lag with WAL still to replay made `check` call the primary unreachable (an NPE). */
class NodeProbeTest {

    @Test
    void replayLagFromPgStatReplication() {
        assertThat(NodeProbe.replayLagMillis(false, 42, 100L)).isEqualTo(42L);
        assertThat(NodeProbe.replayLagMillis(true, 0, 0L)).isEqualTo(0L);       // idle and caught up
        assertThat(NodeProbe.replayLagMillis(true, 0, 8192L)).isNull();         // just started streaming
        assertThat(NodeProbe.replayLagMillis(true, 0, null)).isNull();
    }
}

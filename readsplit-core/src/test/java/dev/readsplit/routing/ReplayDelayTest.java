package dev.readsplit.routing;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ReplayDelayTest {

    @Test
    void probesAtOnceUntilAWaitNeededMoreThanOneProbe() {
        ReplayDelay d = new ReplayDelay();
        assertThat(d.firstPauseNanos()).isZero();
        d.replayedAtFirstProbe();
        assertThat(d.firstPauseNanos()).isZero();
        d.replayedAfter(400_000);
        assertThat(d.firstPauseNanos()).as("the first slow wait sets it").isEqualTo(400_000);
    }

    @Test
    void movesAnEighthTowardSlowerWaitsAndIsCapped() {
        ReplayDelay d = new ReplayDelay();
        d.replayedAfter(400_000);
        d.replayedAfter(1_200_000);
        assertThat(d.firstPauseNanos()).isEqualTo(400_000 + 100_000);
        for (int i = 0; i < 200; i++) {
            d.replayedAfter(50_000_000); // a standby that takes 50 ms: the first probe still comes within 2 ms
        }
        assertThat(d.firstPauseNanos()).isLessThanOrEqualTo(ReplayDelay.MAX_FIRST_PAUSE_NANOS)
                .isGreaterThan(ReplayDelay.MAX_FIRST_PAUSE_NANOS * 99 / 100);
    }

    @Test
    void firstProbeSuccessesShortenItDownToZero() {
        ReplayDelay d = new ReplayDelay();
        d.replayedAfter(800_000);
        d.replayedAtFirstProbe();
        assertThat(d.firstPauseNanos()).isEqualTo(700_000);
        for (int i = 0; i < 500; i++) {
            d.replayedAtFirstProbe();
        }
        assertThat(d.firstPauseNanos()).as("a fast standby is probed at once again").isZero();
    }
}

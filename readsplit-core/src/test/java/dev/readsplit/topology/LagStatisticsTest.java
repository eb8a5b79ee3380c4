package dev.readsplit.topology;

import dev.readsplit.cluster.Topology;
import dev.readsplit.cluster.Node;
import dev.readsplit.config.ReadsplitConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Seed 004's lag statistics over the rolling window: mean and min beside the percentiles, and the trend (the
 * least-squares slope of lag over time), driven with a fake clock.
 */
class LagStatisticsTest {

    private final FakeClock clock = new FakeClock(1_000_000);
    private final Topology topology = new Topology(ReadsplitConfig.builder().name("unit")
            .primary("127.0.0.1", 1).addReplica("127.0.0.1", 2).build(), clock);
    private final Node r1 = topology.nodes().get(1);

    @AfterEach
    void tearDown() {
        topology.close();
    }

    private void record(long... lags) {
        for (long lag : lags) {
            clock.advance(1000);
            topology.recordLag(r1, 0, lag);
        }
    }

    @Test
    void aLagGrowingBy100msASecondIsRisingAt6SecondsPerMinute() {
        for (int i = 0; i < 50; i++) {
            record(i * 100L);
        }
        LagWindow.Snapshot s = r1.lagPercentiles(clock.millis());
        assertThat(s.count()).isEqualTo(50);
        assertThat(s.min()).isZero();
        assertThat(s.max()).as("2 significant digits").isBetween(4900L, 4950L);
        assertThat(s.mean()).isCloseTo(2450.0, within(1.0));
        assertThat(s.slopeMillisPerMinute()).isCloseTo(6000.0, within(1.0));
        assertThat(s.trend()).isEqualTo(LagWindow.Trend.RISING);
    }

    @Test
    void aReplicaCatchingUpIsFalling() {
        for (int i = 20; i > 0; i--) {
            record(i * 250L);
        }
        LagWindow.Snapshot s = r1.lagPercentiles(clock.millis());
        assertThat(s.slopeMillisPerMinute()).isCloseTo(-15_000.0, within(1.0));
        assertThat(s.trend()).isEqualTo(LagWindow.Trend.FALLING);
    }

    @Test
    void smallWobbleAroundALargeLagIsSteady() {
        record(30_000, 30_050, 29_980, 30_020, 30_010, 29_990, 30_040);
        LagWindow.Snapshot s = r1.lagPercentiles(clock.millis());
        assertThat(s.trend()).as("200 ms over 30 s of lag is noise").isEqualTo(LagWindow.Trend.STEADY);
        assertThat(s.min()).isBetween(29_900L, 29_990L);
        assertThat(s.mean()).isCloseTo(30_012.86, within(0.01));
    }

    @Test
    void oneSampleHasNoTrendAndAnEmptyWindowHasNoStatistics() {
        assertThat(r1.lagPercentiles(clock.millis()).count()).isZero();
        assertThat(r1.lagPercentiles(clock.millis()).trend()).isEqualTo(LagWindow.Trend.UNKNOWN);
        record(700);
        LagWindow.Snapshot s = r1.lagPercentiles(clock.millis());
        assertThat(s.trend()).isEqualTo(LagWindow.Trend.UNKNOWN);
        assertThat(s.slopeMillisPerMinute()).isNaN();
        assertThat(s.mean()).isEqualTo(700.0);
    }

    @Test
    void theTrendForgetsWhatLeftTheWindowAndIsExactAfterHours() {
        clock.advance(5 * 3_600_000L); // far from any origin: the sums must not lose precision
        for (int i = 0; i < 30; i++) {
            record(10_000 - i * 300L); // falling...
        }
        for (int i = 0; i < 70; i++) {
            record(500);             // ...then flat for longer than the window
        }
        LagWindow.Snapshot s = r1.lagPercentiles(clock.millis());
        assertThat(s.trend()).isEqualTo(LagWindow.Trend.STEADY);
        assertThat(s.slopeMillisPerMinute()).isCloseTo(0.0, within(1e-6));
        assertThat(s.max()).as("2 significant digits").isBetween(500L, 505L);
    }
}

package dev.readsplit.jdbc;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ScanPacingTest {

    private static final long TICK = 10_000_000L; // 10 ms: 100 idle ticks make a second

    @Test
    void looksEveryTickWhileStatementsRunAndOnceASecondAfterASecondOfNothing() {
        ScanPacing p = new ScanPacing(TICK);
        assertThat(p.afterScan(true)).isEqualTo(TICK);
        for (int i = 1; i < 100; i++) {
            assertThat(p.afterScan(false)).as("idle tick %d", i).isEqualTo(TICK);
            assertThat(p.parked()).isFalse();
        }
        assertThat(p.afterScan(false)).isEqualTo(ScanPacing.PARKED_TICK_NANOS);
        assertThat(p.parked()).isTrue();
        assertThat(p.afterScan(false)).isEqualTo(ScanPacing.PARKED_TICK_NANOS);
        // a statement the once-a-second look finds running (it missed the wake-up): every tick again
        assertThat(p.afterScan(true)).isEqualTo(TICK);
        assertThat(p.parked()).isFalse();
    }

    @Test
    void aRunningStatementResetsTheIdleCountAndAWakeUpEndsParking() {
        ScanPacing p = new ScanPacing(TICK);
        for (int i = 0; i < 99; i++) {
            p.afterScan(false);
        }
        p.afterScan(true); // one busy tick: the second of idleness starts over
        for (int i = 0; i < 99; i++) {
            assertThat(p.afterScan(false)).isEqualTo(TICK);
        }
        assertThat(p.wake()).as("not parked: nothing to wake").isFalse();
        p.afterScan(false);
        assertThat(p.parked()).isTrue();
        assertThat(p.wake()).isTrue();
        assertThat(p.parked()).isFalse();
        assertThat(p.wake()).isFalse();
        for (int i = 1; i < 100; i++) {
            assertThat(p.afterScan(false)).as("a wake-up starts the second over: tick %d", i).isEqualTo(TICK);
        }
    }

    @Test
    void aTickOfASecondOrMoreParksAfterOneIdleLookAndATickMustBePositive() {
        ScanPacing p = new ScanPacing(ScanPacing.PARKED_TICK_NANOS * 2);
        assertThat(p.afterScan(false)).isEqualTo(ScanPacing.PARKED_TICK_NANOS);
        assertThatThrownBy(() -> new ScanPacing(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tick must be positive");
    }
}

package dev.readsplit.jdbc;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The hedge budget arithmetic: tokens by reads (a share, never doubled load) and the latency budget's clamp. */
class HedgeTokensTest {

    @Test
    void startsFullThenOneHedgePerShareOfReads() {
        HedgeTokens t = new HedgeTokens(0.05, 2);
        t.reads(1000);
        assertThat(t.take()).isTrue();
        assertThat(t.take()).isTrue();
        assertThat(t.take()).as("the burst is spent").isFalse();
        t.reads(1019);
        assertThat(t.take()).as("19 reads are 0.95 of a token").isFalse();
        t.reads(1020);
        assertThat(t.take()).as("20 reads at 5 % are one hedge").isTrue();
        assertThat(t.take()).isFalse();
    }

    @Test
    void neverHoldsMoreThanTheBurst() {
        HedgeTokens t = new HedgeTokens(0.5, 3);
        t.reads(0);
        t.reads(1_000_000);
        int taken = 0;
        while (t.take()) {
            taken++;
        }
        assertThat(taken).isEqualTo(3);
        t.refund();
        t.refund();
        t.refund();
        t.refund();
        assertThat(t.available()).isEqualTo(3.0);
    }

    @Test
    void theShareBoundsHedgesOverManyReads() {
        HedgeTokens t = new HedgeTokens(0.05, 10);
        long reads = 0;
        int hedges = 0;
        for (int i = 0; i < 10_000; i++) {
            t.reads(++reads);
            if (t.take()) { // every read past its budget: a cluster that is slow everywhere
                hedges++;
            }
        }
        assertThat(hedges).isBetween(500, 510); // 5 % of 10,000 plus the initial burst of 10 at most
    }

    @Test
    void badArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new HedgeTokens(0, 1));
        assertThrows(IllegalArgumentException.class, () -> new HedgeTokens(1.5, 1));
        assertThrows(IllegalArgumentException.class, () -> new HedgeTokens(0.1, 0));
    }

    @Test
    void theBudgetIsAMultipleOfTheP99BetweenFloorAndCap() {
        HedgeSettings s = new HedgeSettings(true, 3, 50_000_000L, 500_000_000L, 0.05, 10);
        assertThat(s.budgetNanos(1_000_000L)).as("3 x 1 ms is under the floor").isEqualTo(50_000_000L);
        assertThat(s.budgetNanos(40_000_000L)).isEqualTo(120_000_000L);
        assertThat(s.budgetNanos(400_000_000L)).as("capped").isEqualTo(500_000_000L);
        assertThat(s.budgetNanos(Long.MAX_VALUE)).isEqualTo(500_000_000L);
        assertThat(s.tickNanos()).isEqualTo(10_000_000L);
    }
}

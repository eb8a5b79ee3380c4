package dev.readsplit.cluster;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A node's statement counters in per-thread stripes: what the readers see. No database. */
class StatementStatsTest {

    private final StatementStats stats = new StatementStats();

    @Test
    void runningCountsEveryThreadsStatementsUntilTheyEnd() throws Exception {
        int threads = StatementStats.STRIPES + 2; // two pairs of threads share a stripe
        CountDownLatch begun = new CountDownLatch(threads);
        CountDownLatch release = new CountDownLatch(1);
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = new Thread(() -> {
                int token = stats.begin();
                begun.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                stats.end(token, 1_000, true);
            });
            workers[t].start();
        }
        assertThat(begun.await(30, TimeUnit.SECONDS)).isTrue();
        int mine = stats.begin(); // and one on this thread
        assertThat(stats.running()).isEqualTo(threads + 1);
        release.countDown();
        for (Thread w : workers) {
            w.join();
        }
        assertThat(stats.running()).isEqualTo(1);
        stats.end(mine, 1_000, false);
        assertThat(stats.running()).isZero();
        assertThat(stats.reads()).isEqualTo(threads);
        assertThat(stats.writes()).isEqualTo(1);
        assertThat(stats.latency().getTotalCount()).isEqualTo(threads + 1);
    }

    @Test
    void aStatementEndedOnAnotherThreadIsCountedDownWhereItBegan() throws Exception {
        int begun = stats.begin();
        Thread other = new Thread(() -> stats.end(begun, 1_000, true));
        other.start();
        other.join();
        assertThat(stats.running()).isZero();
        for (int s = 0; s < StatementStats.STRIPES; s++) {
            assertThat(stats.runningOn(s)).as("stripe %d", s).isZero(); // not +1 where it began, -1 where it ended
        }
        Thread[] threads = new Thread[StatementStats.STRIPES];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> stats.begin()); // begun on every stripe, ended nowhere yet
            threads[t].start();
            threads[t].join();
        }
        assertThat(stats.running()).isEqualTo(StatementStats.STRIPES);
    }

    @Test
    void theFirstStatementSeedsTheEwmaAndOneInEightPerThreadMovesIt() {
        assertThat(stats.ewmaNanos()).isZero();
        stats.end(stats.begin(), 8_000, true);
        assertThat(stats.ewmaNanos()).as("seeded by the first").isEqualTo(8_000);
        for (int i = 2; i < StatementStats.EWMA_SAMPLE; i++) {
            stats.end(stats.begin(), 1_000_000, true);
        }
        assertThat(stats.ewmaNanos()).as("statements 2 to 7 of this thread: not sampled").isEqualTo(8_000);
        stats.end(stats.begin(), 1_608_000, true); // the 8th: moves it an eighth of the way
        assertThat(stats.ewmaNanos()).isEqualTo(8_000 + (1_600_000 >> 3));
        assertThat(stats.latency().getTotalCount()).as("every statement is in the distribution")
                .isEqualTo(StatementStats.EWMA_SAMPLE);
    }

    @Test
    void aCheckMovesTheEwmaOnlyOnceAStatementSeededIt() {
        stats.nudgeEwma(5_000_000);
        assertThat(stats.ewmaNanos()).isZero();
        stats.end(stats.begin(), 1_000_000, true);
        stats.nudgeEwma(9_000_000);
        assertThat(stats.ewmaNanos()).isEqualTo(2_000_000);
    }
}

package dev.readsplit.consistency;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The causal position's bookkeeping: which writes a resolution covers, and the moment after which another session's
 * position question covers them too ({@link CausalPosition#notBefore()}).
 */
class CausalPositionTest {

    @Test
    void aResolutionCoversTheWritesCountedBeforeItBegan() {
        CausalPosition p = new CausalPosition();
        assertThat(p.isEmpty()).isTrue();
        p.recordWrite();
        assertThat(p.pending()).isTrue();
        long ticket = p.beginResolve();
        p.recordWrite(); // commits while the question is out: not covered by it
        p.resolved(ticket, 100);
        assertThat(p.lsn()).isEqualTo(100);
        assertThat(p.pending()).as("the second write still needs a position").isTrue();
        p.resolved(p.beginResolve(), 90);
        assertThat(p.pending()).isFalse();
        assertThat(p.lsn()).as("the location only grows").isEqualTo(100);
    }

    @Test
    void theMomentAQuestionMustFollowIsNoEarlierThanTheLastWriteItCovers() throws InterruptedException {
        CausalPosition p = new CausalPosition();
        long beforeFirst = System.nanoTime();
        p.recordWrite();
        assertThat(p.notBefore() - beforeFirst).isNotNegative();
        Thread.sleep(2);
        long beforeSecond = System.nanoTime();
        p.recordWrite();
        p.beginResolve();
        assertThat(p.notBefore() - beforeSecond)
                .as("a question sent between the two writes would not cover the second").isNotNegative();
    }

    @Test
    void twoWritersRacingNeverMoveTheMomentBack() throws InterruptedException {
        CausalPosition p = new CausalPosition();
        Thread[] writers = new Thread[4];
        for (int i = 0; i < writers.length; i++) {
            writers[i] = new Thread(() -> {
                for (int j = 0; j < 10_000; j++) {
                    p.recordWrite();
                }
            });
            writers[i].start();
        }
        long seen = p.notBefore();
        while (anyAlive(writers)) {
            long now = p.notBefore();
            assertThat(now - seen).as("notBefore only moves forward").isNotNegative();
            seen = now;
        }
        long afterAll = System.nanoTime();
        assertThat(p.writes()).isEqualTo(40_000);
        assertThat(afterAll - p.notBefore()).isNotNegative();
    }

    private static boolean anyAlive(Thread[] threads) {
        for (Thread t : threads) {
            if (t.isAlive()) {
                return true;
            }
        }
        return false;
    }
}

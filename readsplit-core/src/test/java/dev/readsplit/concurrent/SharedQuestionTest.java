package dev.readsplit.concurrent;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The rule position questions are shared by (docs/consistency.md): a caller only ever gets the answer of a question
 * that started at or after the moment it named, callers that wait together share one, and a failure answers nobody.
 * Each question here is a counter: its answer is its number, so a test can tell which question a caller got.
 */
class SharedQuestionTest {

    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final SharedQuestion shared = new SharedQuestion();
    private final AtomicLong asked = new AtomicLong();

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    /** A question that blocks until {@code release} opens, then answers its own number. */
    private SharedQuestion.Question blocking(CountDownLatch started, CountDownLatch release) {
        return () -> {
            long n = asked.incrementAndGet();
            started.countDown();
            try {
                if (!release.await(10, TimeUnit.SECONDS)) {
                    throw new SQLException("the test never released the question");
                }
            } catch (InterruptedException e) {
                throw new SQLException(e);
            }
            return n;
        };
    }

    private SharedQuestion.Question counting() {
        return asked::incrementAndGet;
    }

    @Test
    void aLoneCallerAsksItself() throws SQLException {
        assertThat(shared.ask(counting())).isEqualTo(1);
        assertThat(shared.ask(counting())).as("a later call never gets an earlier answer").isEqualTo(2);
        assertThat(shared.questionsStarted()).isEqualTo(2);
    }

    @Test
    void anAnswerToAQuestionStartedAfterTheCallersMomentIsReusedWithoutAsking() throws SQLException {
        long before = System.nanoTime();
        assertThat(shared.ask(counting())).isEqualTo(1);
        assertThat(shared.ask(before, counting())).as("the first question started after 'before'").isEqualTo(1);
        assertThat(asked).hasValue(1);
        assertThat(shared.ask(System.nanoTime(), counting())).isEqualTo(2);
    }

    /**
     * The question that runs when a caller arrives started too early for it: it must wait for the next one. Callers
     * arriving meanwhile all get that next question, asked once for them.
     */
    @Test
    void callersArrivingDuringAQuestionShareTheNextOne() throws Exception {
        CountDownLatch firstStarted = new CountDownLatch(1);
        CountDownLatch releaseFirst = new CountDownLatch(1);
        Future<Long> first = pool.submit(() -> shared.ask(blocking(firstStarted, releaseFirst)));
        assertThat(firstStarted.await(10, TimeUnit.SECONDS)).isTrue();

        AtomicInteger secondRoundQuestions = new AtomicInteger();
        List<Future<Long>> late = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            late.add(pool.submit(() -> shared.ask(() -> {
                secondRoundQuestions.incrementAndGet();
                return asked.incrementAndGet();
            })));
        }
        // every late caller is waiting on the running question (none may take its answer)
        await().atMost(10, TimeUnit.SECONDS).until(() -> waiting() == 5);
        releaseFirst.countDown();

        assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        for (Future<Long> f : late) {
            assertThat(f.get(10, TimeUnit.SECONDS)).as("a question started after it called").isEqualTo(2);
        }
        assertThat(secondRoundQuestions).as("one question for the five").hasValue(1);
        assertThat(shared.questionsStarted()).isEqualTo(2);
    }

    /** A caller whose moment is before the running question started takes that question's answer. */
    @Test
    void aCallerWhoseMomentPrecedesTheRunningQuestionTakesItsAnswer() throws Exception {
        long moment = System.nanoTime();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<Long> leader = pool.submit(() -> shared.ask(blocking(started, release)));
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        Future<Long> follower = pool.submit(() -> shared.ask(moment, counting()));
        await().atMost(10, TimeUnit.SECONDS).until(() -> waiting() == 1);
        release.countDown();
        assertThat(leader.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(follower.get(10, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(asked).hasValue(1);
    }

    @Test
    void aFailedQuestionAnswersNobodyAndAWaitingCallerAsksItself() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<Long> failing = pool.submit(() -> shared.ask(() -> {
            blocking(started, release).ask();
            throw new SQLException("the server went away", "08006");
        }));
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        Future<Long> waiter = pool.submit(() -> shared.ask(counting()));
        await().atMost(10, TimeUnit.SECONDS).until(() -> waiting() == 1);
        release.countDown();

        assertThatThrownBy(() -> failing.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(SQLException.class)
                .hasMessageContaining("the server went away");
        assertThat(waiter.get(10, TimeUnit.SECONDS)).as("its own question, not the failed one").isEqualTo(2);
        // and nothing was recorded for the failed question: an older moment still needs a new one
        assertThat(shared.ask(counting())).isEqualTo(3);
    }

    @Test
    void anInterruptedWaiterFailsWithItsFlagSet() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Future<Long> leader = pool.submit(() -> shared.ask(blocking(started, release)));
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        AtomicLong flagAfter = new AtomicLong(-1);
        Thread waiterThread = new Thread(() -> {
            try {
                shared.ask(counting());
            } catch (SQLException e) {
                flagAfter.set(Thread.currentThread().isInterrupted() && "57014".equals(e.getSQLState()) ? 1 : 0);
            }
        });
        waiterThread.start();
        await().atMost(10, TimeUnit.SECONDS).until(() -> waiting() == 1);
        waiterThread.interrupt();
        waiterThread.join(10_000);
        assertThat(flagAfter).hasValue(1);
        release.countDown();
        assertThat(leader.get(10, TimeUnit.SECONDS)).isEqualTo(1);
    }

    /** Threads parked in the shared question's condition (the lock is the only one this class uses). */
    private int waiting() throws Exception {
        var lockField = SharedQuestion.class.getDeclaredField("lock");
        lockField.setAccessible(true);
        var conditionField = SharedQuestion.class.getDeclaredField("ended");
        conditionField.setAccessible(true);
        var lock = (java.util.concurrent.locks.ReentrantLock) lockField.get(shared);
        var condition = (java.util.concurrent.locks.Condition) conditionField.get(shared);
        lock.lock();
        try {
            return lock.getWaitQueueLength(condition);
        } finally {
            lock.unlock();
        }
    }
}

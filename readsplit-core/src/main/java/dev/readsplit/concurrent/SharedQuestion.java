package dev.readsplit.concurrent;

import java.sql.SQLException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One question that many threads need a fresh answer to, asked by one of them at a time for all: a caller names the
 * moment its answer must postdate ({@code notBefore}, a {@link System#nanoTime()}), and gets the answer of a question
 * <em>started at or after it</em>: one already answered, the one running, or the next, which the first waiting
 * caller asks for all of them. So a caller waits for at most two questions, and {@code n} callers arriving together
 * cost at most two questions, not {@code n}.
 *
 * <p>Made for WAL positions: any insert position the primary reports to a question sent after a session's commit is
 * a valid causal position for it (docs/consistency.md), and any replay position a standby reports after a session
 * asked is as good as the one it would have asked for itself.
 *
 * <p>A question that fails answers nobody: its asker gets the failure, and a waiting caller asks again itself.
 *
 * <p>Concurrency: thread-safe; the question itself runs outside the lock, on one thread at a time.
 */
public final class SharedQuestion {

    /** The question: one round trip to a server. */
    @FunctionalInterface
    public interface Question {
        long ask() throws SQLException;
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ended = lock.newCondition();
    private long started;
    private boolean running;
    private boolean answered;
    /** When the last answered question started, and its answer. */
    private long answeredStartNanos;
    private long answer;

    /** {@link #ask(long, Question)} for a question started after this call. */
    public long ask(Question question) throws SQLException {
        return ask(System.nanoTime(), question);
    }

    /**
     * The answer of a question started at or after {@code notBefore}: asked by this thread, or shared with another
     * caller's.
     *
     * @param notBefore a {@link System#nanoTime()} no later than now
     * @throws SQLException the failure of the question this thread asked, or an interrupt while it waited for
     *                      another caller's (SQLSTATE 57014, the thread's interrupt flag set again)
     */
    public long ask(long notBefore, Question question) throws SQLException {
        lock.lock();
        try {
            while (!answered || answeredStartNanos - notBefore < 0) {
                if (!running) {
                    return askAsLeader(question);
                }
                try {
                    ended.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while waiting for a shared server question", "57014", e);
                }
            }
            return answer;
        } finally {
            lock.unlock();
        }
    }

    /** Runs the question for every caller waiting now; called and returns with the lock held. */
    private long askAsLeader(Question question) throws SQLException {
        running = true;
        started++;
        long startNanos = System.nanoTime();
        boolean ok = false;
        long value = 0;
        lock.unlock();
        try {
            value = question.ask();
            ok = true;
            return value;
        } finally {
            lock.lock();
            running = false;
            if (ok) {
                answered = true;
                answeredStartNanos = startNanos;
                answer = value;
            }
            ended.signalAll();
        }
    }

    /** How many questions were started so far (for tests and metrics). */
    public long questionsStarted() {
        lock.lock();
        try {
            return started;
        } finally {
            lock.unlock();
        }
    }
}

package dev.readsplit.failover;

import java.sql.SQLException;
import java.time.Duration;

/**
 * Holds statements bound for the primary while a switchover moves it, or while an HA manager (Patroni) names no
 * leader Readsplit can confirm ({@link #hold}). Routing asks {@link #paused()} (a
 * volatile read, free on the common path) and, only when paused, waits in {@link #awaitOpen}; the switchover
 * pauses and resumes. Bounded: a pause ends by itself when its bound passes, and a waiting statement gives up
 * with an exception rather than wait longer than that.
 *
 * <p>Public only so the data source's routing in another package can reach it; not for applications.
 */
public final class WriteGate {

    private final Object lock = new Object();
    private volatile boolean paused;
    private long resumeByNanos;
    /** How long one statement may wait (Long.MAX_VALUE: until the pause's bound). */
    private long waiterCapNanos = Long.MAX_VALUE;
    private String reason = "a switchover";

    public boolean paused() {
        return paused;
    }

    void pause(Duration bound) {
        synchronized (lock) {
            resumeByNanos = System.nanoTime() + bound.toNanos();
            waiterCapNanos = Long.MAX_VALUE;
            reason = "a switchover";
            paused = true;
        }
    }

    /**
     * Holds writes until {@link #resume()}, each statement for at most {@code waiterCap} (then it fails, SQLSTATE 55000,
     * naming {@code why}); a switchover's pause is not shortened by it.
     */
    void hold(Duration waiterCap, String why) {
        synchronized (lock) {
            if (paused && waiterCapNanos == Long.MAX_VALUE) {
                return; // a switchover holds the writes already
            }
            resumeByNanos = Long.MAX_VALUE;
            waiterCapNanos = waiterCap.toNanos();
            reason = why;
            paused = true;
        }
    }

    /** Ends a {@link #hold} (not a switchover's pause). */
    void release() {
        synchronized (lock) {
            if (paused && waiterCapNanos != Long.MAX_VALUE) {
                paused = false;
                lock.notifyAll();
            }
        }
    }

    void resume() {
        synchronized (lock) {
            paused = false;
            lock.notifyAll();
        }
    }

    /**
     * Waits until the gate opens.
     *
     * @throws SQLException (SQLSTATE 55000) when the pause outlives its bound
     */
    public void awaitOpen(String dataSource) throws SQLException {
        long start = System.nanoTime();
        synchronized (lock) {
            while (paused) {
                long now = System.nanoTime();
                long left = resumeByNanos == Long.MAX_VALUE ? Long.MAX_VALUE : resumeByNanos - now;
                if (waiterCapNanos != Long.MAX_VALUE) {
                    left = Math.min(left, waiterCapNanos - (now - start));
                }
                if (left <= 0) {
                    throw new SQLException(dataSource + ": writes are held (" + reason + ") longer than their bound;"
                            + " the statement was not run", "55000");
                }
                try {
                    lock.wait(Math.max(1, Math.min(left, Long.MAX_VALUE / 2) / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException(dataSource + ": interrupted while writes were held (" + reason + ")",
                            "57014", e);
                }
            }
        }
    }
}

package dev.readsplit.failover;

import java.sql.SQLException;
import java.time.Duration;

/**
 * Holds statements bound for the primary while a switchover moves it. Routing asks {@link #paused()} (a
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

    public boolean paused() {
        return paused;
    }

    void pause(Duration bound) {
        synchronized (lock) {
            resumeByNanos = System.nanoTime() + bound.toNanos();
            paused = true;
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
        synchronized (lock) {
            while (paused) {
                long left = resumeByNanos - System.nanoTime();
                if (left <= 0) {
                    throw new SQLException(dataSource + ": writes are paused for a switchover that outlived its"
                            + " bound; the statement was not run", "55000");
                }
                try {
                    lock.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException(dataSource + ": interrupted while writes were paused for a switchover",
                            "57014", e);
                }
            }
        }
    }
}

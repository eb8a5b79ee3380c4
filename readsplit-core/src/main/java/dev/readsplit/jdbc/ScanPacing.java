package dev.readsplit.jdbc;

/**
 * How often the {@link Hedger}'s scanner looks: every tick while statements run or a node is stalled; after a second
 * of ticks that found nothing running, once a second ({@linkplain #parked() parked}) until a statement starts and
 * wakes it. An idle data source's scanner then wakes once a second instead of up to a thousand times. A statement that
 * starts while the scanner parks may miss the wake-up; the once-a-second look finds it.
 *
 * <p>Concurrency: {@link #afterScan} on the scanner thread only; {@link #parked()} from any thread (a volatile read:
 * every execution asks it); {@link #wake()} under the hedger's lock.
 */
final class ScanPacing {

    /** How long a parked scanner waits between looks. */
    static final long PARKED_TICK_NANOS = 1_000_000_000L;

    private final long tickNanos;
    private final int idleTicksToPark;
    private int idleTicks; // scanner thread only
    private volatile boolean parked;

    ScanPacing(long tickNanos) {
        if (tickNanos <= 0) {
            throw new IllegalArgumentException("tick must be positive: " + tickNanos);
        }
        this.tickNanos = tickNanos;
        this.idleTicksToPark = (int) Math.max(1, PARKED_TICK_NANOS / tickNanos);
    }

    /**
     * After one scan: {@code active} when it found a statement running or a node stalled. Returns the wait before the
     * next scan.
     */
    long afterScan(boolean active) {
        if (active) {
            idleTicks = 0;
            parked = false;
        } else if (!parked && ++idleTicks >= idleTicksToPark) {
            parked = true;
        }
        return parked ? PARKED_TICK_NANOS : tickNanos;
    }

    /** Whether the scanner looks only once a second now (a statement that starts should {@link #wake()} it). */
    boolean parked() {
        return parked;
    }

    /** A statement started: back to every tick. Returns false if the scanner was not parked (nothing to do). */
    boolean wake() {
        if (!parked) {
            return false;
        }
        parked = false;
        idleTicks = 0;
        return true;
    }
}

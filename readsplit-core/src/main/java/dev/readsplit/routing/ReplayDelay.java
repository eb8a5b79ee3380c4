package dev.readsplit.routing;

/**
 * How long to let a replica replay a session's fresh causal position before asking it (see {@link ReplayWait}): a
 * probe sent the moment after a commit usually finds the standby a few hundred microseconds short, costs a round
 * trip for nothing and then sleeps a whole backoff step. The estimate follows what the waits see: a wait whose
 * first probe already found the position shortens it by an eighth (a shorter pause might have done); a wait that
 * needed more probes moves it an eighth of the way toward the time the position took. Capped at
 * {@link #MAX_FIRST_PAUSE_NANOS}; 0 (probe at once) until a wait has taught it otherwise.
 *
 * <p>Concurrency: one per data source, updated by every waiting thread without a lock; a lost update only delays
 * the estimate by one wait.
 */
final class ReplayDelay {

    /** The longest pause before a wait's first probe: 2 ms. */
    static final long MAX_FIRST_PAUSE_NANOS = 2_000_000L;

    private volatile long estimateNanos;

    /** The pause before a wait's first probe. */
    long firstPauseNanos() {
        return estimateNanos;
    }

    /** The wait's first probe found the position replayed. */
    void replayedAtFirstProbe() {
        long old = estimateNanos;
        estimateNanos = old - (old >> 3) - (old < 8 ? old : 0);
    }

    /** The position was found replayed only after {@code nanos} (from the start of the wait, with later probes). */
    void replayedAfter(long nanos) {
        long target = Math.min(MAX_FIRST_PAUSE_NANOS, Math.max(0, nanos));
        long old = estimateNanos;
        estimateNanos = old == 0 ? target : old + ((target - old) >> 3);
    }
}

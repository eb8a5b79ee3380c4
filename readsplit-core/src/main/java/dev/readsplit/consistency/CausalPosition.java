package dev.readsplit.consistency;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The causal position of one scope ({@link CausalScope}): the WAL location its reads must see, and whether a write
 * has committed since that location was last taken. A write only bumps a counter ({@link #recordWrite()}); the
 * location itself is taken lazily, when a read needs it, by whoever holds a connection to the primary
 * ({@link #beginResolve()} ... {@link #resolved}).
 *
 * <h2>Concurrency</h2>
 * Shared by every connection of its scope, so possibly by many threads (the data-source scope). Writes are counted
 * with an atomic increment <em>after</em> the write returned; a resolver reads the count, then asks the primary for
 * its WAL insert position, then records that position as covering that count. A write counted after the resolver
 * read the count keeps the position pending, so no write is ever lost by a concurrent resolution. The location only
 * grows ({@code accumulateAndGet(max)}). A scope that never wrote nor imported a token reads two volatile fields
 * per read and nothing else.
 */
public final class CausalPosition {

    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong covered = new AtomicLong();
    private final AtomicLong lsn = new AtomicLong(-1);
    /** {@link System#nanoTime()} when the last write was recorded: set before the count moves (see {@link #notBefore}). */
    private final AtomicLong lastWriteNanos = new AtomicLong(System.nanoTime());

    /** Something that may have written has committed (or may have): the position must be taken again. */
    public void recordWrite() {
        lastWriteNanos.accumulateAndGet(System.nanoTime(), Math::max); // two writers: the later time stays
        writes.incrementAndGet();
    }

    /**
     * After {@link #beginResolve()}: a {@link System#nanoTime()} after the writes its ticket covers returned, so any
     * insert position the primary reported to a question sent at or after it covers them (another session's question
     * will do). Writes record their time before they are counted, so the ticket never covers a write later than this.
     */
    public long notBefore() {
        return lastWriteNanos.get();
    }

    /** Whether a write committed since the location was last taken. */
    public boolean pending() {
        return writes.get() != covered.get();
    }

    /** Whether the scope ever wrote or imported a position: {@code false} means reads need no position at all. */
    public boolean isEmpty() {
        return lsn.get() < 0 && writes.get() == 0;
    }

    /** The count of writes a resolution that starts now covers: pass it to {@link #resolved}. */
    public long beginResolve() {
        return writes.get();
    }

    /** {@code insertLsn}, read from the primary after {@link #beginResolve()} returned {@code ticket}, covers the writes so far. */
    public void resolved(long ticket, long insertLsn) {
        observe(insertLsn);
        covered.accumulateAndGet(ticket, Math::max);
    }

    /** Raises the location to at least {@code position} (an imported token, or a resolution). */
    public void observe(long position) {
        lsn.accumulateAndGet(position, Math::max);
    }

    /** How many possible writes were recorded (for tests and diagnostics). */
    public long writes() {
        return writes.get();
    }

    /** The location reads must see, -1 when none (never wrote, or wrote with no location taken yet). */
    public long lsn() {
        return lsn.get();
    }

    @Override
    public String toString() {
        return "CausalPosition[lsn=" + lsn.get() + (pending() ? ", write pending" : "") + "]";
    }
}

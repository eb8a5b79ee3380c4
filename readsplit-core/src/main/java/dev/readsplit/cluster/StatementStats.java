package dev.readsplit.cluster;

import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a node counts about the statements it runs: how many are running now, how many ended (reads and writes), their
 * durations (a distribution and an EWMA). Every statement updates it, from whichever thread runs it, so it is laid out
 * for threads on different cores not to write the same cache line (docs/benchmarks.md, "Shared cache lines on the
 * operation path"): a node-wide counter or histogram that every statement updates moves its cache line between the
 * cores on every statement, and on the 2-core benchmark machine that (with the held sets' packed slots) made the
 * stub-driver benchmark's operation about twice as slow with 2 threads as with 1.
 *
 * <h2>Layout</h2>
 * A thread writes to its stripe, picked from its id ({@link #STRIPES} of them: threads with consecutive ids, as a
 * pool's threads usually are, get distinct stripes while there are no more of them than stripes). The running count
 * is one padded slot per stripe of an {@link AtomicLongArray} (a statement increments and decrements the same slot,
 * so every slot stays at least 0 and the sum never misses a statement that runs while it is taken); the durations go
 * to one {@link ConcurrentHistogram} per stripe, created when a thread first records into it. The ended counts are
 * {@link LongAdder}s, which stripe themselves. The EWMA is one field that all threads share, so it moves on the first
 * statement and then on one in {@value #EWMA_SAMPLE} of each stripe's statements (by the stripe's own count, kept in
 * the slot after its running count), with alpha 1/8 over those.
 *
 * <p>Readers (status, metrics, the hedger's budgets, the balancers that weigh load or latency) sum the stripes: a
 * sum or a copy taken while statements end may miss the last few of them.
 */
final class StatementStats {

    /**
     * Stripes: four per processor (rounded up to a power of two), 8 to 64; 8 on the 2-core benchmark machine. Enough
     * that a pool's threads rarely share one; few enough that a reader's sum (the least-outstanding and latency-aware
     * balancers read the running count of every candidate on every read) stays a handful of cache lines: with 16 on
     * that machine, a least-outstanding read cost 20 ns more with one thread than the single counter did.
     */
    static final int STRIPES = Math.min(64, Math.max(8,
            Integer.highestOneBit(Math.max(1, Runtime.getRuntime().availableProcessors()) * 2 - 1) * 4));
    /** Slots between two stripes' running counts: 16 longs, 128 bytes (twice a cache line, as {@code @Contended}). */
    private static final int PAD = 16;
    /** One statement in this many (per stripe) moves the EWMA. */
    static final int EWMA_SAMPLE = 8;
    /** The distribution's range, in microseconds: 1 µs to 1 h, 2 significant digits. */
    static final long MAX_MICROS = 3_600_000_000L;

    private final AtomicLongArray running = new AtomicLongArray((STRIPES + 1) * PAD);
    private final AtomicReferenceArray<ConcurrentHistogram> micros = new AtomicReferenceArray<>(STRIPES);
    private final LongAdder reads = new LongAdder();
    private final LongAdder writes = new LongAdder();
    private volatile long ewmaNanos;

    /** The calling thread's stripe. */
    private static int stripe() {
        return (int) Thread.currentThread().getId() & (STRIPES - 1);
    }

    /** Where stripe {@code s}'s running count is in {@link #running} (its ended count is the slot after it). */
    private static int slot(int s) {
        return (s + 1) * PAD;
    }

    /** A statement starts; returns its stripe, for {@link #end}. */
    int begin() {
        int s = stripe();
        running.getAndIncrement(slot(s));
        return s;
    }

    /**
     * A statement that took {@code elapsedNanos} ended; {@code s} is what its {@link #begin()} returned (the proxy ends
     * a statement on another thread than the one that began it: the count goes back down on the same slot).
     */
    void end(int s, long elapsedNanos, boolean read) {
        int slot = slot(s);
        running.getAndDecrement(slot);
        long ended = running.incrementAndGet(slot + 1); // the stripe's own count, on the line just written
        if (read) {
            reads.increment();
        } else {
            writes.increment();
        }
        ConcurrentHistogram h = micros.get(s);
        if (h == null) {
            h = new ConcurrentHistogram(1, MAX_MICROS, 2);
            if (!micros.compareAndSet(s, null, h)) {
                h = micros.get(s);
            }
        }
        h.recordValue(Math.max(1, Math.min(MAX_MICROS, elapsedNanos / 1000)));
        long old = ewmaNanos;
        if (old == 0) {
            ewmaNanos = Math.max(1, elapsedNanos);
        } else if ((ended & (EWMA_SAMPLE - 1)) == 0) {
            ewmaNanos = old + ((elapsedNanos - old) >> 3);
        }
    }

    /** Statements running now: the sum of the stripes (never below 0). */
    int running() {
        long n = 0;
        for (int s = 0; s < STRIPES; s++) {
            n += running.get(slot(s));
        }
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, n));
    }

    /** Statements running on stripe {@code s} (for tests: never below 0). */
    long runningOn(int s) {
        return running.get(slot(s));
    }

    long reads() {
        return reads.sum();
    }

    long writes() {
        return writes.sum();
    }

    /** The EWMA of statement durations, in nanoseconds; 0 before the first statement. */
    long ewmaNanos() {
        return ewmaNanos;
    }

    /** Moves the EWMA by {@code nanos} (a health check's round trip) once a statement has seeded it. */
    void nudgeEwma(long nanos) {
        long old = ewmaNanos;
        if (old != 0) {
            ewmaNanos = old + ((nanos - old) >> 3);
        }
    }

    /** A copy of the distribution of every stripe, in microseconds (cumulative since the node joined). */
    Histogram latency() {
        Histogram all = new Histogram(1, MAX_MICROS, 2);
        for (int s = 0; s < STRIPES; s++) {
            ConcurrentHistogram h = micros.get(s);
            if (h != null) {
                all.add(h.copy());
            }
        }
        return all;
    }
}

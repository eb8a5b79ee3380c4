package dev.readsplit.concurrent;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A concurrent set of objects that threads hold for a while and give back: the physical connections a node has lent
 * to logical connections, the executions a hedger watches. Made for the operation path, where one thread adds an
 * object and removes it again once per operation: an add is one compare-and-set into a free slot, a remove one
 * compare-and-set back to empty, neither allocates nor locks ({@code ConcurrentHashMap.newKeySet()} allocates a node
 * per add and locks a bin per remove). Iterating (rare: aborting a node's connections when it goes down, a hedger's
 * scan) reads every slot.
 *
 * <p>Slots live in segments of {@value #SEGMENT} that are only ever appended (under a lock, when every slot is taken),
 * never moved or dropped, so a slot an add took stays where it is until its remove: the set is as large as the most
 * objects it ever held at once, rounded up to a segment. A thread starts probing at a slot picked from its id, and
 * usually finds its own object there again when it removes it; several threads spread over the segment.
 *
 * <p>Membership is by identity. An object must not be added twice while it is in the set. Iteration is weakly
 * consistent, as {@code ConcurrentHashMap}'s: it sees every object that was in the set for the whole iteration, and
 * may or may not see one added or removed meanwhile.
 *
 * @param <T> the type of the objects held
 */
public final class HeldSet<T> implements Iterable<T> {

    static final int SEGMENT = 32;
    /**
     * Array elements between two slots: 32 references (128 bytes with compressed references, twice a cache line, as
     * the JDK's {@code @Contended} pads), so that no two slots share a cache line (or an adjacent-line prefetch pair).
     * Packed slots made every add and remove of one thread invalidate the line the others were adding to: on the
     * 2-core benchmark machine the stub-driver benchmark ran twice as slow per operation with 2 threads as with 1
     * (docs/benchmarks.md, "Shared cache lines on the operation path").
     */
    static final int STRIDE = 32;

    /** Copy-on-write: replaced (one segment longer) under {@code this}, read without a lock. */
    private volatile AtomicReferenceArray<Object>[] segments;

    @SuppressWarnings("unchecked")
    public HeldSet() {
        segments = new AtomicReferenceArray[] {new AtomicReferenceArray<>(SEGMENT * STRIDE)};
    }

    /** Adds {@code item} (not null, not already in the set). */
    public void add(T item) {
        Objects.requireNonNull(item, "item");
        int start = start();
        AtomicReferenceArray<Object>[] segs = segments;
        while (true) {
            for (AtomicReferenceArray<Object> seg : segs) {
                for (int j = 0; j < SEGMENT; j++) {
                    int i = index((start + j) & (SEGMENT - 1));
                    if (seg.get(i) == null && seg.compareAndSet(i, null, item)) {
                        return;
                    }
                }
            }
            segs = grow(segs);
        }
    }

    /** Removes {@code item}; returns whether it was in the set. */
    public boolean remove(T item) {
        if (item == null) {
            return false;
        }
        int start = start();
        for (AtomicReferenceArray<Object> seg : segments) {
            for (int j = 0; j < SEGMENT; j++) {
                int i = index((start + j) & (SEGMENT - 1));
                if (seg.get(i) == item) {
                    return seg.compareAndSet(i, item, null);
                }
            }
        }
        return false;
    }

    /** How many objects the set holds now (reads every slot: for status and tests). */
    public int size() {
        int n = 0;
        for (AtomicReferenceArray<Object> seg : segments) {
            for (int i = 0; i < SEGMENT; i++) {
                if (seg.get(index(i)) != null) {
                    n++;
                }
            }
        }
        return n;
    }

    /** How many slots the set has (a multiple of {@value #SEGMENT}): what an iteration reads. */
    public int capacity() {
        return segments.length * SEGMENT;
    }

    @Override
    public Iterator<T> iterator() {
        AtomicReferenceArray<Object>[] segs = segments;
        return new Iterator<>() {
            private int slot = -1;
            private Object next = advance();

            private Object advance() {
                int total = segs.length * SEGMENT;
                while (++slot < total) {
                    Object o = segs[slot / SEGMENT].get(index(slot % SEGMENT));
                    if (o != null) {
                        return o;
                    }
                }
                return null;
            }

            @Override
            public boolean hasNext() {
                return next != null;
            }

            @Override
            @SuppressWarnings("unchecked")
            public T next() {
                if (next == null) {
                    throw new NoSuchElementException();
                }
                Object o = next;
                next = advance();
                return (T) o;
            }
        };
    }

    /** Appends a segment unless another thread already did since {@code seen} was read; returns the segments now. */
    private synchronized AtomicReferenceArray<Object>[] grow(AtomicReferenceArray<Object>[] seen) {
        AtomicReferenceArray<Object>[] now = segments;
        if (now != seen) {
            return now;
        }
        AtomicReferenceArray<Object>[] longer = java.util.Arrays.copyOf(now, now.length + 1);
        longer[now.length] = new AtomicReferenceArray<>(SEGMENT * STRIDE);
        segments = longer;
        return longer;
    }

    /** Where slot {@code slot} (0 to {@value #SEGMENT} - 1) of a segment is in the segment's array. */
    private static int index(int slot) {
        return slot * STRIDE;
    }

    /** The slot a thread starts probing at: its id, mixed (Fibonacci hashing), so threads spread over a segment. */
    private static int start() {
        return (int) ((Thread.currentThread().getId() * 0x9E3779B97F4A7C15L) >>> 59);
    }
}

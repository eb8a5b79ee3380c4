package dev.readsplit.topology;

import org.HdrHistogram.Histogram;

/**
 * Rolling time-lag distribution of one replica over the last {@value #WINDOW_MILLIS} ms: six HdrHistogram
 * buckets of ten seconds each; a snapshot merges the buckets still inside the window.
 *
 * <p>Concurrency: one writer (the node's health check, at most one at a time) and occasional readers
 * (status page, tests); both are {@code synchronized}: a few calls per second, never on the routing path.
 */
public final class LagWindow {

    static final long WINDOW_MILLIS = 60_000;
    private static final int BUCKETS = 6;
    private static final long BUCKET_MILLIS = WINDOW_MILLIS / BUCKETS;

    /** Percentiles of the time lag in milliseconds over the window; all -1 when nothing was recorded. */
    public record Snapshot(long p50, long p95, long p99, long max, long count) {
        static final Snapshot EMPTY = new Snapshot(-1, -1, -1, -1, 0);
    }

    private final Histogram[] buckets = new Histogram[BUCKETS];
    private final long[] bucketStart = new long[BUCKETS];

    LagWindow() {
        for (int i = 0; i < BUCKETS; i++) {
            buckets[i] = new Histogram(2);
            bucketStart[i] = Long.MIN_VALUE;
        }
    }

    synchronized void record(long nowMillis, long lagMillis) {
        if (lagMillis < 0) {
            return;
        }
        long start = nowMillis - Math.floorMod(nowMillis, BUCKET_MILLIS);
        int i = (int) Math.floorMod(Math.floorDiv(nowMillis, BUCKET_MILLIS), (long) BUCKETS);
        if (bucketStart[i] != start) {
            buckets[i].reset();
            bucketStart[i] = start;
        }
        buckets[i].recordValue(lagMillis);
    }

    synchronized Snapshot snapshot(long nowMillis) {
        Histogram merged = null;
        for (int i = 0; i < BUCKETS; i++) {
            if (bucketStart[i] != Long.MIN_VALUE && nowMillis - bucketStart[i] < WINDOW_MILLIS
                    && buckets[i].getTotalCount() > 0) {
                if (merged == null) {
                    merged = buckets[i].copy();
                } else {
                    merged.add(buckets[i]);
                }
            }
        }
        if (merged == null) {
            return Snapshot.EMPTY;
        }
        return new Snapshot(merged.getValueAtPercentile(50), merged.getValueAtPercentile(95),
                merged.getValueAtPercentile(99), merged.getMaxValue(), merged.getTotalCount());
    }
}

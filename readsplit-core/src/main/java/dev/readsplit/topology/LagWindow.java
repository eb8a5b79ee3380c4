package dev.readsplit.topology;

import org.HdrHistogram.Histogram;

/**
 * Rolling time-lag distribution of one replica over the last {@value #WINDOW_MILLIS} ms: six HdrHistogram
 * buckets of ten seconds each; a snapshot merges the buckets still inside the window. Beside the histogram each
 * bucket keeps the sums of a least-squares line through its (time, lag) samples, so a snapshot also gives the
 * lag's trend over the window (seed 004's "lag trend detection") without keeping the samples.
 *
 * <p>Each node's window lives in the node (the non-exported {@code dev.readsplit.cluster}); applications see its
 * snapshots only ({@link NodeView#lagPercentiles}).
 *
 * <p>Concurrency: one writer (the node's health check, at most one at a time) and occasional readers
 * (status page, meters, tests); both are {@code synchronized}: a few calls per second, never on the routing path.
 */
public final class LagWindow {

    /** The window's length. */
    public static final long WINDOW_MILLIS = 60_000;
    private static final int BUCKETS = 6;
    private static final long BUCKET_MILLIS = WINDOW_MILLIS / BUCKETS;

    /** How the lag moved over the window. */
    public enum Trend {
        /** Fewer than two samples, or all at one instant. */
        UNKNOWN,
        /** The fitted line fell by at least {@link #significantChange} over the samples' span. */
        FALLING,
        /** Neither rising nor falling. */
        STEADY,
        /** The fitted line rose by at least {@link #significantChange} over the samples' span. */
        RISING;

        /**
         * The change over the window that counts as a trend: 100 ms, or a tenth of the mean lag when that is more
         * (a replica 30 s behind that drifts by 200 ms is steady).
         */
        static double significantChange(double meanMillis) {
            return Math.max(100.0, meanMillis / 10);
        }
    }

    /**
     * The time lag in milliseconds over the window: percentiles, max, min and mean, and the slope of the fitted
     * line in milliseconds of lag per minute. All -1 (slope NaN, trend UNKNOWN) when nothing was recorded.
     */
    public record Snapshot(long p50, long p95, long p99, long max, long count, long min, double mean,
                           double slopeMillisPerMinute, Trend trend) {
        static final Snapshot EMPTY = new Snapshot(-1, -1, -1, -1, 0, -1, -1, Double.NaN, Trend.UNKNOWN);
    }

    private final Histogram[] buckets = new Histogram[BUCKETS];
    private final long[] bucketStart = new long[BUCKETS];
    /**
     * Per bucket: n, sum t, sum t^2, sum y, sum t*y, with t in ms since the bucket's start (at most ten seconds, so
     * the sums stay exact enough in a double) and y the lag in ms.
     */
    private final double[][] fit = new double[BUCKETS][5];
    private final long[] firstAt = new long[BUCKETS];
    private final long[] lastAt = new long[BUCKETS];

    public LagWindow() {
        for (int i = 0; i < BUCKETS; i++) {
            buckets[i] = new Histogram(2);
            bucketStart[i] = Long.MIN_VALUE;
        }
    }

    public synchronized void record(long nowMillis, long lagMillis) {
        if (lagMillis < 0) {
            return;
        }
        long start = nowMillis - Math.floorMod(nowMillis, BUCKET_MILLIS);
        int i = (int) Math.floorMod(Math.floorDiv(nowMillis, BUCKET_MILLIS), (long) BUCKETS);
        if (bucketStart[i] != start) {
            buckets[i].reset();
            bucketStart[i] = start;
            java.util.Arrays.fill(fit[i], 0);
            firstAt[i] = nowMillis;
        }
        buckets[i].recordValue(lagMillis);
        double t = nowMillis - start;
        double[] f = fit[i];
        f[0] += 1;
        f[1] += t;
        f[2] += t * t;
        f[3] += lagMillis;
        f[4] += t * lagMillis;
        lastAt[i] = nowMillis;
    }

    public synchronized Snapshot snapshot(long nowMillis) {
        Histogram merged = null;
        double n = 0;
        double st = 0;
        double stt = 0;
        double sy = 0;
        double sty = 0;
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (int i = 0; i < BUCKETS; i++) {
            if (bucketStart[i] != Long.MIN_VALUE && nowMillis - bucketStart[i] < WINDOW_MILLIS
                    && buckets[i].getTotalCount() > 0) {
                if (merged == null) {
                    merged = buckets[i].copy();
                } else {
                    merged.add(buckets[i]);
                }
                // shift the bucket's sums to a common origin, the window's start: sum(t+o) = St + n*o, ...
                double[] f = fit[i];
                double o = bucketStart[i] - (nowMillis - WINDOW_MILLIS);
                n += f[0];
                st += f[1] + f[0] * o;
                stt += f[2] + 2 * o * f[1] + f[0] * o * o;
                sy += f[3];
                sty += f[4] + o * f[3];
                first = Math.min(first, firstAt[i]);
                last = Math.max(last, lastAt[i]);
            }
        }
        if (merged == null) {
            return Snapshot.EMPTY;
        }
        double mean = sy / n;
        double variance = stt - st * st / n;
        double slopePerMilli = n >= 2 && variance > 1e-9 ? (sty - st * sy / n) / variance : Double.NaN;
        Trend trend = Trend.UNKNOWN;
        if (!Double.isNaN(slopePerMilli)) {
            double change = slopePerMilli * (last - first);
            double significant = Trend.significantChange(mean);
            trend = change >= significant ? Trend.RISING : change <= -significant ? Trend.FALLING : Trend.STEADY;
        }
        return new Snapshot(merged.getValueAtPercentile(50), merged.getValueAtPercentile(95),
                merged.getValueAtPercentile(99), merged.getMaxValue(), merged.getTotalCount(), merged.getMinValue(),
                mean, slopePerMilli * 60_000, trend);
    }
}

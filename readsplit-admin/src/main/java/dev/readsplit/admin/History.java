package dev.readsplit.admin;

import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeView;
import org.HdrHistogram.Histogram;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The last few minutes of each node, one sample a second, for the dashboard's charts: reads/s, writes/s and
 * p99 statement latency over the second (from the node's cumulative latency histogram minus the previous
 * copy), lag in bytes and seconds, and state. Bounded: {@code capacity} samples per node; a removed node's
 * series is dropped with it.
 *
 * <p>Concurrency: {@link #sample} runs on the server's one sampler thread; {@link #snapshot} on request
 * workers. Both hold this object's monitor: a few microseconds, once a second.
 */
final class History {

    /** One node at one second. Rates are per second; -1 where unknown (the first sample, no statement). */
    record Point(long atMillis, double readsPerSecond, double writesPerSecond, double p99Millis, long lagBytes,
                 double lagSeconds, String state) {
    }

    /** A node's series, oldest first. */
    record Series(String name, String role, boolean primary, List<Point> points) {
    }

    private static final class Track {
        final ArrayDeque<Point> points = new ArrayDeque<>();
        long reads = -1;
        long writes = -1;
        long at;
        Histogram latency;
    }

    private final ReadsplitDataSource ds;
    private final int capacity;
    private final Map<String, Track> tracks = new LinkedHashMap<>();
    private final Map<String, String> roles = new HashMap<>();

    History(ReadsplitDataSource ds, int capacity) {
        this.ds = ds;
        this.capacity = capacity;
    }

    /** Takes one sample of every node now. */
    synchronized void sample() {
        long now = ds.topology().clock().millis();
        NodeView primary = ds.topology().primary();
        Map<String, Track> live = new LinkedHashMap<>();
        for (NodeView n : ds.topology().nodes()) {
            Track t = tracks.computeIfAbsent(n.name(), k -> new Track());
            live.put(n.name(), t);
            long reads = n.readsServed();
            long writes = n.writesServed();
            Histogram latency = n.statementLatency();
            double seconds = t.reads < 0 ? 0 : (now - t.at) / 1000.0;
            double rps = -1;
            double wps = -1;
            double p99 = -1;
            if (seconds > 0) {
                rps = Math.max(0, reads - t.reads) / seconds;
                wps = Math.max(0, writes - t.writes) / seconds;
                Histogram interval = latency.copy();
                if (t.latency != null && t.latency.getTotalCount() <= interval.getTotalCount()) {
                    interval.subtract(t.latency);
                }
                if (interval.getTotalCount() > 0) {
                    p99 = interval.getValueAtPercentile(99) / 1000.0;
                }
            }
            boolean isPrimary = n == primary;
            t.points.addLast(new Point(now, rps, wps, p99, isPrimary ? 0 : n.lagBytes(),
                    isPrimary ? 0 : n.lagMillis() < 0 ? -1 : n.lagMillis() / 1000.0, n.state().name()));
            while (t.points.size() > capacity) {
                t.points.removeFirst();
            }
            t.reads = reads;
            t.writes = writes;
            t.at = now;
            t.latency = latency;
            roles.put(n.name(), isPrimary ? "PRIMARY" : n.role() == null ? "REPLICA" : n.role().name());
        }
        tracks.keySet().retainAll(live.keySet());
        roles.keySet().retainAll(live.keySet());
    }

    /** Every node's series, in topology order. */
    synchronized List<Series> snapshot() {
        String primary = ds.topology().primary().name();
        List<Series> out = new ArrayList<>(tracks.size());
        for (Map.Entry<String, Track> e : tracks.entrySet()) {
            out.add(new Series(e.getKey(), roles.getOrDefault(e.getKey(), "REPLICA"), e.getKey().equals(primary),
                    List.copyOf(e.getValue().points)));
        }
        return out;
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.cluster.Node;
import org.HdrHistogram.Histogram;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each node's latency budget and whether it is making progress, for the {@link Hedger}: the budget is
 * {@link HedgeSettings#budgetNanos} of the p99 of the statements that ended on the node in the last second (from the
 * node's own latency histogram, so reads pay nothing for it), kept from the previous window while a node has too few
 * statements to measure, and the cap before any; progress is a change in the node's count of finished statements.
 *
 * <p>Concurrency: the scanner's thread only (the data structures are not shared).
 */
final class HedgeBudgets {

    /** The window the p99 is taken over. */
    static final long WINDOW_NANOS = 1_000_000_000L;
    /** Fewer statements than this in a window say nothing about a p99: the last budget stays. */
    static final int MIN_SAMPLES = 50;

    private final HedgeSettings settings;
    private final Map<Node, Window> windows = new IdentityHashMap<>();

    private static final class Window {
        Histogram last;
        long refreshedNanos;
        long budgetNanos;
        long finished = -1;
        long progressNanos;
    }

    HedgeBudgets(HedgeSettings settings) {
        this.settings = settings;
    }

    /** Takes the nodes' new latencies and finished counts into account at {@code now} (the scanner's ticker). */
    void refresh(List<Node> nodes, long now) {
        if (windows.size() > nodes.size()) {
            windows.keySet().retainAll(new java.util.HashSet<>(nodes)); // nodes removed at runtime
        }
        for (int i = 0, n = nodes.size(); i < n; i++) {
            Node node = nodes.get(i);
            Window w = windows.computeIfAbsent(node, k -> {
                Window nw = new Window();
                nw.budgetNanos = settings.maxBudgetNanos();
                nw.progressNanos = now;
                nw.refreshedNanos = now - WINDOW_NANOS;
                return nw;
            });
            long finished = node.readsServed() + node.writesServed();
            if (finished != w.finished) {
                w.finished = finished;
                w.progressNanos = now;
            }
            if (now - w.refreshedNanos >= WINDOW_NANOS) {
                w.refreshedNanos = now;
                Histogram all = node.statementLatency();
                Histogram recent = all.copy();
                try {
                    if (w.last != null) {
                        recent.subtract(w.last);
                    }
                    if (recent.getTotalCount() >= MIN_SAMPLES) {
                        w.budgetNanos = settings.budgetNanos(recent.getValueAtPercentile(99) * 1000L);
                    }
                } catch (RuntimeException e) {
                    // a copy that missed a value the previous one had: measure again from this one
                }
                w.last = all;
            }
        }
    }

    /** The budget of a read on {@code node} now (the cap for a node not measured yet). */
    long budgetNanos(Node node) {
        Window w = windows.get(node);
        return w == null ? settings.maxBudgetNanos() : w.budgetNanos;
    }

    /** Whether a statement finished on {@code node} in the last {@code nanos} before {@code now}. */
    boolean progressedWithin(Node node, long now, long nanos) {
        Window w = windows.get(node);
        return w == null || now - w.progressNanos <= nanos;
    }
}

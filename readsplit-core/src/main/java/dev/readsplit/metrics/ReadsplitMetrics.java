package dev.readsplit.metrics;

import dev.readsplit.Role;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.RouteReason;
import dev.readsplit.topology.LagWindow;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.TopologyEvent;
import dev.readsplit.topology.TopologyListener;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.FunctionTimer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * Micrometer meters for one {@link ReadsplitDataSource}: bind it to your registry with
 * {@code new ReadsplitMetrics(ds).bindTo(registry)}.
 *
 * <p>Every meter is a gauge, function counter or function timer that reads the data source's own counters
 * when the registry is scraped: nothing is called on the query path. Every meter carries the tag
 * {@code datasource} (the data source's name); per-node meters also {@code node} (the node's name, by default
 * {@code host:port}). Tag values never hold a credential or a connection string. The list, with their
 * Prometheus names, is in {@code docs/operations.md}.
 *
 * <p>Nodes added or removed at runtime get or lose their meters as it happens (a topology listener per
 * registry); {@link #close()} removes the listeners and every meter this binder registered.
 */
public final class ReadsplitMetrics implements MeterBinder, AutoCloseable {

    private final ReadsplitDataSource ds;
    private final Tags common;
    private final List<Binding> bindings = new CopyOnWriteArrayList<>();

    public ReadsplitMetrics(ReadsplitDataSource ds) {
        this(ds, Tags.empty());
    }

    /** With extra tags on every meter (e.g. {@code application}). */
    public ReadsplitMetrics(ReadsplitDataSource ds, Iterable<io.micrometer.core.instrument.Tag> extraTags) {
        this.ds = java.util.Objects.requireNonNull(ds, "ds");
        this.common = Tags.of("datasource", ds.name()).and(extraTags);
    }

    /** The seed-003-shaped counters now. */
    public MetricsSnapshot snapshot() {
        return MetricsSnapshot.of(ds);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Binding b = new Binding(registry);
        bindings.add(b);
        b.bindGlobal();
        ds.topology().addListener(b);
        for (NodeView n : ds.topology().nodes()) {
            b.bindNode(n);
        }
    }

    @Override
    public void close() {
        for (Binding b : bindings) {
            ds.topology().removeListener(b);
            b.removeAll();
        }
        bindings.clear();
    }

    /** The meters registered in one registry, and the listener that keeps per-node meters current. */
    private final class Binding implements TopologyListener {
        private final MeterRegistry registry;
        private final List<Meter> global = new ArrayList<>();
        private final Map<NodeView, List<Meter>> perNode = new HashMap<>();

        Binding(MeterRegistry registry) {
            this.registry = registry;
        }

        void bindGlobal() {
            for (RouteReason r : RouteReason.values()) {
                global.add(FunctionCounter.builder("readsplit.route.decisions", ds, d -> d.routeCounts().getOrDefault(r, 0L))
                        .tags(common).tag("reason", r.name())
                        .description("Statements routed, by the reason applied").register(registry));
                global.add(FunctionCounter.builder("readsplit.route.shadow.decisions", ds,
                                d -> d.shadowRouteCounts().getOrDefault(r, 0L))
                        .tags(common).tag("reason", r.name())
                        .description("Shadow mode: where statements would have gone, by reason").register(registry));
            }
            global.add(FunctionCounter.builder("readsplit.fallbacks", ds, ReadsplitMetrics::fallbacks)
                    .tags(common).description("Reads sent to the primary because no replica was eligible")
                    .register(registry));
            global.add(FunctionCounter.builder("readsplit.read.retries", ds, ReadsplitDataSource::readRetries)
                    .tags(common).description("Reads retried on another node after a connection-level failure")
                    .register(registry));
            for (String outcome : new String[] {"started", "won", "lost", "failed", "denied"}) {
                java.util.function.ToDoubleFunction<ReadsplitDataSource> count = switch (outcome) {
                    case "started" -> ReadsplitDataSource::hedgesStarted;
                    case "won" -> ReadsplitDataSource::hedgesWon;
                    case "lost" -> ReadsplitDataSource::hedgesLost;
                    case "failed" -> ReadsplitDataSource::hedgesFailed;
                    default -> ReadsplitDataSource::hedgesDenied;
                };
                global.add(FunctionCounter.builder("readsplit.read.hedges", ds, count)
                        .tags(common).tag("outcome", outcome)
                        .description("Reads past their latency budget hedged on another node, by outcome (started; won:"
                                + " the hedge answered first; lost: the read did; failed; denied: over hedgeMaxShare)")
                        .register(registry));
            }
            global.add(FunctionCounter.builder("readsplit.misroutes", ds, ReadsplitDataSource::misroutes)
                    .tags(common).description("Statements a replica refused as writes (25006), re-run on the primary")
                    .register(registry));
            global.add(FunctionTimer.builder("readsplit.consistency.waits", ds, ReadsplitDataSource::consistencyWaits,
                            ReadsplitDataSource::consistencyWaitNanos, TimeUnit.NANOSECONDS)
                    .tags(common).description("Reads that waited for a replica to replay the session's writes")
                    .register(registry));
            global.add(FunctionCounter.builder("readsplit.failovers", ds, ReadsplitDataSource::primaryChanges)
                    .tags(common).description("Times writes moved to another node (primary changes)")
                    .register(registry));
            global.add(Gauge.builder("readsplit.replicas", ds, d -> d.topology().replicas().size())
                    .tags(common).description("Nodes observed as replicas").register(registry));
            global.add(Gauge.builder("readsplit.replicas.healthy", ds, ReadsplitMetrics::healthyReplicas)
                    .tags(common).description("Replicas taking reads now (UP, not excluded for lag)")
                    .register(registry));
            global.add(Gauge.builder("readsplit.replica.hit.ratio", ds, ReadsplitMetrics::replicaHitRatio)
                    .tags(common).description("Share of reads served by replicas (0 to 1; NaN before any read)")
                    .register(registry));
            global.add(Gauge.builder("readsplit.shadow.mode", ds, d -> d.shadowMode() ? 1 : 0)
                    .tags(common).description("1 when shadow mode is on").register(registry));
        }

        synchronized void bindNode(NodeView n) {
            if (perNode.containsKey(n)) {
                return;
            }
            Tags t = common.and("node", n.name());
            List<Meter> meters = new ArrayList<>();
            meters.add(FunctionCounter.builder("readsplit.queries", n, NodeView::readsServed)
                    .tags(t).tag("kind", "read").description("Statements executed, by node and kind")
                    .register(registry));
            meters.add(FunctionCounter.builder("readsplit.queries", n, NodeView::writesServed)
                    .tags(t).tag("kind", "write").description("Statements executed, by node and kind")
                    .register(registry));
            meters.add(FunctionCounter.builder("readsplit.health.check.failures", n, NodeView::healthCheckFailures)
                    .tags(t).description("Failed health checks").register(registry));
            meters.add(gauge("readsplit.node.up", n, t, x -> x.state() == NodeState.UP ? 1 : 0,
                    "1 when the node is UP"));
            meters.add(gauge("readsplit.node.primary", n, t, x -> x == ds.topology().primary() ? 1 : 0,
                    "1 for the node writes go to"));
            meters.add(Gauge.builder("readsplit.node.response.time", n, x -> x.latencyEwmaNanos() / 1e9).tags(t)
                    .baseUnit("seconds").description("EWMA of check and statement response time")
                    .strongReference(true).register(registry));
            meters.add(gauge("readsplit.replica.lag.bytes", n, t, x -> lagBytes(x),
                    "Replay lag in bytes (NaN until measured, 0 for the primary)"));
            meters.add(gauge("readsplit.replica.lag.seconds", n, t, x -> lagSeconds(x),
                    "Replay lag in seconds (NaN until measured, 0 for the primary)"));
            meters.add(gauge("readsplit.replica.lag.excluded", n, t, x -> x.lagExcluded() ? 1 : 0,
                    "1 when excluded from reads for lag"));
            for (String stat : new String[] {"p50", "p95", "p99", "max", "mean", "min"}) {
                meters.add(Gauge.builder("readsplit.replica.lag.window", n, x -> windowStat(x, stat)).tags(t)
                        .tag("stat", stat).baseUnit("seconds").strongReference(true)
                        .description("Replay lag over the last minute: percentiles, max, mean and min (NaN while"
                                + " no lag was measured in the window)")
                        .register(registry));
            }
            meters.add(gauge("readsplit.replica.lag.trend", n, t, x -> trend(x),
                    "Slope of the lag over the last minute, in seconds of lag per minute (NaN when unknown)"));
            meters.add(gauge("readsplit.replica.lag.limit", n, t, x -> ds.config().lag().maxLag(x.config()).toMillis() / 1e3,
                    "The replica's lag limit in seconds (its own maxLag, else the data source's)"));
            meters.add(gauge("readsplit.pool.connections", n, t.and("state", "active"), x -> x.poolStats().active(),
                    "Pool connections by state"));
            meters.add(gauge("readsplit.pool.connections", n, t.and("state", "idle"), x -> x.poolStats().idle(),
                    "Pool connections by state"));
            meters.add(gauge("readsplit.pool.connections", n, t.and("state", "pending"),
                    x -> x.poolStats().pending(), "Pool connections by state"));
            meters.add(gauge("readsplit.pool.max", n, t, x -> x.poolStats().max(), "Pool maximum size"));
            meters.add(gauge("readsplit.node.inflight", n, t, NodeView::inFlight, "Statements running on the node"));
            perNode.put(n, meters);
        }

        private Meter gauge(String name, NodeView n, Tags tags, ToDoubleFunction<NodeView> f, String description) {
            return Gauge.builder(name, n, f).tags(tags).description(description).strongReference(true)
                    .register(registry);
        }

        synchronized void unbindNode(NodeView n) {
            List<Meter> meters = perNode.remove(n);
            if (meters != null) {
                meters.forEach(registry::remove);
            }
        }

        synchronized void removeAll() {
            perNode.values().forEach(ms -> ms.forEach(registry::remove));
            perNode.clear();
            global.forEach(registry::remove);
            global.clear();
        }

        @Override
        public void onEvent(TopologyEvent event) {
            if (event.kind() == TopologyEvent.Kind.NODE_ADDED) {
                NodeView n = ds.topology().node(event.node());
                if (n != null) {
                    bindNode(n);
                }
            } else if (event.kind() == TopologyEvent.Kind.NODE_REMOVED) {
                synchronized (this) {
                    for (NodeView n : new ArrayList<>(perNode.keySet())) {
                        if (n.name().equals(event.node()) && !ds.topology().nodes().contains(n)) {
                            unbindNode(n);
                        }
                    }
                }
            }
        }
    }

    private static double fallbacks(ReadsplitDataSource ds) {
        Map<RouteReason, Long> routes = ds.routeCounts();
        long n = 0;
        for (RouteReason r : MetricsSnapshot.FALLBACK_REASONS) {
            n += routes.getOrDefault(r, 0L);
        }
        return n;
    }

    private static double healthyReplicas(ReadsplitDataSource ds) {
        int n = 0;
        for (NodeView r : ds.topology().replicas()) {
            if (r.state().takesNewTraffic() && !r.lagExcluded()) {
                n++;
            }
        }
        return n;
    }

    private double windowStat(NodeView n, String stat) {
        if (isPrimary(n)) {
            return Double.NaN;
        }
        LagWindow.Snapshot s = n.lagPercentiles(ds.topology().clock().millis());
        if (s.count() == 0) {
            return Double.NaN;
        }
        long millis = switch (stat) {
            case "p50" -> s.p50();
            case "p95" -> s.p95();
            case "p99" -> s.p99();
            case "max" -> s.max();
            case "min" -> s.min();
            default -> -1;
        };
        return stat.equals("mean") ? s.mean() / 1e3 : millis / 1e3;
    }

    private double trend(NodeView n) {
        if (isPrimary(n)) {
            return Double.NaN;
        }
        return n.lagPercentiles(ds.topology().clock().millis()).slopeMillisPerMinute() / 1e3;
    }

    private boolean isPrimary(NodeView n) {
        return n == ds.topology().primary() || n.role() == Role.PRIMARY;
    }

    private static double replicaHitRatio(ReadsplitDataSource ds) {
        long reads = ds.readsServed();
        return reads == 0 ? Double.NaN : Math.min(1.0, (double) MetricsSnapshot.replicaReads(ds) / reads);
    }

    private double lagBytes(NodeView n) {
        if (n == ds.topology().primary() || n.role() == Role.PRIMARY) {
            return 0;
        }
        return n.lagBytes() < 0 ? Double.NaN : n.lagBytes();
    }

    private double lagSeconds(NodeView n) {
        if (n == ds.topology().primary() || n.role() == Role.PRIMARY) {
            return 0;
        }
        return n.lagMillis() < 0 ? Double.NaN : n.lagMillis() / 1000.0;
    }
}

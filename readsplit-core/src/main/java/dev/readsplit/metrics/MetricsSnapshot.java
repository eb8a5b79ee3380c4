package dev.readsplit.metrics;

import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.RouteReason;
import dev.readsplit.topology.Node;

import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

/**
 * The data source's counters at one moment, in seed 003's shape ({@code readQueries}, {@code writeQueries},
 * {@code replicaFailovers}, {@code healthCheckFailures}, {@code replicaCount}) plus the routing detail.
 * Immutable; the maps are unmodifiable and hold only non-zero counts.
 *
 * @param readQueries          statements classified as reads, executed on any node (fallbacks to the primary
 *                             included)
 * @param writeQueries         every other statement executed
 * @param replicaFailovers     reads that failed on a replica with a connection-level error and were retried on
 *                             another node (seed 003's meaning; the same number as {@code readRetries})
 * @param healthCheckFailures  failed health checks, all nodes
 * @param replicaCount         nodes currently observed as replicas (any state)
 * @param healthyReplicas      of those, the ones taking reads now (UP, not excluded for lag)
 * @param primaryFailovers     times writes moved to another node
 * @param fallbacks            reads sent to the primary because no replica was eligible (no healthy replica,
 *                             every replica too far behind, or none had replayed the session's writes)
 * @param readRetries          see {@code replicaFailovers}
 * @param misroutes            statements a replica refused as writes (25006), re-run on the primary
 * @param consistencyWaits     reads that waited for a replica to replay the session's writes
 * @param consistencyWaitNanos total time those reads waited
 * @param shadowMode           whether shadow mode is on
 * @param routeDecisions       statements routed, by the reason applied
 * @param shadowDecisions      in shadow mode, where statements would have gone, by reason
 */
public record MetricsSnapshot(long readQueries, long writeQueries, long replicaFailovers, long healthCheckFailures,
                              int replicaCount, int healthyReplicas, long primaryFailovers, long fallbacks,
                              long readRetries, long misroutes, long consistencyWaits, long consistencyWaitNanos,
                              boolean shadowMode, Map<RouteReason, Long> routeDecisions,
                              Map<RouteReason, Long> shadowDecisions) {

    /** The reasons counted as fallbacks to the primary. */
    public static final Set<RouteReason> FALLBACK_REASONS =
            Set.of(RouteReason.NO_REPLICA_FALLBACK, RouteReason.LAG, RouteReason.TOKEN_NOT_REPLAYED);

    public MetricsSnapshot {
        routeDecisions = unmodifiable(routeDecisions);
        shadowDecisions = unmodifiable(shadowDecisions);
    }

    /** The counters of {@code ds} now. */
    public static MetricsSnapshot of(ReadsplitDataSource ds) {
        Map<RouteReason, Long> routes = ds.routeCounts();
        long fallbacks = 0;
        for (RouteReason r : FALLBACK_REASONS) {
            fallbacks += routes.getOrDefault(r, 0L);
        }
        int replicas = 0;
        int healthy = 0;
        for (Node n : ds.topology().replicas()) {
            replicas++;
            if (n.state().takesNewTraffic() && !n.lagExcluded()) {
                healthy++;
            }
        }
        long retries = ds.readRetries();
        return new MetricsSnapshot(ds.readsServed(), ds.writesServed(), retries, ds.healthCheckFailures(), replicas,
                healthy, ds.primaryChanges(), fallbacks, retries, ds.misroutes(), ds.consistencyWaits(),
                ds.consistencyWaitNanos(), ds.shadowMode(), routes, ds.shadowRouteCounts());
    }

    private static Map<RouteReason, Long> unmodifiable(Map<RouteReason, Long> m) {
        Map<RouteReason, Long> copy = new EnumMap<>(RouteReason.class);
        if (m != null) {
            copy.putAll(m);
        }
        return java.util.Collections.unmodifiableMap(copy);
    }

    /** This snapshot as a JSON object (see {@code docs/operations.md}). */
    public String toJson() {
        JsonWriter w = new JsonWriter();
        write(w);
        return w.toString();
    }

    void write(JsonWriter w) {
        w.beginObject()
                .field("readQueries", readQueries)
                .field("writeQueries", writeQueries)
                .field("replicaFailovers", replicaFailovers)
                .field("healthCheckFailures", healthCheckFailures)
                .field("replicaCount", replicaCount)
                .field("healthyReplicas", healthyReplicas)
                .field("primaryFailovers", primaryFailovers)
                .field("fallbacks", fallbacks)
                .field("readRetries", readRetries)
                .field("misroutes", misroutes)
                .field("consistencyWaits", consistencyWaits)
                .field("consistencyWaitSeconds", consistencyWaitNanos / 1e9)
                .field("shadowMode", shadowMode);
        w.name("routeDecisions").beginObject();
        routeDecisions.forEach((k, v) -> w.field(k.name(), v));
        w.endObject();
        w.name("shadowDecisions").beginObject();
        shadowDecisions.forEach((k, v) -> w.field(k.name(), v));
        w.endObject();
        w.endObject();
    }
}

package dev.readsplit.metrics;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.RouteReason;
import dev.readsplit.topology.NodeView;

import java.io.IOException;
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
 * @param replicaReads         of {@code readQueries}, those executed on a node other than the current primary
 * @param routeDecisions       statements routed, by the reason applied
 * @param shadowDecisions      in shadow mode, where statements would have gone, by reason
 */
public record MetricsSnapshot(long readQueries, long writeQueries, long replicaFailovers, long healthCheckFailures,
                              int replicaCount, int healthyReplicas, long primaryFailovers, long fallbacks,
                              long readRetries, long misroutes, long consistencyWaits, long consistencyWaitNanos,
                              boolean shadowMode, long replicaReads, Map<RouteReason, Long> routeDecisions,
                              Map<RouteReason, Long> shadowDecisions) {

    /** The reasons counted as fallbacks to the primary. */
    public static final Set<RouteReason> FALLBACK_REASONS =
            Set.of(RouteReason.NO_REPLICA_FALLBACK, RouteReason.LAG, RouteReason.TOKEN_NOT_REPLAYED);

    public MetricsSnapshot {
        routeDecisions = unmodifiable(routeDecisions);
        shadowDecisions = unmodifiable(shadowDecisions);
    }

    /**
     * Seed 004's {@code replica_hit_rate_percent}: the share of reads that replicas served, in percent (0 to 100),
     * or null before any read. A read counts where it ran: reads that fell back to the primary (no eligible
     * replica, consistency, a hint) lower it. Counted per node, so a replica promoted by a failover takes its
     * earlier reads along.
     */
    public Double replicaHitRatePercent() {
        return readQueries == 0 ? null : 100.0 * Math.min(replicaReads, readQueries) / readQueries;
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
        for (NodeView n : ds.topology().replicas()) {
            replicas++;
            if (n.state().takesNewTraffic() && !n.lagExcluded()) {
                healthy++;
            }
        }
        long retries = ds.readRetries();
        return new MetricsSnapshot(ds.readsServed(), ds.writesServed(), retries, ds.healthCheckFailures(), replicas,
                healthy, ds.primaryChanges(), fallbacks, retries, ds.misroutes(), ds.consistencyWaits(),
                ds.consistencyWaitNanos(), ds.shadowMode(), replicaReads(ds), routes, ds.shadowRouteCounts());
    }

    /** Reads executed on the nodes that are not the primary now. */
    static long replicaReads(ReadsplitDataSource ds) {
        NodeView primary = ds.topology().primary();
        long n = 0;
        for (NodeView node : ds.topology().nodes()) {
            if (node != primary) {
                n += node.readsServed();
            }
        }
        return n;
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
        return StatusJson.write(this::write);
    }

    void write(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeNumberField("readQueries", readQueries);
        g.writeNumberField("writeQueries", writeQueries);
        g.writeNumberField("replicaFailovers", replicaFailovers);
        g.writeNumberField("healthCheckFailures", healthCheckFailures);
        g.writeNumberField("replicaCount", replicaCount);
        g.writeNumberField("healthyReplicas", healthyReplicas);
        g.writeNumberField("primaryFailovers", primaryFailovers);
        g.writeNumberField("fallbacks", fallbacks);
        g.writeNumberField("readRetries", readRetries);
        g.writeNumberField("misroutes", misroutes);
        g.writeNumberField("consistencyWaits", consistencyWaits);
        StatusJson.number(g, "consistencyWaitSeconds", consistencyWaitNanos / 1e9);
        g.writeBooleanField("shadowMode", shadowMode);
        g.writeNumberField("replicaReads", replicaReads);
        StatusJson.number(g, "replicaHitRatePercent", replicaHitRatePercent());
        g.writeObjectFieldStart("routeDecisions");
        for (Map.Entry<RouteReason, Long> e : routeDecisions.entrySet()) {
            g.writeNumberField(e.getKey().name(), e.getValue());
        }
        g.writeEndObject();
        g.writeObjectFieldStart("shadowDecisions");
        for (Map.Entry<RouteReason, Long> e : shadowDecisions.entrySet()) {
            g.writeNumberField(e.getKey().name(), e.getValue());
        }
        g.writeEndObject();
        g.writeEndObject();
    }
}

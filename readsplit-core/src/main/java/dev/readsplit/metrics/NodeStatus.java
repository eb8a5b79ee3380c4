package dev.readsplit.metrics;

import dev.readsplit.Role;
import dev.readsplit.topology.NodeState;

import java.time.Instant;

/**
 * One node as the status snapshot shows it. Immutable; holds no credential and no connection string (only
 * host, port and database name).
 *
 * @param name               the node's name (default {@code host:port})
 * @param role               observed role ({@code pg_is_in_recovery()}), or the configured one before the first check
 * @param primary            whether writes go to this node now
 * @param state              health state
 * @param host               host name (null for a generic JDBC node given by URL)
 * @param port               port (0 for a generic JDBC node)
 * @param database           database name, or null
 * @param zone               configured zone, or null
 * @param lastHealthCheck    when the last check finished, or null before the first
 * @param failureCount       consecutive failed checks (0 when the last check succeeded)
 * @param healthCheckFailures failed checks since the node joined
 * @param responseTimeMillis EWMA of check and statement response times, in milliseconds
 * @param lagBytes           replay lag in bytes, or null when unknown (and for the primary: 0)
 * @param lagSeconds         replay lag in seconds, or null when unknown
 * @param lagP95Seconds      95th percentile of the lag over the monitor's window, or null when not measured
 * @param lagP99Seconds      99th percentile, or null when not measured
 * @param lagExcluded        excluded from new reads for lag
 * @param pool               the node's pool counters
 * @param inFlight           statements running on the node now
 * @param readsServed        reads executed on the node
 * @param writesServed       other statements executed on the node
 * @param lastError          why the node is not UP (health-check or traffic error summary), or null
 * @param excludedReason     why a replica is excluded from new reads (over the lag limits, or not streaming from the
 *                           current primary), or null
 */
public record NodeStatus(String name, Role role, boolean primary, NodeState state, String host, int port,
                         String database, String zone, Instant lastHealthCheck, int failureCount,
                         long healthCheckFailures, double responseTimeMillis, Long lagBytes, Double lagSeconds,
                         Double lagP95Seconds, Double lagP99Seconds, boolean lagExcluded, Pool pool, int inFlight,
                         long readsServed, long writesServed, String lastError, String excludedReason) {

    /** Whether the node takes new traffic (UP and, for a replica, not excluded for lag). */
    public boolean healthy() {
        return state == NodeState.UP && !lagExcluded;
    }

    /**
     * Pool counters as HikariCP reports them, with seed 002's names: {@code connections} (open) and
     * {@code available} (that a caller could still take without waiting).
     */
    public record Pool(int active, int idle, int pending, int max, int connections, int available) {
    }

    void write(JsonWriter w) {
        w.beginObject()
                .field("name", name)
                .field("role", role == null ? null : role.name())
                .field("primary", primary)
                .field("state", state.name())
                .field("healthy", healthy())
                .field("host", host)
                .field("port", port)
                .field("database", database)
                .field("zone", zone)
                .field("lastHealthCheck", lastHealthCheck == null ? null : lastHealthCheck.toString())
                .field("failureCount", failureCount)
                .field("healthCheckFailures", healthCheckFailures)
                .field("responseTime", responseTimeMillis)
                .name("lag").beginObject();
        w.name("bytes");
        if (lagBytes == null) {
            w.nullValue();
        } else {
            w.value(lagBytes.longValue());
        }
        w.field("seconds", lagSeconds)
                .field("p95Seconds", lagP95Seconds)
                .field("p99Seconds", lagP99Seconds)
                .field("excluded", lagExcluded)
                .field("excludedReason", excludedReason)
                .endObject();
        w.name("pool").beginObject()
                .field("active", pool.active())
                .field("idle", pool.idle())
                .field("pending", pool.pending())
                .field("max", pool.max())
                .field("connections", pool.connections())
                .field("available", pool.available())
                .endObject();
        w.field("inFlight", inFlight)
                .field("readsServed", readsServed)
                .field("writesServed", writesServed)
                .field("lastError", lastError)
                .endObject();
    }
}

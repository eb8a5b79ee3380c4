package dev.readsplit.metrics;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.readsplit.Role;
import dev.readsplit.topology.LagWindow;
import dev.readsplit.topology.NodeState;

import java.io.IOException;
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
 * @param zone               configured zone (region), or null
 * @param weight             configured weight (the weighted balancer's share)
 * @param lastHealthCheck    when the last check finished, or null before the first
 * @param failureCount       consecutive failed checks (0 when the last check succeeded)
 * @param healthCheckFailures failed checks since the node joined
 * @param responseTimeMillis EWMA of statement response times (kept fresh by health checks once a statement has run), in
 *                           milliseconds; 0 before the first statement
 * @param lagBytes           replay lag in bytes, or null when unknown (and for the primary: 0)
 * @param lagSeconds         replay lag in seconds, or null when unknown
 * @param lagWindow          the lag over the monitor's window (percentiles, mean, min, trend)
 * @param maxLagSeconds      this replica's lag limit (its own {@code maxLag}, else the data source's)
 * @param lagExcluded        excluded from new reads for lag
 * @param pool               the node's pool counters
 * @param inFlight           statements running on the node now
 * @param stalled            statements on it have run past their hedging budget and it finished nothing for as long:
 *                           new reads go to another replica while one can take them (docs/failover.md, "Hedged reads")
 * @param readsServed        reads executed on the node
 * @param writesServed       other statements executed on the node
 * @param lastError          why the node is not UP (health-check or traffic error summary), or null
 * @param excludedReason     why a replica is excluded from new reads (over the lag limits, or not streaming from the
 *                           current primary), or null
 */
public record NodeStatus(String name, Role role, boolean primary, NodeState state, String host, int port,
                         String database, String zone, int weight, Instant lastHealthCheck, int failureCount,
                         long healthCheckFailures, double responseTimeMillis, Long lagBytes, Double lagSeconds,
                         LagStats lagWindow, double maxLagSeconds, boolean lagExcluded, Pool pool, int inFlight,
                         boolean stalled, long readsServed, long writesServed, String lastError, String excludedReason) {

    /** Whether the node takes new traffic (UP and, for a replica, not excluded for lag). */
    public boolean healthy() {
        return state == NodeState.UP && !lagExcluded;
    }

    /** 95th percentile of the lag over the window in seconds, or null when no lag was measured in it. */
    public Double lagP95Seconds() {
        return lagWindow.p95Seconds();
    }

    /** 99th percentile of the lag over the window in seconds, or null when no lag was measured in it. */
    public Double lagP99Seconds() {
        return lagWindow.p99Seconds();
    }

    /**
     * Pool counters as HikariCP reports them, with seed 002's names: {@code connections} (open) and
     * {@code available} (that a caller could still take without waiting).
     */
    public record Pool(int active, int idle, int pending, int max, int connections, int available) {
    }

    /**
     * A replica's time lag over the last minute (seed 004's lag statistics), in seconds; every value is null when
     * no lag was measured in the window (the primary, a replica not checked yet).
     *
     * @param windowSeconds         the window's length
     * @param samples               lag measurements in the window
     * @param trend                 {@code RISING}, {@code FALLING}, {@code STEADY} or {@code UNKNOWN} (fewer than two
     *                              samples): whether the least-squares line through the samples moved by at least
     *                              100 ms (or a tenth of the mean, when more) over their span
     * @param trendSecondsPerMinute the slope of that line: seconds of lag gained per minute (negative: catching up)
     */
    public record LagStats(double windowSeconds, long samples, Double p50Seconds, Double p95Seconds,
                           Double p99Seconds, Double maxSeconds, Double meanSeconds, Double minSeconds, String trend,
                           Double trendSecondsPerMinute) {

        /** The statistics of a window snapshot (milliseconds) in seconds. */
        public static LagStats of(LagWindow.Snapshot s, double windowSeconds) {
            if (s.count() == 0) {
                return new LagStats(windowSeconds, 0, null, null, null, null, null, null,
                        LagWindow.Trend.UNKNOWN.name(), null);
            }
            return new LagStats(windowSeconds, s.count(), s.p50() / 1000.0, s.p95() / 1000.0, s.p99() / 1000.0,
                    s.max() / 1000.0, s.mean() / 1000.0, s.min() / 1000.0, s.trend().name(),
                    Double.isNaN(s.slopeMillisPerMinute()) ? null : s.slopeMillisPerMinute() / 1000.0);
        }
    }

    void write(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", name);
        StatusJson.string(g, "role", role == null ? null : role.name());
        g.writeBooleanField("primary", primary);
        g.writeStringField("state", state.name());
        g.writeBooleanField("healthy", healthy());
        StatusJson.string(g, "host", host);
        g.writeNumberField("port", port);
        StatusJson.string(g, "database", database);
        StatusJson.string(g, "zone", zone);
        g.writeNumberField("weight", weight);
        StatusJson.string(g, "lastHealthCheck", lastHealthCheck == null ? null : lastHealthCheck.toString());
        g.writeNumberField("failureCount", failureCount);
        g.writeNumberField("healthCheckFailures", healthCheckFailures);
        StatusJson.number(g, "responseTime", responseTimeMillis);
        g.writeObjectFieldStart("lag");
        if (lagBytes == null) {
            g.writeNullField("bytes");
        } else {
            g.writeNumberField("bytes", lagBytes.longValue());
        }
        StatusJson.number(g, "seconds", lagSeconds);
        StatusJson.number(g, "p50Seconds", lagWindow.p50Seconds());
        StatusJson.number(g, "p95Seconds", lagWindow.p95Seconds());
        StatusJson.number(g, "p99Seconds", lagWindow.p99Seconds());
        StatusJson.number(g, "maxSeconds", lagWindow.maxSeconds());
        StatusJson.number(g, "meanSeconds", lagWindow.meanSeconds());
        StatusJson.number(g, "minSeconds", lagWindow.minSeconds());
        g.writeStringField("trend", lagWindow.trend());
        StatusJson.number(g, "trendSecondsPerMinute", lagWindow.trendSecondsPerMinute());
        g.writeNumberField("samples", lagWindow.samples());
        StatusJson.number(g, "windowSeconds", lagWindow.windowSeconds());
        StatusJson.number(g, "maxLagSeconds", maxLagSeconds);
        g.writeBooleanField("excluded", lagExcluded);
        StatusJson.string(g, "excludedReason", excludedReason);
        g.writeEndObject();
        g.writeObjectFieldStart("pool");
        g.writeNumberField("active", pool.active());
        g.writeNumberField("idle", pool.idle());
        g.writeNumberField("pending", pool.pending());
        g.writeNumberField("max", pool.max());
        g.writeNumberField("connections", pool.connections());
        g.writeNumberField("available", pool.available());
        g.writeEndObject();
        g.writeNumberField("inFlight", inFlight);
        g.writeBooleanField("stalled", stalled);
        g.writeNumberField("readsServed", readsServed);
        g.writeNumberField("writesServed", writesServed);
        StatusJson.string(g, "lastError", lastError);
        g.writeEndObject();
    }
}

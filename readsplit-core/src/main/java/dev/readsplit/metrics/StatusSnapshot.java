package dev.readsplit.metrics;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.readsplit.config.Redactor;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.LagWindow;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.PoolStats;
import dev.readsplit.topology.TopologyEvent;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a {@link ReadsplitDataSource} knows about its nodes at one moment: per node role, state, address
 * (host, port, database, zone; never a password or a URL with credentials), last check, failures, response
 * time, lag (now, and its percentiles, mean, min and trend over the last minute), pool and traffic; the counters
 * ({@link MetricsSnapshot}); and the recent topology events.
 * Immutable. {@link #toJson()} is what the admin server's {@code /replicas} returns.
 *
 * @param dataSource the data source's name
 * @param at         when the snapshot was taken
 * @param primary    the name of the node writes go to
 * @param shadowMode whether shadow mode is on
 * @param nodes      every node, primary first, in configuration order (runtime additions last)
 * @param metrics    the counters
 * @param events     recent topology events, oldest first
 */
public record StatusSnapshot(String dataSource, Instant at, String primary, boolean shadowMode,
                             List<NodeStatus> nodes, MetricsSnapshot metrics, List<EventStatus> events) {

    public StatusSnapshot {
        nodes = List.copyOf(nodes);
        events = List.copyOf(events);
    }

    /** The status of {@code ds} now. */
    public static StatusSnapshot of(ReadsplitDataSource ds) {
        List<NodeView> topologyNodes = ds.topology().nodes();
        List<dev.readsplit.config.NodeConfig> configs = new ArrayList<>(topologyNodes.size());
        for (NodeView n : topologyNodes) {
            configs.add(n.config());
        }
        Redactor redactor = Redactor.of(ds.config()).and(configs);
        NodeView primary = ds.topology().primary();
        List<NodeStatus> nodes = new ArrayList<>(topologyNodes.size());
        for (NodeView n : topologyNodes) {
            nodes.add(node(ds, n, n == primary, redactor));
        }
        List<EventStatus> events = new ArrayList<>();
        for (TopologyEvent e : ds.recentEvents()) {
            events.add(new EventStatus(e.at(), e.kind().name(), e.node(), redactor.redact(e.message())));
        }
        return new StatusSnapshot(ds.name(), ds.topology().clock().instant(), primary.name(), ds.shadowMode(), nodes,
                MetricsSnapshot.of(ds), events);
    }

    private static NodeStatus node(ReadsplitDataSource ds, NodeView n, boolean isPrimary, Redactor redactor) {
        PoolStats p = n.poolStats();
        NodeStatus.Pool pool = new NodeStatus.Pool(p.active(), p.idle(), p.pending(), p.max(), p.total(),
                p.available());
        Long lagBytes;
        Double lagSeconds;
        if (isPrimary) {
            lagBytes = 0L;
            lagSeconds = 0.0;
        } else {
            lagBytes = n.lagBytes() < 0 ? null : n.lagBytes();
            lagSeconds = n.lagMillis() < 0 ? null : n.lagMillis() / 1000.0;
        }
        long lastCheck = n.lastCheckMillis();
        return new NodeStatus(n.name(), n.role(), isPrimary, n.state(), n.config().host(), n.config().port(),
                n.config().database(), n.config().zone(), n.config().weight(),
                lastCheck > 0 ? Instant.ofEpochMilli(lastCheck) : null, Math.max(0, n.consecutiveFailures()),
                n.healthCheckFailures(), n.latencyEwmaNanos() / 1e6, lagBytes, lagSeconds, lagStats(ds, n),
                ds.config().lag().maxLag(n.config()).toMillis() / 1000.0, n.lagExcluded(), pool, n.inFlight(),
                n.stalled(), n.readsServed(), n.writesServed(), redactor.redact(n.lastError()), redactor.redact(n.exclusionReason()));
    }

    /** The node's lag over the lag monitor's window, from the rolling histogram the topology keeps per node. */
    static NodeStatus.LagStats lagStats(ReadsplitDataSource ds, NodeView node) {
        return NodeStatus.LagStats.of(node.lagPercentiles(ds.topology().clock().millis()),
                LagWindow.WINDOW_MILLIS / 1000.0);
    }

    /** The node named {@code name}, or null. */
    public NodeStatus node(String name) {
        for (NodeStatus n : nodes) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        return null;
    }

    /**
     * This snapshot as JSON, seed 003's {@code /health/replicas} shape extended: {@code status}
     * ({@code ok}, or {@code degraded} when the primary is not UP or no replica takes reads), {@code nodes},
     * {@code replicas} (the non-primary nodes by name), {@code metrics} and {@code events}.
     */
    public String toJson() {
        return StatusJson.write(g -> {
            g.writeStartObject();
            g.writeStringField("status", overall());
            g.writeStringField("dataSource", dataSource);
            g.writeStringField("at", at.toString());
            g.writeStringField("primary", primary);
            g.writeBooleanField("shadowMode", shadowMode);
            g.writeArrayFieldStart("nodes");
            for (NodeStatus n : nodes) {
                n.write(g);
            }
            g.writeEndArray();
            g.writeObjectFieldStart("replicas");
            for (NodeStatus n : nodes) {
                if (!n.primary()) {
                    g.writeFieldName(n.name());
                    n.write(g);
                }
            }
            g.writeEndObject();
            g.writeFieldName("metrics");
            metrics.write(g);
            g.writeFieldName("events");
            eventsJson(g, events);
            g.writeEndObject();
        });
    }

    /** The recent events alone, as a JSON array. */
    public String eventsJson() {
        return StatusJson.write(g -> eventsJson(g, events));
    }

    private static void eventsJson(JsonGenerator g, List<EventStatus> events) throws IOException {
        g.writeStartArray();
        for (EventStatus e : events) {
            e.write(g);
        }
        g.writeEndArray();
    }

    /** {@code ok}, or {@code degraded} when the primary is not UP or no replica takes reads. */
    public String overall() {
        boolean primaryUp = false;
        boolean replicaUp = false;
        for (NodeStatus n : nodes) {
            if (n.primary()) {
                primaryUp = n.state() == dev.readsplit.topology.NodeState.UP;
            } else if (n.healthy()) {
                replicaUp = true;
            }
        }
        return primaryUp && (replicaUp || metrics.replicaCount() == 0) ? "ok" : "degraded";
    }
}

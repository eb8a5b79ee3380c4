package dev.readsplit.spring.boot;

import dev.readsplit.metrics.NodeStatus;
import dev.readsplit.metrics.StatusSnapshot;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What Readsplit's Actuator health says, independent of the Boot version's health types (the thin contributors
 * in the version-specific sources turn a {@link Check} into Boot's {@code Health}):
 * <ul>
 *   <li>{@code primary}: UP when the node writes go to is UP, else DOWN (writes cannot be served);</li>
 *   <li>{@code replicas}: UP when at least {@code minReplicas} replicas take reads, else DOWN (the policy:
 *       with {@code fallback-to-primary} on, reads survive on the primary, so the default is 0);</li>
 *   <li>one entry per node: UP when it takes traffic; a replica that does not is {@code DEGRADED}, a status
 *       Boot's aggregation does not rank, so one replica down does not fail the application's health (the
 *       {@code replicas} entry carries the policy); the primary not UP is DOWN.</li>
 * </ul>
 * Readiness includes {@code readsplit}; liveness never does (a database outage must not restart the process).
 */
public final class ReadsplitHealth {

    public static final String UP = "UP";
    public static final String DOWN = "DOWN";
    public static final String DEGRADED = "DEGRADED";

    /** A status code and its details. */
    public record Check(String status, Map<String, Object> details) {
    }

    private final ReadsplitOperations operations;
    private final int minReplicas;

    public ReadsplitHealth(ReadsplitOperations operations, int minReplicas) {
        this.operations = operations;
        this.minReplicas = minReplicas;
    }

    public StatusSnapshot snapshot() {
        return operations.status();
    }

    public Check primary(StatusSnapshot s) {
        NodeStatus p = s.node(s.primary());
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("node", s.primary());
        if (p == null) {
            return new Check(DOWN, d);
        }
        d.putAll(StatusViews.node(p));
        return new Check(p.state() == dev.readsplit.topology.NodeState.UP ? UP : DOWN, d);
    }

    public Check replicas(StatusSnapshot s) {
        int total = 0;
        int healthy = 0;
        for (NodeStatus n : s.nodes()) {
            if (!n.primary()) {
                total++;
                if (n.healthy()) {
                    healthy++;
                }
            }
        }
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("healthy", healthy);
        d.put("total", total);
        d.put("minReplicas", minReplicas);
        d.put("readsOn", healthy > 0 ? "replicas" : "primary");
        return new Check(healthy >= minReplicas ? UP : DOWN, d);
    }

    public Check node(NodeStatus n) {
        String status;
        if (n.healthy()) {
            status = UP;
        } else {
            status = n.primary() ? DOWN : DEGRADED;
        }
        return new Check(status, StatusViews.node(n));
    }

    /** The node named {@code name} now, or null. */
    public Check node(String name) {
        NodeStatus n = snapshot().node(name);
        return n == null ? null : node(n);
    }
}

package dev.readsplit.spring.boot;

import dev.readsplit.metrics.EventStatus;
import dev.readsplit.metrics.NodeStatus;
import dev.readsplit.metrics.StatusSnapshot;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Status snapshots as plain maps of strings, numbers and booleans, the form Actuator writes as JSON with
 * whichever Jackson the Boot version has. Only what {@link StatusSnapshot} holds: no password, no URL with
 * credentials.
 */
public final class StatusViews {

    private StatusViews() {
    }

    /** One node: role, state, address, lag, checks, pool, traffic. */
    public static Map<String, Object> node(NodeStatus n) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", n.role() == null ? null : n.role().name());
        m.put("primary", n.primary());
        m.put("state", n.state().name());
        m.put("healthy", n.healthy());
        m.put("host", n.host());
        m.put("port", n.port());
        m.put("database", n.database());
        if (n.zone() != null) {
            m.put("zone", n.zone());
        }
        m.put("lagBytes", n.lagBytes());
        m.put("lagSeconds", n.lagSeconds());
        m.put("lagExcluded", n.lagExcluded());
        m.put("lastHealthCheck", n.lastHealthCheck() == null ? null : n.lastHealthCheck().toString());
        m.put("failureCount", n.failureCount());
        m.put("responseTimeMillis", n.responseTimeMillis());
        Map<String, Object> pool = new LinkedHashMap<>();
        pool.put("active", n.pool().active());
        pool.put("idle", n.pool().idle());
        pool.put("pending", n.pool().pending());
        pool.put("max", n.pool().max());
        m.put("pool", pool);
        m.put("inFlight", n.inFlight());
        m.put("readsServed", n.readsServed());
        m.put("writesServed", n.writesServed());
        if (n.lastError() != null) {
            m.put("lastError", n.lastError());
        }
        return m;
    }

    /** The whole snapshot: overall status, primary, nodes by name, counters, recent events. */
    public static Map<String, Object> status(StatusSnapshot s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", s.overall());
        m.put("dataSource", s.dataSource());
        m.put("at", s.at().toString());
        m.put("primary", s.primary());
        m.put("shadowMode", s.shadowMode());
        Map<String, Object> nodes = new LinkedHashMap<>();
        for (NodeStatus n : s.nodes()) {
            nodes.put(n.name(), node(n));
        }
        m.put("nodes", nodes);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("readQueries", s.metrics().readQueries());
        metrics.put("writeQueries", s.metrics().writeQueries());
        metrics.put("replicaCount", s.metrics().replicaCount());
        metrics.put("healthyReplicas", s.metrics().healthyReplicas());
        metrics.put("fallbacks", s.metrics().fallbacks());
        metrics.put("readRetries", s.metrics().readRetries());
        metrics.put("misroutes", s.metrics().misroutes());
        metrics.put("primaryFailovers", s.metrics().primaryFailovers());
        m.put("metrics", metrics);
        List<Map<String, Object>> events = new ArrayList<>();
        for (EventStatus e : s.events()) {
            Map<String, Object> em = new LinkedHashMap<>();
            em.put("at", e.at().toString());
            em.put("kind", e.kind());
            em.put("node", e.node());
            em.put("message", e.message());
            events.add(em);
        }
        m.put("events", events);
        return m;
    }
}

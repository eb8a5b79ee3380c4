package dev.readsplit.jdbc;

import dev.readsplit.topology.Node;

/**
 * Where one statement went and why. Immutable; {@link #of} hands out one shared instance per node and
 * reason, so routing allocates nothing for it.
 */
public record RouteDecision(Node node, RouteReason reason) {

    private static final RouteReason[] REASONS = RouteReason.values();

    /** The shared decision for {@code node} and {@code reason}. */
    static RouteDecision of(Node node, RouteReason reason) {
        Object[] cache = node.routeDecisions(REASONS.length);
        Object d = cache[reason.ordinal()];
        if (d == null) {
            d = new RouteDecision(node, reason);
            cache[reason.ordinal()] = d; // a benign race: two equal instances at worst
        }
        return (RouteDecision) d;
    }

    public String nodeName() {
        return node.name();
    }

    @Override
    public String toString() {
        return node.name() + " (" + reason + ")";
    }
}

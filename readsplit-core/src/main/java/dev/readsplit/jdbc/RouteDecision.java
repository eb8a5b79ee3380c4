package dev.readsplit.jdbc;

import dev.readsplit.topology.Node;

/** Where one statement went and why. */
public record RouteDecision(Node node, RouteReason reason) {

    public String nodeName() {
        return node.name();
    }

    @Override
    public String toString() {
        return node.name() + " (" + reason + ")";
    }
}

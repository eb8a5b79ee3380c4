package dev.readsplit.jdbc;

import dev.readsplit.RouteReason;
import dev.readsplit.topology.NodeView;

/**
 * Where one statement went and why, as {@link ReadsplitConnection#lastRoute()} reports it: the node the statement
 * finally ran on (after a retry or a misroute re-run, the node of that re-run) and the reason of the router's
 * decision. Immutable; made on request from the router's decision.
 */
public record RouteDecision(NodeView node, RouteReason reason) {

    public String nodeName() {
        return node.name();
    }

    @Override
    public String toString() {
        return node.name() + " (" + reason + ")";
    }
}

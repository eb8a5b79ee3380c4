package dev.readsplit.topology;

import dev.readsplit.Role;

import java.time.Instant;

/**
 * Something that happened to the topology, for listeners, the status page and the demo's event line.
 *
 * @param kind    what happened
 * @param node    the node concerned
 * @param message a sentence a person can read (never a password or connection string)
 */
public record TopologyEvent(Instant at, Kind kind, String node, String message) {

    public enum Kind { STATE_CHANGE, ROLE_CHANGE, PRIMARY_CHANGE, FENCED, SPLIT_BRAIN, LAG_ALERT, NODE_ADDED, NODE_REMOVED }

    static TopologyEvent stateChange(String node, NodeState from, NodeState to, String why) {
        return new TopologyEvent(Instant.now(), Kind.STATE_CHANGE, node, node + ": " + from + " -> " + to + " (" + why + ")");
    }

    static TopologyEvent roleChange(String node, Role from, Role to, long timeline) {
        return new TopologyEvent(Instant.now(), Kind.ROLE_CHANGE, node,
                node + " now reports itself " + to + " (was " + from + ", timeline " + timeline + ")");
    }

    static TopologyEvent primaryChange(String node, String old, String why) {
        return new TopologyEvent(Instant.now(), Kind.PRIMARY_CHANGE, node, "writes now go to " + node + " (was " + old + "): " + why);
    }
}

package dev.readsplit.balance;

/**
 * What a {@link Balancer} needs to know about an eligible node. The router's node objects implement it; every
 * method is called on the hot path, so each must be a cheap read of a field (volatile or plain), never a
 * computation, a lock or an allocation. Values may change concurrently; balancers tolerate stale reads.
 */
public interface Candidate {

    /** Stable display name (for logs; balancers do not use it). */
    String name();

    /** Relative share for the weighted balancer; at least 1. */
    int weight();

    /** Zone or region, matched against the balancer's local zone; null when unknown. */
    String zone();

    /** Statements currently executing on this node through this data source. */
    int inFlight();

    /**
     * Exponentially weighted moving average of statements' response time in nanoseconds (kept fresh by health
     * checks once a statement has seeded it); 0 = no statement sample yet.
     */
    long latencyEwmaNanos();

    /**
     * Connections this node's pool can hand out right now without making the borrower wait: its idle connections
     * plus the ones it may still open (a new or shrunken pool below its maximum is not saturated), or -1 when
     * unknown. Balancers move a read off a node reporting 0 (saturated) when another eligible one reports more.
     * Default: unknown.
     */
    default int idleConnections() {
        return -1;
    }
}

package dev.readsplit.routing;

import dev.readsplit.RouteReason;
import dev.readsplit.cluster.Node;

/**
 * What the router decided for one execution: the node (or a {@link Requirement} to meet first), the reason, whether
 * running it may write ({@link #mayHaveWritten()}: the session's causal position advances from this flag, never from
 * the classification), and what may be retried.
 *
 * <p>Immutable. Decisions that name a node are shared instances per node and combination (see
 * {@link Router}), so routing allocates nothing on the common path; requirement decisions are made per call.
 */
public final class Decision {

    private final Node node;
    private final RouteReason reason;
    private final Requirement requirement;
    private final boolean mayHaveWritten;
    private final RetryPolicy retry;
    private final long minLsn;
    private final long maxLagMillis;
    private final String message;

    private Decision(Node node, RouteReason reason, Requirement requirement, boolean mayHaveWritten, RetryPolicy retry,
                     long minLsn, long maxLagMillis, String message) {
        this.node = node;
        this.reason = reason;
        this.requirement = requirement;
        this.mayHaveWritten = mayHaveWritten;
        this.retry = retry;
        this.minLsn = minLsn;
        this.maxLagMillis = maxLagMillis;
        this.message = message;
    }

    static Decision to(Node node, RouteReason reason, boolean mayHaveWritten, RetryPolicy retry) {
        return new Decision(node, reason, Requirement.NONE, mayHaveWritten, retry, -1, -1, null);
    }

    static Decision require(Requirement requirement, RouteReason reason, long minLsn, long maxLagMillis, String message) {
        return new Decision(null, reason, requirement, false, RetryPolicy.NEVER, minLsn, maxLagMillis, message);
    }

    /** The node to run on; null when {@link #requirement()} is not {@link Requirement#NONE}. */
    public Node node() {
        return node;
    }

    public RouteReason reason() {
        return reason;
    }

    public Requirement requirement() {
        return requirement;
    }

    /**
     * Whether running this may have written: it runs on the primary, outside a read-only session, and is not
     * certainly a read that cannot write (a plain read whose functions cannot write, not remembered as a misroute).
     * Fails closed: anything uncertain counts as a write.
     */
    public boolean mayHaveWritten() {
        return mayHaveWritten;
    }

    public RetryPolicy retry() {
        return retry;
    }

    /** For {@link Requirement#REPLAY_WAIT}: the position a replica must have replayed; -1 otherwise. */
    public long minLsn() {
        return minLsn;
    }

    /** For {@link Requirement#REPLAY_WAIT}: the staleness bound in milliseconds, -1 for none. */
    public long maxLagMillis() {
        return maxLagMillis;
    }

    /** For {@link Requirement#REFUSED}: why no node may serve it, naming every replica's state. */
    public String message() {
        return message;
    }

    @Override
    public String toString() {
        if (requirement != Requirement.NONE) {
            return requirement + " (" + reason + ")";
        }
        return node.name() + " (" + reason + (mayHaveWritten ? ", may write" : "") + ")";
    }
}

package dev.readsplit.routing;

/** What the adapter may do when the decided node fails the statement. Writes and transactions get {@link #NEVER}. */
public enum RetryPolicy {
    /** Fail as the node failed. */
    NEVER(false, false),
    /** A connection-level failure before any row reached the caller: run once more on another eligible node. */
    OTHER_NODE(true, false),
    /** A 25006 refusal from a replica: the text was misclassified; re-run on the primary (and remember the text). */
    PRIMARY_ON_MISROUTE(false, true),
    /** Both of the above. */
    OTHER_NODE_OR_PRIMARY_ON_MISROUTE(true, true);

    private final boolean onConnectionFailure;
    private final boolean onMisroute;

    RetryPolicy(boolean onConnectionFailure, boolean onMisroute) {
        this.onConnectionFailure = onConnectionFailure;
        this.onMisroute = onMisroute;
    }

    public boolean onConnectionFailure() {
        return onConnectionFailure;
    }

    public boolean onMisroute() {
        return onMisroute;
    }

    static RetryPolicy of(boolean onConnectionFailure, boolean onMisroute) {
        return onConnectionFailure ? (onMisroute ? OTHER_NODE_OR_PRIMARY_ON_MISROUTE : OTHER_NODE)
                : (onMisroute ? PRIMARY_ON_MISROUTE : NEVER);
    }
}

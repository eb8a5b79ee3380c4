package dev.readsplit.routing;

/**
 * What the adapter may do when the decided node fails the statement (rules 7 and 9 of {@code docs/routing.md}).
 * Writes and transactions get {@link #NEVER}.
 */
public enum RetryPolicy {
    /** Fail as the node failed. */
    NEVER(false, false, false),
    /**
     * A connection-level failure (or a standby's recovery conflict) before any row reached the caller: run once more
     * on another eligible node.
     */
    OTHER_NODE(true, false, false),
    /** A 25006 refusal from a replica: the text was misclassified; re-run on the primary (and remember the text). */
    PRIMARY_ON_MISROUTE(false, true, false),
    /** Both of the above. */
    OTHER_NODE_OR_PRIMARY_ON_MISROUTE(true, true, false),
    /**
     * A standby's refusal of what only a primary can run that is not a write (55000 recovery in progress, 0A000
     * serializable in hot standby): re-run on the primary (and remember the text).
     */
    PRIMARY_ON_REFUSAL(false, false, true),
    /** {@link #OTHER_NODE} and {@link #PRIMARY_ON_REFUSAL}. */
    OTHER_NODE_OR_PRIMARY_ON_REFUSAL(true, false, true),
    /** {@link #PRIMARY_ON_MISROUTE} and {@link #PRIMARY_ON_REFUSAL}. */
    PRIMARY_ON_MISROUTE_OR_REFUSAL(false, true, true),
    /** All three. */
    OTHER_NODE_OR_PRIMARY_ON_MISROUTE_OR_REFUSAL(true, true, true);

    private final boolean onConnectionFailure;
    private final boolean onMisroute;
    private final boolean onStandbyRefusal;

    RetryPolicy(boolean onConnectionFailure, boolean onMisroute, boolean onStandbyRefusal) {
        this.onConnectionFailure = onConnectionFailure;
        this.onMisroute = onMisroute;
        this.onStandbyRefusal = onStandbyRefusal;
    }

    public boolean onConnectionFailure() {
        return onConnectionFailure;
    }

    /** Re-run on the primary after a 25006 (read-only transaction) from a replica. */
    public boolean onMisroute() {
        return onMisroute;
    }

    /** Re-run on the primary after a standby refused what only a primary runs, other than 25006. */
    public boolean onStandbyRefusal() {
        return onStandbyRefusal;
    }

    static RetryPolicy of(boolean onConnectionFailure, boolean onMisroute) {
        return of(onConnectionFailure, onMisroute, false);
    }

    /**
     * The constant with these three flags. The constants are declared in the order of the flags as bits (connection
     * failure 1, misroute 2, standby refusal 4), so this is an index into one array, asked once per statement
     * ({@code values()} would copy the array each time).
     */
    static RetryPolicy of(boolean onConnectionFailure, boolean onMisroute, boolean onStandbyRefusal) {
        return BY_FLAGS[(onConnectionFailure ? 1 : 0) | (onMisroute ? 2 : 0) | (onStandbyRefusal ? 4 : 0)];
    }

    /** How many constants there are ({@code values().length}, without copying the array). */
    static final int COUNT = 8;

    private static final RetryPolicy[] BY_FLAGS = values();

    static {
        for (int i = 0; i < BY_FLAGS.length; i++) {
            RetryPolicy p = BY_FLAGS[i];
            if (((p.onConnectionFailure ? 1 : 0) | (p.onMisroute ? 2 : 0) | (p.onStandbyRefusal ? 4 : 0)) != i
                    || BY_FLAGS.length != COUNT) {
                throw new AssertionError("RetryPolicy constants must be declared in the order of their flags: " + p);
            }
        }
    }
}

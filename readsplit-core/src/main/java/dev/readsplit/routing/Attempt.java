package dev.readsplit.routing;

/** Which execution of a statement a decision is for. */
public enum Attempt {
    /** The first execution. */
    FIRST,
    /** Again after a connection-level failure on the excluded node (a read only; see {@link RetryPolicy}). */
    RETRY,
    /** Again on the primary after a replica refused it with 25006 (it was misclassified: it writes). */
    MISROUTE,
    /**
     * At the same time on another node, while the first execution on the excluded node runs past its latency budget
     * (a hedged read: docs/failover.md).
     */
    HEDGE
}

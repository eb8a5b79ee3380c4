package dev.readsplit;

/**
 * Why a statement went where it went. Every routing decision carries one; they are counted in metrics
 * and logged at DEBUG, so "why did this query go there?" always has an answer.
 */
public enum RouteReason {
    /** A read, sent to a replica chosen by the balancer. */
    READ,
    /** Not a certain read: a write, DDL, locking read, write-capable function, unknown text. */
    WRITE,
    /** A {@code /* readsplit:primary *\/} or {@code /* readsplit:replica *\/} comment. */
    HINT,
    /** {@code getConnection(Role)} / {@code acquireForWrite} / {@code acquireForRead}. */
    EXPLICIT_ROLE,
    /** Inside a {@code forcePrimary()} scope. */
    SCOPE,
    /** Inside a read-write transaction: the whole transaction stays on the primary. */
    IN_TRANSACTION,
    /** {@code setReadOnly(true)}: everything to a replica, transactions included. */
    READ_ONLY,
    /** Session state that cannot follow the session (LISTEN, PREPARE, temp table, advisory lock, cursor). */
    SESSION_PIN,
    /** A {@code SET}/{@code RESET} applied to every physical connection of the session. */
    SESSION_STATE,
    /** A read whose function is {@code VOLATILE} in {@code pg_proc}. */
    VOLATILE_FUNCTION,
    /** A statement a replica refused earlier with 25006: remembered, sent straight to the primary. */
    LEARNED_MISROUTE,
    /** The consistency level is {@code STRONG}. */
    STRONG,
    /** The session's isolation is {@code SERIALIZABLE}, which a hot standby cannot run. */
    SERIALIZABLE,
    /** No replica fresh enough for the staleness bound. */
    LAG,
    /** No replica has replayed the session's causal token within the wait bound. */
    TOKEN_NOT_REPLAYED,
    /** No eligible replica at all; the read falls back to the primary. */
    NO_REPLICA_FALLBACK,
    /** A read retried on another node after a connection-level failure. */
    RETRY,
    /** A read hedged on another node (or the primary) while it ran past its latency budget on a replica. */
    HEDGE,
    /** A statement a replica refused with 25006, re-run on the primary. */
    MISROUTE,
    /** Shadow mode: executed on the primary, recorded where it would have gone. */
    SHADOW
}

package dev.readsplit.failover;

/**
 * The steps of a supervised failover, a switchover and a rejoin, in the order they run ({@code docs/failover.md}).
 * Reports, events and status JSON carry the constant's {@link #name()} ({@code "CATCH_UP"}).
 */
public enum FailoverStep {
    /** Failover: enough healthy replicas (the quorum) must be there before anything is done. */
    QUORUM,
    /** Failover: every other node is asked for its role, timeline and replay position. */
    SURVEY,
    /** Failover: the most advanced healthy standby is chosen. */
    ELECT,
    /** Failover: the chosen standby's promotion lock is taken, so two instances cannot both promote. */
    LOCK,
    /** Failover: the primary is checked once more under the lock (it may have come back). */
    RECHECK,
    /** Switchover: new writes are held and the old primary's running statements finish. */
    DRAIN,
    /** Switchover: the target replays up to the old primary's last WAL position. */
    CATCH_UP,
    /** Switchover: the old primary is made read-only and fenced. */
    DEMOTE,
    /** Failover and switchover: {@code pg_promote} on the chosen standby. */
    PROMOTE,
    /** Failover and switchover: writes go to the new primary. */
    ROUTE,
    /** Failover and switchover: the other standbys are pointed at the new primary and verified streaming. */
    REPOINT,
    /** Switchover as a whole: waiting for another failover or switchover to finish. */
    SWITCHOVER,
    /** A fenced old primary rejoins as a standby of the new primary. */
    REJOIN
}

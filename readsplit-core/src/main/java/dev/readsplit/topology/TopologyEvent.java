package dev.readsplit.topology;

import java.time.Instant;

/**
 * Something that happened to the topology, for listeners, the status page and the demo's event line.
 * {@link TopologyView#recentEvents()} keeps the last ones.
 *
 * @param at      when, by the data source's clock
 * @param kind    what happened
 * @param node    the node concerned
 * @param from    the value before, as text (a {@link NodeState}, a role, a {@link LagLevel}, the old
 *                primary's name; {@code null} when it does not apply)
 * @param to      the value after, as text (same conventions)
 * @param message a sentence a person can read (never a password or connection string)
 */
public record TopologyEvent(Instant at, Kind kind, String node, String from, String to, String message) {

    public enum Kind {
        /** Health state changed ({@link NodeState}); from/to are state names. */
        STATE_CHANGE,
        /** The role a node reports changed ({@code pg_is_in_recovery()}); from/to are role names. */
        ROLE_CHANGE,
        /** Writes now go to another node; from/to are the old and new primary's names. */
        PRIMARY_CHANGE,
        /** Two nodes claim primary at once; node is the one that lost (and is fenced). */
        SPLIT_BRAIN,
        /** A node was fenced: no traffic at all until an operator unfences it ({@code ds.operations().unfence(name)}). */
        FENCED,
        /** An operator unfenced a node. */
        UNFENCED,
        /** A replica's time-lag alert level changed; from/to are {@link LagLevel} names. */
        LAG_ALERT,
        /** A replica was excluded from new reads for lag. */
        LAG_EXCLUDED,
        /** A replica excluded for lag is back under the low mark and serves reads again. */
        LAG_READMITTED,
        NODE_ADDED,
        NODE_REMOVED,
        /** Supervised failover or a switchover began; node is the primary being replaced. */
        FAILOVER_STARTED,
        /** This data source promoted node ({@code pg_promote}); from is the old primary. Counted once per promotion. */
        PROMOTED,
        /** The elected node already reported itself primary (another instance or an operator promoted it). */
        PROMOTION_SKIPPED,
        /** A standby now streams from the new primary (verified in {@code pg_stat_wal_receiver}). */
        REPOINTED,
        /** Failover or switchover finished; the message carries the data-loss report and step durations. */
        FAILOVER_COMPLETED,
        /** A failover or switchover step failed or timed out; the message says which and what was left as is. */
        FAILOVER_FAILED,
        /** A fenced old primary was rebuilt and rejoined as a standby of the current primary. */
        REJOINED,
        /** A fenced node that had stopped answering answers a health check again; to is the role it reports. */
        FENCED_ANSWERED,
        /** The old primary of a failover answered again: the exact WAL it had past the promotion point. */
        DATA_LOSS_MEASURED,
        /** An HA manager's view (Patroni) contradicts a node's own answer; the node gets no writes. */
        HA_CONTRADICTED,
        /** Patroni names no leader that answers as primary: writes are held (bounded) until it does. */
        HA_WRITES_HELD,
        /** Patroni's leader is the write target again: held writes go on. */
        HA_WRITES_RELEASED
    }

    @Override
    public String toString() {
        return at + " " + kind + " " + node + ": " + message;
    }
}

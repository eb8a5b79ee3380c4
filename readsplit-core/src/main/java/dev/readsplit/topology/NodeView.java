package dev.readsplit.topology;

import dev.readsplit.Role;
import dev.readsplit.config.NodeConfig;
import org.HdrHistogram.Histogram;

/**
 * One node of a data source as applications see it ({@code ds.topology().node(name)}): what Readsplit observes
 * about the server, live and read-only. Every method is a getter; nothing here changes the node (operator actions
 * are {@code ds.operations()}, {@code docs/architecture.md}, "Public API"). Views are stable: the same node gives
 * the same view object while it is in the topology, so {@code ==} compares nodes.
 *
 * <p>Values are read without locks and may be one check old; {@code StatusSnapshot.of(ds)} is the consistent,
 * immutable copy of all of them (and what the admin server serves).
 */
public interface NodeView {

    /** The node's name (default {@code host:port}). */
    String name();

    /** The node's configuration (its password is a {@code Secret}, never printed). */
    NodeConfig config();

    /** The role the node reports ({@code pg_is_in_recovery()}), the configured one before its first check. */
    Role role();

    /** Its health state. */
    NodeState state();

    /** Whether the node is fenced (a second primary on an older timeline, or fenced by a failover). */
    default boolean fenced() {
        return state() == NodeState.FENCED;
    }

    /** The configured zone, or null. */
    String zone();

    /** The configured weight (the weighted balancer's share). */
    int weight();

    /** PostgreSQL (with replication introspection) rather than a generic JDBC database. */
    boolean isPostgres();

    /** Statements running on the node now. */
    int inFlight();

    /** Statements classified as reads executed on the node since it joined. */
    long readsServed();

    /** Other statements executed on the node since it joined. */
    long writesServed();

    /** EWMA of check and statement response times, in nanoseconds (0 before any). */
    long latencyEwmaNanos();

    /** EWMA of health-check response times, in nanoseconds (0 before the first successful check). */
    long checkLatencyEwmaNanos();

    /** A copy of the distribution of statement durations on the node since it joined, in microseconds. */
    Histogram statementLatency();

    /** Consecutive failed checks (0 when the last one succeeded). */
    int consecutiveFailures();

    /** Consecutive successful checks. */
    int consecutiveSuccesses();

    /** Failed health checks since the node joined. */
    long healthCheckFailures();

    /** When the last check finished (clock millis), 0 before the first. */
    long lastCheckMillis();

    /** Why the node is not UP (a check or traffic error summary, never a password), or null. */
    String lastError();

    /** The timeline the node reported, -1 unknown. */
    long timeline();

    /** The highest WAL position the node is known to have replayed, -1 unknown. */
    long replayLsn();

    /** The last WAL position the node reported while primary, -1 unknown. */
    long walLsn();

    /** When {@link #walLsn()} was observed (clock millis; 0 never). */
    long walLsnMillis();

    /** Replay lag in bytes against the current primary, -1 unknown. */
    long lagBytes();

    /** Replay lag in milliseconds, -1 unknown. */
    long lagMillis();

    /** The lag alert level. */
    LagLevel lagLevel();

    /** The lag over the last minute, as of {@code nowMillis} (the data source's clock, {@link TopologyView#clock()}). */
    LagWindow.Snapshot lagPercentiles(long nowMillis);

    /** Excluded from new reads for lag, or for not streaming from the current primary. */
    boolean lagExcluded();

    /** Why the replica is excluded from new reads, or null. */
    String exclusionReason();

    /** Why an HA manager (Patroni) keeps the node out of the reads, or null. */
    String externalExclusion();

    /** Patroni's last word on the node, or null without Patroni. */
    String patroniView();

    /** Whether reads avoid the node for now: statements run past their budget on it while it finished none. */
    boolean stalled();

    /** The node pool's counters as HikariCP reports them. */
    PoolStats poolStats();
}

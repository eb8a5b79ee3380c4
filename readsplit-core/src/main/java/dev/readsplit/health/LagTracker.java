package dev.readsplit.health;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.Node;
import dev.readsplit.topology.Topology;

/**
 * Replication lag per replica, the PostgreSQL way: bytes are the primary's last observed WAL position
 * minus the replica's replay position; time is reported by the replica (0 when it has replayed all it
 * received). Each measurement goes to {@link Topology#recordLag} (rolling percentiles, alert levels).
 * Replicas over {@code maxLagBytes} or their {@code maxLag} (the replica's own, else the data source's) are excluded from new reads, and readmitted only
 * once under {@code lagReadmitRatio} of both limits (hysteresis, so they do not flap). Running queries on
 * an excluded replica are not touched: exclusion only changes where new statements are routed.
 *
 * <p>Concurrency: called from health-check workers, at most one per node at a time; the primary's
 * position is a volatile that only grows while the same node is primary.
 */
final class LagTracker {

    private final Topology topology;
    private final ReadsplitConfig config;
    private volatile Node primaryNode;
    private volatile long primaryLsn = -1;
    /** When each replica was last seen having replayed everything it had received. */
    private final java.util.Map<Node, Long> lastCaughtUpMillis = new java.util.concurrent.ConcurrentHashMap<>();

    LagTracker(Topology topology) {
        this.topology = topology;
        this.config = topology.config();
    }

    void primaryObserved(Node primary, long lsn) {
        if (primary != topology.primary()) {
            return; // a node claiming primary that is not the write target (fenced, or about to be followed)
        }
        if (primaryNode != primary) {
            primaryNode = primary;
            primaryLsn = lsn;
        } else {
            primaryLsn = Math.max(primaryLsn, lsn);
        }
    }

    /**
     * Records a replica's check. {@code reportedLagMillis} is what the replica says: 0 when it has replayed
     * all it received, otherwise the age of its last replayed commit. That age is an upper bound of the real
     * lag, but a loose one: after an idle minute, a burst of WAL with no commit record yet (a checkpoint,
     * autovacuum) would read as a minute of lag. A second upper bound is tighter: nothing the replica has
     * not replayed now can be older than the last check that saw it fully caught up. The lag used is the
     * smaller of the two (an idle, caught-up cluster reads 0; a replica 3 s behind reads about 3 s).
     */
    void replicaObserved(Node replica, long replayLsn, long reportedLagMillis) {
        long now = topology.clock().millis();
        long lagMillis;
        if (reportedLagMillis <= 0) {
            lastCaughtUpMillis.put(replica, now);
            lagMillis = Math.max(0, reportedLagMillis);
        } else {
            Long caughtUp = lastCaughtUpMillis.get(replica);
            lagMillis = caughtUp == null ? reportedLagMillis : Math.min(reportedLagMillis, Math.max(0, now - caughtUp));
        }
        long p = primaryNode == topology.primary() ? primaryLsn : -1;
        long bytes = p < 0 ? -1 : Math.max(0, p - replayLsn);
        topology.recordLag(replica, bytes, lagMillis);
        boolean excluded = replica.lagExcluded();
        long maxBytes = config.maxLagBytes();
        long maxMillis = config.maxLag(replica.config()).toMillis(); // the replica's own limit, else maxLag
        if (!excluded && (bytes > maxBytes || lagMillis > maxMillis)) {
            topology.excludeForLag(replica, true, "lag " + bytes + " bytes / " + lagMillis + " ms over the limit of "
                    + maxBytes + " bytes / " + maxMillis + " ms");
        } else if (excluded && bytes <= maxBytes * config.lagReadmitRatio()
                && lagMillis <= maxMillis * config.lagReadmitRatio()) {
            topology.excludeForLag(replica, false, "lag back to " + bytes + " bytes / " + lagMillis
                    + " ms, under " + config.lagReadmitRatio() + " of the limits");
        }
    }
}

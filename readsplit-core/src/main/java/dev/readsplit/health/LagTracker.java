package dev.readsplit.health;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Replication lag per replica, measured against the current primary: bytes are the primary's last observed WAL
 * position minus the replica's replay position; time is the larger of what the replica reports and a lower
 * bound from the primary's own positions (see {@link #replicaObserved}). Each measurement goes to
 * {@link Topology#recordLag} (rolling percentiles, alert levels). A replica is excluded from new reads when it
 * is over {@code maxLagBytes} or its {@code maxLag} (the replica's own, else the data source's), when it does not stream from the current primary
 * ({@link Upstream}), or when it has stopped replaying while the primary moved on (its lag cannot shrink, so no
 * read should wait for it); it is readmitted only once it streams again and is under {@code lagReadmitRatio}
 * of both limits (hysteresis, so it does not flap). Running queries on an excluded replica are not touched:
 * exclusion only changes where new statements are routed.
 *
 * <p>Concurrency: called from health-check workers, at most one per node at a time but different nodes at
 * once; the primary's positions are kept under their own lock, per-replica progress in a concurrent map.
 */
final class LagTracker {

    private static final Logger log = LoggerFactory.getLogger(LagTracker.class);

    private final Topology topology;
    private final ReadsplitConfig config;
    private final PrimaryPositions positions = new PrimaryPositions(128);
    /** When each replica was last seen having replayed everything it had received and the primary had written. */
    private final Map<Node, Long> lastCaughtUpMillis = new ConcurrentHashMap<>();
    /** Each replica's replay position at its last check, and when it last advanced: [lsn, millis]. */
    private final Map<Node, long[]> progress = new ConcurrentHashMap<>();
    private final AtomicBoolean receiverHiddenWarned = new AtomicBoolean();

    LagTracker(Topology topology) {
        this.topology = topology;
        this.config = topology.config();
    }

    void primaryObserved(Node primary, long lsn) {
        if (primary != topology.primary()) {
            return; // a node claiming primary that is not the write target (fenced, or about to be followed)
        }
        positions.record(primary, lsn, topology.clock().millis());
    }

    void replicaObserved(Node replica, long replayLsn, long reportedLagMillis) {
        replicaObserved(replica, replayLsn, reportedLagMillis, Probe.WalReceiver.NOT_REPORTED);
    }

    /**
     * Records a replica's check.
     *
     * <p>Time lag. {@code reportedLagMillis} is what the replica says: 0 when it has replayed all it received,
     * otherwise the age of its last replayed commit. That age is an upper bound of the real lag, but a loose one:
     * after an idle minute, a burst of WAL with no commit record yet (a checkpoint, autovacuum) would read as a
     * minute of lag. A second upper bound is tighter: nothing the replica has not replayed now can be older than
     * the last check that saw it fully caught up. And both say 0 for a replica that receives nothing (it follows
     * a dead or an old primary): so a lower bound comes from the primary's side, the age of the oldest primary
     * position the replica has not received (it is at least that far behind). The lag used is the smaller upper
     * bound, raised to the lower bound: an idle, caught-up cluster reads 0, a replica 3 s behind reads about 3 s,
     * and one that falls behind never reads 0.
     */
    void replicaObserved(Node replica, long replayLsn, long reportedLagMillis, Probe.WalReceiver receiver) {
        long now = topology.clock().millis();
        Node primary = topology.primary();
        long primaryLsn = positions.latest(primary);
        // "behind" asks whether it lacks WAL the primary has: compared with what it received, not replayed (a record
        // that straddles a page the primary has written only in part is received but not replayable yet, forever
        // on an idle primary)
        long behindSince = positions.firstPast(primary, Math.max(replayLsn, receiver.receivedLsn()));
        long lowerBound = behindSince < 0 ? 0 : Math.max(0, now - behindSince);
        long lagMillis;
        if (reportedLagMillis <= 0 && lowerBound == 0) {
            lastCaughtUpMillis.put(replica, now);
            lagMillis = 0;
        } else {
            Long caughtUp = lastCaughtUpMillis.get(replica);
            long upper = reportedLagMillis <= 0 ? 0
                    : caughtUp == null ? reportedLagMillis : Math.min(reportedLagMillis, Math.max(0, now - caughtUp));
            lagMillis = Math.max(upper, lowerBound);
        }
        long bytes = primaryLsn < 0 ? -1 : Math.max(0, primaryLsn - replayLsn);
        topology.recordLag(replica, bytes, lagMillis);

        String notFollowing = replica.externalExclusion(); // an HA manager's word (Patroni) comes first
        if (notFollowing == null) {
            notFollowing = Upstream.notFollowing(replica, receiver, primary, topology.nodes(), behindSince >= 0);
        }
        if (receiver.reported() && receiver.running() && !receiver.detailsVisible()
                && receiverHiddenWarned.compareAndSet(false, true)) {
            log.warn("{}: the role {} cannot see the standbys' WAL receivers (sender, timeline); GRANT pg_read_all_stats"
                    + " TO {} lets Readsplit exclude a standby that streams from an old primary at once; without it"
                    + " such a standby is excluded once it stops replaying (docs/failover.md, \"Least privilege\")",
                    config.name(), replica.config().user(), replica.config().user());
        }
        if (notFollowing == null) {
            notFollowing = stalled(replica, replayLsn, lowerBound, now);
        } else {
            stalled(replica, replayLsn, lowerBound, now); // keep the progress bookkeeping current
        }

        boolean excluded = replica.lagExcluded();
        long maxBytes = config.lag().maxLagBytes();
        long maxMillis = config.lag().maxLag(replica.config()).toMillis(); // the replica's own limit, else maxLag
        if (notFollowing != null) {
            topology.excludeForLag(replica, true, notFollowing + " (lag " + bytes + " bytes / " + lagMillis + " ms)");
        } else if (bytes > maxBytes || lagMillis > maxMillis) {
            topology.excludeForLag(replica, true, "lag " + bytes + " bytes / " + lagMillis + " ms over the limit of "
                    + maxBytes + " bytes / " + maxMillis + " ms");
        } else if (excluded && bytes <= maxBytes * config.lag().readmitRatio()
                && lagMillis <= maxMillis * config.lag().readmitRatio()) {
            topology.excludeForLag(replica, false, "lag back to " + bytes + " bytes / " + lagMillis
                    + " ms, under " + config.lag().readmitRatio() + " of the limits");
        }
    }

    /**
     * Why the replica cannot catch up, if it has replayed nothing for {@code 2 x healthCheckInterval} while the
     * primary has had a position past it for as long: it is not getting the WAL (the one signal a role without
     * {@code pg_read_all_stats} has of a standby following the wrong primary), or its replay is blocked.
     */
    private String stalled(Node replica, long replayLsn, long lowerBound, long now) {
        long[] p = progress.computeIfAbsent(replica, k -> new long[] {replayLsn, now});
        synchronized (p) {
            if (replayLsn != p[0]) {
                p[0] = replayLsn;
                p[1] = now;
            }
            long stallAfter = 2 * config.health().interval().toMillis();
            long still = now - p[1];
            if (lowerBound >= stallAfter && still >= stallAfter) {
                return "not replaying: its position has not moved for " + still + " ms while the primary "
                        + topology.primary().name() + " is " + lowerBound + " ms ahead";
            }
            return null;
        }
    }

    /** Forgets what was measured about a node removed from the topology. */
    void forget(Node node) {
        lastCaughtUpMillis.remove(node);
        progress.remove(node);
    }

    /**
     * The current primary's recent WAL positions with the time each was observed, so that "the oldest position a
     * replica has not replayed" can be looked up. Positions only grow while one node is primary; a new primary
     * starts a new history.
     */
    static final class PrimaryPositions {
        private final long[] lsns;
        private final long[] millis;
        private int start;
        private int size;
        private Node owner;

        PrimaryPositions(int capacity) {
            lsns = new long[capacity];
            millis = new long[capacity];
        }

        synchronized void record(Node primary, long lsn, long atMillis) {
            if (owner != primary) {
                owner = primary;
                start = 0;
                size = 0;
            }
            if (size > 0 && lsn <= lsns[(start + size - 1) % lsns.length]) {
                return; // nothing new written: the earlier sample already dates this position
            }
            if (size == lsns.length) {
                start = (start + 1) % lsns.length;
                size--;
            }
            int at = (start + size) % lsns.length;
            lsns[at] = lsn;
            millis[at] = atMillis;
            size++;
        }

        /** The latest position of {@code primary}, or -1 when none was observed since it became primary. */
        synchronized long latest(Node primary) {
            return owner != primary || size == 0 ? -1 : lsns[(start + size - 1) % lsns.length];
        }

        /** When {@code primary} was first seen past {@code lsn} (clock millis), or -1 if it never was. */
        synchronized long firstPast(Node primary, long lsn) {
            if (owner != primary) {
                return -1;
            }
            for (int i = 0; i < size; i++) {
                int at = (start + i) % lsns.length;
                if (lsns[at] > lsn) {
                    return millis[at];
                }
            }
            return -1;
        }
    }
}

package dev.readsplit.failover;

import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.cluster.Topology;
import dev.readsplit.topology.TopologyEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The steps of a supervised failover, a switchover and a rejoin, run on the caller's thread (the manager
 * serialises them). Every server action goes through {@link ClusterActions} with a bound; every step is timed
 * and a failed step raises one {@link TopologyEvent.Kind#FAILOVER_FAILED} event naming it and what was left as
 * it was, and throws a {@link FailoverException}.
 *
 * <h2>Never two promoted nodes</h2>
 * Before promoting, the promotion locks of all surveyed standbys are taken in name order (session advisory
 * locks on those nodes, so two Readsplit instances serialise there even if they elected different nodes), then
 * every other node's role is read again:
 * if any already reports itself primary (another instance or an operator promoted it), nothing is promoted and
 * writes follow that node; if the old primary answers again as a primary, the failover stops before promoting.
 * Routing changes only after {@code pg_promote} returned true (or the node reports itself primary).
 */
final class Procedures {

    private static final Logger log = LoggerFactory.getLogger(Procedures.class);
    private static final long POLL_MILLIS = 50;

    private final Topology topology;
    private final ReadsplitConfig config;
    private final ClusterActions actions;
    private final Clock clock;
    private final WriteGate gate;

    Procedures(Topology topology, ClusterActions actions, WriteGate gate) {
        this.topology = topology;
        this.config = topology.config();
        this.actions = actions;
        this.clock = topology.clock();
        this.gate = gate;
    }

    /** Times the steps of one procedure and turns a failed step into an event plus an exception. */
    private final class Steps {
        private final String what;
        private final long startMillis = clock.millis();
        private final List<StepTiming> done = new ArrayList<>();
        private FailoverStep current;
        private long stepStartMillis;

        Steps(String what) {
            this.what = what;
        }

        void begin(FailoverStep step) {
            current = step;
            stepStartMillis = clock.millis();
        }

        void end(String detail) {
            done.add(new StepTiming(current, Duration.ofMillis(clock.millis() - stepStartMillis), detail));
        }

        Duration total() {
            return Duration.ofMillis(clock.millis() - startMillis);
        }

        FailoverException fail(Node node, String why) {
            String msg = what + " failed at step " + current + ": " + why;
            log.error("{}: {}", config.name(), msg);
            topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.FAILOVER_FAILED,
                    node == null ? null : node.name(), current.name(), null, msg));
            return new FailoverException(current, config.name() + ": " + msg);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // supervised failover

    /** The replicas that count for the quorum: observed as replicas, UP, not the primary. */
    List<Node> healthyReplicas() {
        Node primary = topology.primary();
        List<Node> out = new ArrayList<>();
        for (Node n : topology.nodes()) {
            if (n != primary && n.role() == Role.REPLICA && n.state() == NodeState.UP && n.isPostgres()) {
                out.add(n);
            }
        }
        return out;
    }

    /** Every node but {@code old} that could be (or become) a primary: fenced nodes are out of the picture. */
    /**
     * A node this data source fenced (an old primary it replaced, a node it switched over from) but that another
     * instance rejoined and then promoted, or an operator promoted, answers as a primary on a timeline newer than the
     * failed primary's: a successor exists. This instance neither surveyed nor locked it, so promoting now would make
     * two primaries; it stops instead (the operator rejoins or unfences the node, and writes follow it).
     */
    private void refuseIfAFencedNodeWasPromoted(Node old, Duration t, Steps steps) {
        if (old.timeline() <= 0) {
            return; // nothing to compare with: an unknown timeline
        }
        for (Node n : topology.nodes()) {
            if (n == old || n.state() != NodeState.FENCED) {
                continue;
            }
            ClusterActions.Status s = tryStatus(n, minimum(t, config.health().timeout()));
            if (s != null && !s.inRecovery() && s.timeline() > old.timeline()) {
                throw steps.fail(n, n.name() + " (fenced here) reports itself primary on timeline " + s.timeline()
                        + ", newer than " + old.name() + "'s " + old.timeline() + ": another instance or an operator"
                        + " promoted it; nothing was promoted here (that would make two primaries). If " + n.name()
                        + " is the primary now, rejoin or unfence it on this data source");
            }
        }
    }

    private List<Node> others(Node old) {
        List<Node> out = new ArrayList<>();
        for (Node n : topology.nodes()) {
            if (n != old && n.state() != NodeState.FENCED) {
                out.add(n);
            }
        }
        return out;
    }

    /**
     * Replaces the failed primary. The caller has checked that the primary is DOWN and the quorum is there.
     *
     * @throws FailoverException when a step fails (an event has been raised)
     */
    FailoverReport failover() {
        Node old = topology.primary();
        Duration t = config.failover().stepTimeout();
        List<Node> healthy = healthyReplicas();
        topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.FAILOVER_STARTED, old.name(),
                NodeState.DOWN.name(), null, "supervised failover: primary " + old.name() + " is DOWN; "
                + healthy.size() + " healthy replicas " + names(healthy) + " (quorum " + config.failover().minHealthyReplicas()
                + ")"));
        Steps steps = new Steps("supervised failover of " + old.name());

        steps.begin(FailoverStep.SURVEY);
        // Every other node is asked, not only the healthy replicas: one that already reports itself primary
        // (promoted by another instance a moment ago, and so no longer counted as a replica here) must stop
        // this failover, or two nodes get promoted (found by SupervisedFailoverIT with two instances).
        Map<Node, ClusterActions.Status> standbys = new LinkedHashMap<>();
        Node alreadyPrimary = null;
        long alreadyTimeline = -1;
        for (Node n : others(old)) {
            // a node that is not a healthy replica only gets the health-check timeout (it may be hung)
            ClusterActions.Status s = tryStatus(n, healthy.contains(n) ? t : minimum(t, config.health().timeout()));
            if (s == null) {
                continue;
            }
            if (!s.inRecovery()) {
                if (s.timeline() > alreadyTimeline) {
                    alreadyPrimary = n;
                    alreadyTimeline = s.timeline();
                }
            } else if (healthy.contains(n)) {
                standbys.put(n, s);
            }
        }
        steps.end(standbys.size() + " standbys answered" + (alreadyPrimary == null ? ""
                : "; " + alreadyPrimary.name() + " already reports itself primary"));

        Node promoted = alreadyPrimary;
        boolean promotedHere = false;
        long promotedLsn = -1;
        if (promoted == null) {
            if (standbys.size() < config.failover().minHealthyReplicas()) {
                throw steps.fail(old, "only " + standbys.size() + " replicas answered, fewer than minHealthyReplicas ("
                        + config.failover().minHealthyReplicas() + "); nothing was promoted");
            }
            steps.begin(FailoverStep.ELECT);
            List<Election.Candidate> candidates = new ArrayList<>();
            standbys.forEach((n, s) -> candidates.add(new Election.Candidate(n.name(), s.promotionPosition())));
            Election.Candidate winner = Election.elect(candidates);
            Node elected = topology.node(winner.name());
            steps.end(elected.name() + " at " + Lsn.format(winner.position()) + " of " + describe(candidates));

            steps.begin(FailoverStep.LOCK);
            // The promotion lock of every surveyed standby, taken in name order: two instances whose surveys
            // elected different nodes (replay positions read moments apart) still serialise on the first
            // lock, and the later one's re-check then sees the earlier one's promotion. Name order: no deadlock.
            List<Node> toLock = new ArrayList<>(standbys.keySet());
            toLock.sort(java.util.Comparator.comparing(Node::name));
            List<AutoCloseable> locks = new ArrayList<>();
            AutoCloseable lock = () -> {
                for (int i = locks.size() - 1; i >= 0; i--) {
                    closeQuietly(locks.get(i));
                }
            };
            for (Node n : toLock) {
                AutoCloseable l;
                try {
                    l = actions.lockPromotion(n, t);
                } catch (SQLException e) {
                    if (n != elected) {
                        continue; // unreachable now: it cannot be promoted by anyone either
                    }
                    closeQuietly(lock);
                    throw steps.fail(elected, "cannot reach " + elected.name() + ": " + e.getMessage()
                            + "; nothing was promoted");
                }
                if (l == null) {
                    closeQuietly(lock);
                    throw steps.fail(elected, "another session held the promotion lock on " + n.name() + " for "
                            + t.toMillis() + " ms; nothing was promoted here");
                }
                locks.add(l);
            }
            try {
                steps.end("promotion lock held on " + elected.name()
                        + (locks.size() > 1 ? " and " + (locks.size() - 1) + " other standby(s)" : ""));
                steps.begin(FailoverStep.RECHECK);
                ClusterActions.Status oldNow = tryStatus(old, minimum(t, config.health().timeout()));
                if (oldNow != null && !oldNow.inRecovery()) {
                    throw steps.fail(old, old.name() + " answers again as a primary; nothing was promoted");
                }
                for (Node n : others(old)) {
                    ClusterActions.Status s = tryStatus(n, standbys.containsKey(n) ? t
                            : minimum(t, config.health().timeout()));
                    if (s != null && !s.inRecovery()) {
                        alreadyPrimary = n;
                        break;
                    }
                }
                if (alreadyPrimary == null) {
                    refuseIfAFencedNodeWasPromoted(old, t, steps);
                }
                ClusterActions.Status electedNow = null;
                if (alreadyPrimary == null) {
                    try {
                        electedNow = actions.status(elected, t);
                    } catch (SQLException e) {
                        throw steps.fail(elected, elected.name() + " stopped answering: " + e.getMessage()
                                + "; nothing was promoted");
                    }
                    if (!electedNow.inRecovery()) {
                        alreadyPrimary = elected;
                    }
                }
                steps.end(alreadyPrimary == null ? "every other node is still a standby"
                        : alreadyPrimary.name() + " already reports itself primary");
                if (alreadyPrimary == null) {
                    steps.begin(FailoverStep.PROMOTE);
                    promotedLsn = electedNow.promotionPosition();
                    promote(steps, elected, t);
                    steps.end("pg_promote on " + elected.name());
                    promoted = elected;
                    promotedHere = true;
                    topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.PROMOTED, elected.name(),
                            old.name(), elected.name(), "promoted " + elected.name() + " (replayed up to "
                            + Lsn.format(promotedLsn) + ") to replace " + old.name() + "; "
                            + lossReport(old, elected, promotedLsn, clock.millis())));
                } else {
                    promoted = alreadyPrimary;
                }
            } finally {
                closeQuietly(lock);
            }
        }
        if (!promotedHere) {
            topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.PROMOTION_SKIPPED, promoted.name(),
                    old.name(), promoted.name(), promoted.name() + " already reports itself primary (promoted by "
                    + "another instance or an operator); not promoting anything, writes follow it"));
        }

        steps.begin(FailoverStep.ROUTE);
        topology.promoteToPrimary(promoted, "supervised failover: " + old.name() + " failed");
        topology.fence(old, needsRebuild(old, promoted, "was replaced in a supervised failover"));
        steps.end("writes go to " + promoted.name() + "; " + old.name() + " fenced");

        steps.begin(FailoverStep.REPOINT);
        List<String> repointed = new ArrayList<>();
        List<String> notRepointed = new ArrayList<>();
        repointAll(promoted, old, t, repointed, notRepointed);
        steps.end(repointed.size() + " repointed" + (notRepointed.isEmpty() ? "" : ", not: " + notRepointed));

        long oldLsn = old.walLsn();
        long lost = oldLsn < 0 || promotedLsn < 0 ? -1 : Math.max(0, oldLsn - promotedLsn);
        FailoverReport report = new FailoverReport(clock.instant(), old.name(), promoted.name(), promotedHere, oldLsn,
                promotedLsn, lost, repointed, notRepointed, steps.done, -1, -1);
        String msg = "supervised failover " + old.name() + " -> " + promoted.name() + " in " + steps.total().toMillis()
                + " ms" + (promotedHere ? "; " + lossReport(old, promoted, promotedLsn, clock.millis())
                : "; promoted elsewhere")
                + "; steps " + steps.done;
        log.warn("{}: {}", config.name(), msg);
        topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.FAILOVER_COMPLETED, promoted.name(),
                old.name(), promoted.name(), msg));
        return report;
    }

    /** Runs {@code pg_promote}; a false or failed call is checked once more before the step is declared failed. */
    private void promote(Steps steps, Node node, Duration t) {
        String why;
        try {
            if (actions.promote(node, t)) {
                return;
            }
            why = "pg_promote did not finish within " + t.toSeconds() + " s";
        } catch (SQLException e) {
            why = "pg_promote failed: " + e.getMessage();
        }
        ClusterActions.Status after = tryStatus(node, t);
        if (after != null && !after.inRecovery()) {
            return; // finished meanwhile, or promoted by someone else in the same instant: either way one primary
        }
        throw steps.fail(node, why + "; " + node.name() + " may still finish its promotion, and writes will follow it"
                + " when the health checks see it as primary; writes were not moved");
    }

    /**
     * The data-loss report of a promotion, in a sentence. It starts with what can be lost, plainly; the figure is a
     * lower bound (the old primary cannot be asked now); the exact one follows in a {@code DATA_LOSS_MEASURED}
     * event when the old primary answers again.
     */
    static String lossReport(Node old, Node promoted, long promotedLsn, long nowMillis) {
        String plainly = "data-loss report: with asynchronous replication, writes " + old.name() + " acknowledged"
                + " may be lost by this failover (with synchronous replication, none that were acknowledged); ";
        long oldLsn = old.walLsn();
        if (oldLsn < 0 || promotedLsn < 0) {
            return plainly + "the old primary's last WAL position is unknown, so the WAL it may have had past "
                    + promoted.name() + " cannot be bounded now; it is measured when " + old.name() + " answers again";
        }
        long bytes = Math.max(0, oldLsn - promotedLsn);
        return plainly + old.name() + " had last reported WAL up to " + Lsn.format(oldLsn) + " ("
                + Math.max(0, nowMillis - old.walLsnMillis()) + " ms ago; what it wrote after that is not counted), "
                + bytes + " bytes past " + promoted.name() + "'s position " + Lsn.format(promotedLsn)
                + (bytes == 0 ? " (a lower bound: nothing it was seen to have written is missing)"
                : " (a lower bound: at least this much WAL is missing from " + promoted.name() + ")")
                + "; the exact figure is measured on " + old.name() + " when it answers again";
    }

    /** The exact report, once the old primary answered again and told where its WAL ended. */
    static String exactLossReport(FailoverReport r) {
        long bytes = r.exactWalBytesPastPromotion();
        return "data-loss report (measured on " + r.oldPrimary() + "): its WAL ended at "
                + Lsn.format(r.returnedWithLsn()) + ", " + bytes + " bytes past the promotion point "
                + Lsn.format(r.promotedLsn()) + " of " + r.newPrimary()
                + (bytes == 0 ? ": nothing it wrote is missing from " + r.newPrimary()
                : ": with asynchronous replication, transactions committed in those bytes (acknowledged to their"
                + " clients) are not on " + r.newPrimary() + " and are lost unless recovered from " + r.oldPrimary()
                + " by hand (pg_waldump shows them)");
    }

    private static String needsRebuild(Node old, Node promoted, String what) {
        return old.name() + " " + what + " by " + promoted.name() + "; it needs a rebuild as a standby of "
                + promoted.name() + " (its timeline is older) before it can serve again, then"
                + " failover().rejoinAsStandby(\"" + old.name() + "\", timeout)";
    }

    /** Points every other standby at {@code primary} and verifies it streams; failures are reported, not undone. */
    private void repointAll(Node primary, Node old, Duration t, List<String> ok, List<String> bad) {
        for (Node s : topology.nodes()) {
            if (s == primary || s == old || !s.isPostgres() || s.state() == NodeState.DRAINING
                    || s.state() == NodeState.FENCED) {
                continue;
            }
            String why;
            try {
                if (!actions.streamingFrom(s, primary, t)) {
                    actions.repoint(s, primary, t);
                }
                long deadline = clock.millis() + t.toMillis();
                boolean streaming = actions.streamingFrom(s, primary, t);
                while (!streaming && clock.millis() < deadline) {
                    sleep(FailoverStep.REPOINT, POLL_MILLIS);
                    streaming = actions.streamingFrom(s, primary, t);
                }
                if (streaming) {
                    ok.add(s.name());
                    topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.REPOINTED, s.name(), null,
                            primary.name(), s.name() + " streams from " + primary.name()
                            + " (verified in pg_stat_wal_receiver)"));
                    continue;
                }
                why = "not streaming from " + primary.name() + " within " + t.toMillis() + " ms of the repoint (if it"
                        + " had received WAL " + primary.name() + " never got, it cannot follow and needs a rebuild)";
            } catch (SQLException e) {
                why = "repoint failed: " + e.getMessage();
            }
            bad.add(s.name());
            String msg = "repointing " + s.name() + " to " + primary.name() + ": " + why
                    + "; it keeps serving reads only while its lag allows";
            log.error("{}: {}", config.name(), msg);
            topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.FAILOVER_FAILED, s.name(),
                    FailoverStep.REPOINT.name(), null, msg));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // switchover

    SwitchoverReport switchover(String targetName, Duration timeout, OldPrimaryStopper stopper) {
        Node old = topology.primary();
        Node target = targetName == null ? null : topology.node(targetName);
        if (target == null) {
            throw new IllegalArgumentException(config.name() + ": no node named '" + targetName + "'");
        }
        if (target == old) {
            throw new IllegalArgumentException(config.name() + ": " + targetName + " is already the primary");
        }
        if (target.role() != Role.REPLICA || target.state() != NodeState.UP) {
            throw new IllegalStateException(config.name() + ": switchover target " + targetName + " must be an UP"
                    + " replica; it is " + target.role() + ", " + target.state());
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException(config.name() + ": switchover timeout must be positive: " + timeout);
        }
        long deadline = clock.millis() + timeout.toMillis();
        topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.FAILOVER_STARTED, old.name(),
                old.name(), target.name(), "switchover from " + old.name() + " to " + target.name() + " requested"
                + " (bound " + timeout.toMillis() + " ms)"));
        Steps steps = new Steps("switchover " + old.name() + " -> " + target.name());
        boolean fenced = false;
        boolean readOnly = false;
        boolean stopped = false;
        long pausedAt = clock.millis();
        long pausedMillis = -1;
        gate.pause(timeout);
        try {
            steps.begin(FailoverStep.DRAIN);
            while (old.inFlight() > 0) {
                if (clock.millis() >= deadline) {
                    throw steps.fail(old, old.inFlight() + " statements still running on " + old.name()
                            + " at the bound; nothing was changed");
                }
                sleep(FailoverStep.DRAIN, 10);
            }
            steps.end("new writes held; nothing running on " + old.name());

            steps.begin(FailoverStep.CATCH_UP);
            long oldLsn = catchUp(steps, old, target, deadline);
            steps.end(target.name() + " replayed up to " + Lsn.format(oldLsn));

            steps.begin(FailoverStep.DEMOTE);
            topology.fence(old, needsRebuild(old, target, "was switched over"));
            fenced = true;
            if (stopper != null) {
                try {
                    stopper.stop(old.name());
                    stopped = true;
                } catch (Exception e) {
                    throw steps.fail(old, "the stopper failed: " + e + "; " + old.name() + " may or may not be"
                            + " stopped; nothing was promoted");
                }
                steps.end(old.name() + " stopped by the caller's stopper");
            } else {
                try {
                    actions.readOnly(old, true, bound(deadline));
                    readOnly = true;
                    catchUp(steps, old, target, deadline);
                } catch (SQLException e) {
                    throw steps.fail(old, "cannot set " + old.name() + " read-only: " + e.getMessage()
                            + "; nothing was promoted");
                }
                steps.end(old.name() + " fenced and read-only (default_transaction_read_only); the operator must"
                        + " shut it down");
            }

            steps.begin(FailoverStep.PROMOTE);
            AutoCloseable lock;
            try {
                lock = actions.lockPromotion(target, bound(deadline));
            } catch (SQLException e) {
                throw steps.fail(target, "cannot reach " + target.name() + ": " + e.getMessage()
                        + "; nothing was promoted");
            }
            if (lock == null) {
                throw steps.fail(target, "another session held the promotion lock on " + target.name()
                        + "; nothing was promoted");
            }
            boolean promotedHere;
            try {
                ClusterActions.Status ts;
                try {
                    ts = actions.status(target, bound(deadline));
                } catch (SQLException e) {
                    throw steps.fail(target, target.name() + " stopped answering: " + e.getMessage()
                            + "; nothing was promoted");
                }
                promotedHere = ts.inRecovery();
                if (promotedHere) {
                    promote(steps, target, bound(deadline));
                }
            } finally {
                closeQuietly(lock);
            }
            if (promotedHere) {
                topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.PROMOTED, target.name(),
                        old.name(), target.name(), "promoted " + target.name() + " in a switchover from " + old.name()
                        + " (caught up to " + Lsn.format(oldLsn) + ")"));
            }
            steps.end(promotedHere ? "pg_promote on " + target.name() : target.name() + " was already primary");

            steps.begin(FailoverStep.ROUTE);
            topology.promoteToPrimary(target, "switchover from " + old.name());
            gate.resume();
            pausedMillis = clock.millis() - pausedAt;
            steps.end("writes go to " + target.name());

            steps.begin(FailoverStep.REPOINT);
            List<String> repointed = new ArrayList<>();
            List<String> notRepointed = new ArrayList<>();
            repointAll(target, old, config.failover().stepTimeout(), repointed, notRepointed);
            steps.end(repointed.size() + " repointed" + (notRepointed.isEmpty() ? "" : ", not: " + notRepointed));

            SwitchoverReport report = new SwitchoverReport(old.name(), target.name(), steps.done,
                    Duration.ofMillis(pausedMillis), steps.total());
            log.warn("{}: {}", config.name(), report);
            topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.FAILOVER_COMPLETED, target.name(),
                    old.name(), target.name(), report.toString()));
            return report;
        } catch (FailoverException e) {
            if (fenced && !stopped && topology.primary() == old) {
                // nothing was promoted and the old primary still runs: give it back its writes
                if (readOnly) {
                    try {
                        actions.readOnly(old, false, config.failover().stepTimeout());
                    } catch (SQLException undo) {
                        log.error("{}: could not reset default_transaction_read_only on {}: {}", config.name(),
                                old.name(), undo.getMessage());
                    }
                }
                topology.unfence(old.name());
            }
            throw e;
        } finally {
            gate.resume();
        }
    }

    /** Waits until {@code target} has replayed the old primary's current position; returns that position. */
    private long catchUp(Steps steps, Node old, Node target, long deadline) {
        long oldLsn;
        try {
            oldLsn = actions.status(old, bound(deadline)).currentLsn();
        } catch (SQLException e) {
            throw steps.fail(old, "cannot read " + old.name() + "'s WAL position: " + e.getMessage()
                    + "; nothing was promoted");
        }
        while (true) {
            try {
                if (actions.status(target, bound(deadline)).replayLsn() >= oldLsn) {
                    return oldLsn;
                }
            } catch (SQLException e) {
                throw steps.fail(target, "cannot read " + target.name() + "'s replay position: " + e.getMessage()
                        + "; nothing was promoted");
            }
            if (clock.millis() >= deadline) {
                throw steps.fail(target, target.name() + " did not replay up to " + Lsn.format(oldLsn)
                        + " within the bound; nothing was promoted");
            }
            sleep(FailoverStep.CATCH_UP, 10);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // rejoin

    /** Unfences {@code name} once it reports itself a standby streaming from the current primary. */
    void rejoin(String name, Duration timeout) {
        Node node = topology.node(name);
        if (node == null) {
            throw new IllegalArgumentException(config.name() + ": no node named '" + name + "'");
        }
        Node primary = topology.primary();
        if (node == primary) {
            throw new IllegalStateException(config.name() + ": " + name + " is the primary");
        }
        long deadline = clock.millis() + timeout.toMillis();
        String last = "not checked";
        while (true) {
            try {
                ClusterActions.Status s = actions.status(node, bound(deadline));
                if (!s.inRecovery()) {
                    last = "it reports itself primary (timeline " + s.timeline() + ")";
                } else if (!actions.streamingFrom(node, primary, bound(deadline))) {
                    last = "it is a standby but not streaming from " + primary.name();
                } else {
                    break;
                }
            } catch (SQLException e) {
                last = "not answering: " + e.getMessage();
            }
            if (clock.millis() >= deadline) {
                String msg = name + " cannot rejoin: " + last + " after " + timeout.toMillis() + " ms; rebuild it from a"
                        + " fresh base backup of " + primary.name() + " (docs/failover.md); it stays fenced";
                topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.FAILOVER_FAILED, name,
                        FailoverStep.REJOIN.name(), null, msg));
                throw new FailoverException(FailoverStep.REJOIN, config.name() + ": " + msg);
            }
            sleep(FailoverStep.REJOIN, 100);
        }
        topology.unfence(name);
        topology.publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.REJOINED, name, NodeState.FENCED.name(),
                Role.REPLICA.name(), name + " rejoined as a standby streaming from " + primary.name()));
    }

    // ---------------------------------------------------------------------------------------------
    // helpers

    /** Where {@code old}'s WAL ended (see {@link ClusterActions#endOfWal}), bounded by {@code failoverStepTimeout}. */
    long endOfWal(Node old) throws SQLException {
        return actions.endOfWal(old, config.failover().stepTimeout());
    }

    private ClusterActions.Status tryStatus(Node n, Duration t) {
        try {
            return actions.status(n, t);
        } catch (SQLException e) {
            log.info("{}: {} did not answer the failover survey: {}", config.name(), n.name(), e.getMessage());
            return null;
        }
    }

    private Duration bound(long deadlineMillis) {
        long left = Math.max(100, deadlineMillis - clock.millis());
        return minimum(config.failover().stepTimeout(), Duration.ofMillis(left));
    }

    private static Duration minimum(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    private static String names(List<Node> nodes) {
        return nodes.stream().map(Node::name).toList().toString();
    }

    private static String describe(List<Election.Candidate> candidates) {
        StringBuilder sb = new StringBuilder("[");
        for (Election.Candidate c : candidates) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(c.name()).append(' ').append(Lsn.format(c.position()));
        }
        return sb.append(']').toString();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a lock session: the server releases the lock when the session ends anyway
        }
    }

    private static void sleep(FailoverStep step, long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FailoverException(step, "interrupted");
        }
    }
}

package dev.readsplit.cluster;

import dev.readsplit.topology.LagLevel;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.SqlStates;
import dev.readsplit.topology.TopologyEvent;
import dev.readsplit.topology.TopologyListener;
import dev.readsplit.topology.TopologyView;
import dev.readsplit.Role;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import javax.sql.DataSource;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The nodes behind one data source, which one is the primary now, and the single funnel through which every failure
 * becomes a node state change. Internal: applications get its read-only {@link #view()} ({@code ds.topology()}).
 *
 * <h2>State machine</h2>
 * {@code UP → SUSPECT} on a connection-level error seen by live traffic (plus an immediate check) or on
 * one failed check; {@code SUSPECT/UP → DOWN} after {@code failureThreshold} consecutive failed checks;
 * {@code SUSPECT → UP} on one successful check that started after the suspicion was raised;
 * {@code DOWN → UP} after {@code recoveryThreshold} consecutive successful checks, except for the write target:
 * it is UP again at its first proof of health (a check that finds it primary on the expected timeline, or a
 * statement that succeeded on it), because writes have nowhere else to go. {@code FENCED} is left
 * only through {@link #unfence(String)}; {@code DRAINING} only by the operator who set it.
 *
 * <h2>Topology</h2>
 * Roles are observed, never assumed ({@link #observeRole}). A node that reports itself primary while it
 * is not the write target takes over when the current primary no longer reports itself primary or is on
 * an older timeline; of two primaries, the one on the older timeline (or, on equal timelines, the
 * newcomer) is fenced and a {@link TopologyEvent.Kind#SPLIT_BRAIN} event is raised.
 *
 * <h2>Concurrency</h2>
 * The node list is copy-on-write (changes are rare); routing reads {@link #primary()} and node fields
 * without locks and tolerates a value one check old. Every state, role and primary change goes through a
 * {@code synchronized} method, so two threads seeing the same failure produce one transition, one log
 * line and one event. Listeners are called on the thread that made the change (a health-check worker or
 * a query thread), while that lock is held: they must be quick and must not call back into routing.
 */
public final class Topology implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Topology.class);

    /** How many events {@link #recentEvents()} keeps. */
    public static final int RECENT_EVENTS = 200;

    private final ReadsplitConfig config;
    private final Clock clock;
    private final CopyOnWriteArrayList<Node> nodes = new CopyOnWriteArrayList<>();
    private final List<TopologyListener> listeners = new CopyOnWriteArrayList<>();
    private final ArrayDeque<TopologyEvent> recent = new ArrayDeque<>(RECENT_EVENTS);
    private volatile Node primary;
    private volatile Consumer<Node> urgentCheck = n -> { };
    private final TopologyView view = new TopologyReadView(this);

    public Topology(ReadsplitConfig config) {
        this(config, Clock.systemUTC());
    }

    public Topology(ReadsplitConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.primary = new Node(config, config.primary(), Role.PRIMARY);
        nodes.add(primary);
        for (NodeConfig r : config.replicas()) {
            nodes.add(new Node(config, r, Role.REPLICA));
        }
    }

    public ReadsplitConfig config() {
        return config;
    }

    /** This topology as applications see it ({@code ds.topology()}): read-only, live. */
    public TopologyView view() {
        return view;
    }

    /** The state machine behind a Readsplit data source ({@code ds.unwrap(Topology.class)}), for Readsplit's own modules. */
    public static Topology of(DataSource ds) {
        try {
            return ds.unwrap(Topology.class);
        } catch (SQLException e) {
            throw new IllegalArgumentException(ds + " is not a Readsplit data source", e);
        }
    }

    /** The clock events and checks are timed by. */
    public Clock clock() {
        return clock;
    }

    /** The node writes go to now (the configured primary until a node observed as primary replaces it). */
    public Node primary() {
        return primary;
    }

    /** Every node, primary first, in configuration order. */
    public List<Node> nodes() {
        return nodes;
    }

    /** The nodes currently observed as replicas (whatever their state). */
    public List<Node> replicas() {
        List<Node> out = new ArrayList<>(nodes.size());
        for (Node n : nodes) {
            if (n != primary && n.role() == Role.REPLICA) {
                out.add(n);
            }
        }
        return out;
    }

    public Node node(String name) {
        for (Node n : nodes) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        return null;
    }

    public void addListener(TopologyListener listener) {
        listeners.add(listener);
    }

    public void removeListener(TopologyListener listener) {
        listeners.remove(listener);
    }

    /** What the health checker runs when live traffic reports a failure: a check of that node now. */
    public void urgentCheck(Consumer<Node> check) {
        this.urgentCheck = check;
    }

    /** The last {@value #RECENT_EVENTS} events, oldest first. */
    public List<TopologyEvent> recentEvents() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }

    // the failure funnel

    /**
     * Every {@link SQLException} seen on a physical connection passes here. Returns whether it is a
     * connection-level failure (the node, not the statement, is at fault). Such a failure marks an UP
     * node {@link NodeState#SUSPECT} at once and asks for an immediate health check of it; a node
     * already SUSPECT, DOWN or FENCED is left as it is (no new log line, no new event).
     */
    public boolean onTrafficError(Node node, SQLException e) {
        if (!SqlStates.isConnectionLevel(e)) {
            return false;
        }
        boolean suspected;
        synchronized (this) {
            suspected = node.state() == NodeState.UP;
            if (suspected) {
                node.suspectedAtMillis(clock.millis());
                node.consecutiveSuccesses(0);
                transition(node, NodeState.SUSPECT, "traffic error: " + SqlStates.describe(e));
            }
        }
        if (suspected) {
            urgentCheck.accept(node);
        }
        return true;
    }

    /**
     * A read on {@code node} ran past its latency budget and a hedge on another node answered first: the node is slow
     * or hung. It is checked now. When it also finished no other statement meanwhile ({@code hung}), an UP node turns
     * {@link NodeState#SUSPECT} at once, like a traffic error (no new read is routed to it until the check answers);
     * a node still finishing statements only gets the check (a latency spike must not take a replica out of the reads).
     */
    public void onHedgeWon(Node node, boolean hung, String why) {
        if (!hung) {
            urgentCheck.accept(node);
            return;
        }
        boolean suspected;
        synchronized (this) {
            suspected = node.state() == NodeState.UP;
            if (suspected) {
                node.suspectedAtMillis(clock.millis());
                node.consecutiveSuccesses(0);
                transition(node, NodeState.SUSPECT, "hedged read: " + why);
            }
        }
        if (suspected) {
            urgentCheck.accept(node);
        }
    }

    /** Moves a node to {@code next}, logs one WARN (or INFO when it recovers) and tells the listeners. */
    public synchronized void transition(Node node, NodeState next, String why) {
        NodeState previous = node.state();
        if (previous == next) {
            return;
        }
        if (previous == NodeState.FENCED) {
            return; // only an operator unfences (unfence)
        }
        if (previous == NodeState.DRAINING) {
            return; // a drain is ended only by removing the node (its pool may already be closed)
        }
        node.state(next);
        node.lastError(next == NodeState.UP ? null : why);
        if (previous == NodeState.UP) {
            // it may have restarted, crashed or been rebuilt and come back behind what it replayed before: its
            // position is re-learned by a check that begins after this (docs/consistency.md)
            node.resetReplayLsn();
        }
        if (next == NodeState.DOWN) {
            node.evictPool(); // idle connections to a dead server would only fail their next borrower
            // and statements stuck on a hung one fail now (autocommit reads are then retried elsewhere)
            int aborted = node.abortInFlight();
            if (aborted > 0) {
                log.info("{}: aborted {} connection(s) in use on {}", config.name(), aborted, node.name());
            }
        }
        if (next == NodeState.UP) {
            log.info("{}: node {} is UP again (was {}): {}", config.name(), node.name(), previous, why);
        } else if (previous == NodeState.UP && next == NodeState.SUSPECT && node.checkLatencyEwmaNanos() == 0) {
            // never answered a check since it joined (e.g. unreachable at start): the WARN comes with the verdict
            // (DOWN), so a node that is unreachable from the start costs one WARN, not two
            log.info("{}: node {} {} -> {} (not reached yet): {}", config.name(), node.name(), previous, next, why);
        } else {
            log.warn("{}: node {} {} -> {}: {}", config.name(), node.name(), previous, next, why);
        }
        publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.STATE_CHANGE, node.name(), previous.name(),
                next.name(), node.name() + ": " + previous + " -> " + next + " (" + why + ")"));
    }

    /** Records a successful check that took {@code nanos} and ended at {@code nowMillis}. */
    public synchronized void checkSucceeded(Node node, long nanos, long nowMillis) {
        node.lastCheckMillis(nowMillis);
        node.recordCheckLatency(nanos);
        if (node.state() == NodeState.FENCED && node.consecutiveFailures() > 0) {
            publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.FENCED_ANSWERED, node.name(), null,
                    node.role().name(), node.name() + " answers again (fenced; reports itself " + node.role() + ")"));
        }
        node.consecutiveFailures(0);
        int successes = Math.min(node.consecutiveSuccesses(), 1 << 30) + 1;
        node.consecutiveSuccesses(successes);
        switch (node.state()) {
            case SUSPECT -> {
                long startedMillis = nowMillis - nanos / 1_000_000;
                if (startedMillis >= node.suspectedAtMillis()) {
                    // a suspicion (traffic error or failed checks under the threshold) is cleared by one
                    // good check, provided the check began after the suspicion was raised
                    transition(node, NodeState.UP, "check succeeded");
                }
            }
            case DOWN -> {
                if (isProvenPrimary(node)) {
                    // writes have nowhere else to go: the primary takes them again at its first proof of health
                    transition(node, NodeState.UP, "answered as primary on timeline " + node.timeline()
                            + " (writes resume at the first good check)");
                } else if (successes >= config.health().recoveryThreshold()) {
                    transition(node, NodeState.UP, successes + " successful checks in a row");
                }
            }
            default -> {
                // UP stays UP; FENCED and DRAINING are left only by an operator
            }
        }
    }

    /**
     * A statement succeeded on {@code node} (the JDBC edge calls this after every successful statement; it costs one
     * volatile read when the node is UP). The write target that was SUSPECT or DOWN is proven alive by it and takes
     * writes again at once; replicas keep their hysteresis (their checks decide).
     */
    public void trafficSucceeded(Node node) {
        if (node.state() == NodeState.UP || node != primary) {
            return;
        }
        synchronized (this) {
            NodeState now = node.state();
            if (node == primary && node.role() == Role.PRIMARY && (now == NodeState.SUSPECT || now == NodeState.DOWN)) {
                node.consecutiveFailures(0);
                transition(node, NodeState.UP, "a statement succeeded on it (writes resume at the first proof of health)");
            }
        }
    }

    /**
     * Whether {@code node} is the write target and its last check found it primary on a timeline no other node is
     * known to be past (so it is the primary we expect, not an old one that came back).
     */
    private boolean isProvenPrimary(Node node) {
        if (node != primary || node.role() != Role.PRIMARY || node.timeline() < 0) {
            return false;
        }
        for (Node n : nodes) {
            if (n != node && n.timeline() > node.timeline()) {
                return false;
            }
        }
        return true;
    }

    /** Records a failed check ending at {@code nowMillis}. */
    public synchronized void checkFailed(Node node, String why, long nowMillis) {
        node.lastCheckMillis(nowMillis);
        node.countCheckFailure();
        node.consecutiveSuccesses(0);
        int failures = node.consecutiveFailures() + 1;
        node.consecutiveFailures(failures);
        if (failures >= config.health().failureThreshold()) {
            transition(node, NodeState.DOWN, failures + " consecutive failed checks; last: " + why);
        } else if (node.state() == NodeState.UP) {
            transition(node, NodeState.SUSPECT, "failed check: " + why);
        }
    }

    // roles, primary, fencing

    /**
     * Records the role a node reports and the timeline it is on, and follows a change of primary:
     * see the class comment ("Topology").
     */
    public synchronized void observeRole(Node node, Role observed, long timeline) {
        Role before = node.role();
        long timelineBefore = node.timeline();
        if (timeline >= 0 || observed == Role.PRIMARY) {
            // a standby's timeline is not always visible (its WAL receiver's, to pg_read_all_stats): keep the last known
            node.timeline(timeline);
        }
        if (before != observed) {
            node.role(observed);
            node.invalidateConnections();
            if (observed == Role.REPLICA) {
                node.lagExcluded(false);
            }
            log.warn("{}: node {} now reports itself {} (was {}, timeline {})", config.name(), node.name(),
                    observed, before, timeline);
            publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.ROLE_CHANGE, node.name(), before.name(),
                    observed.name(), node.name() + " now reports itself " + observed + " (was " + before
                    + ", timeline " + timeline + ")"));
        } else if (timelineBefore >= 0 && timeline >= 0 && timeline != timelineBefore && observed == Role.REPLICA) {
            // a standby that followed a promotion: the replay position restarts its meaning
            node.resetReplayLsn();
        }
        if (node.state() == NodeState.FENCED) {
            return;
        }
        Node current = primary;
        if (observed == Role.PRIMARY && node != current) {
            primaryClaim(node, timeline, current);
        } else if (observed == Role.REPLICA && node == current) {
            // the write target was demoted: follow another node that reports itself primary, if any
            Node best = null;
            for (Node n : nodes) {
                if (n != node && n.role() == Role.PRIMARY && n.state() == NodeState.UP
                        && (best == null || n.timeline() > best.timeline())) {
                    best = n;
                }
            }
            if (best != null) {
                promoteToPrimary(best, node.name() + " reports itself a standby; " + best.name()
                        + " reports itself primary (timeline " + best.timeline() + ")");
            }
        }
    }

    private void primaryClaim(Node claimant, long timeline, Node current) {
        if (current.role() == Role.PRIMARY && current.timeline() < 0 && current.state() == NodeState.UP) {
            // the write target has not answered its first check yet (checks run in parallel at start), so the
            // claim cannot be weighed against it: the claimant's next check decides. Meanwhile the claimant's
            // observed role keeps it out of the reads. (A configured replica that is really another primary
            // must not take the writes and get the real primary fenced just by answering first.)
            return;
        }
        if (current.role() != Role.PRIMARY) {
            promoteToPrimary(claimant, current.name() + " no longer reports itself primary; " + claimant.name()
                    + " does (timeline " + timeline + ")");
        } else if (timeline > current.timeline()) {
            promoteToPrimary(claimant, claimant.name() + " reports itself primary on timeline " + timeline
                    + ", newer than " + current.name() + "'s " + current.timeline());
            if (current.state() == NodeState.UP && current.timeline() >= 0) {
                // both answer as primary right now: split brain, the older timeline loses
                splitBrain(current, claimant);
            }
            // an old primary that is not answering (SUSPECT, DOWN) or was never observed is fenced only if
            // it is seen claiming primary again; if it comes back as a standby it simply rejoins the reads
        } else {
            splitBrain(claimant, current);
        }
    }

    private void splitBrain(Node loser, Node winner) {
        String why = "split brain: " + loser.name() + " (timeline " + loser.timeline() + ") and " + winner.name()
                + " (timeline " + winner.timeline() + ") both report themselves primary; writes go to "
                + winner.name() + "; " + loser.name() + " needs a rebuild as a standby of " + winner.name()
                + " (its timeline is older) before it can serve again";
        log.error("{}: {}", config.name(), why);
        publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.SPLIT_BRAIN, loser.name(), null,
                winner.name(), why));
        fence(loser, why);
        // what runs there now writes to a primary that lost (a commit may hang for a synchronous standby that left):
        // those statements fail now instead of hanging, and nothing they wrote is acknowledged
        loser.abortInFlight();
    }

    /** Makes {@code node} the write target (an HA manager or an operator promoted it). */
    public synchronized void promoteToPrimary(Node node, String why) {
        Node old = primary;
        if (old == node) {
            return;
        }
        primary = node;
        node.lagExcluded(false);
        old.invalidateConnections();
        node.invalidateConnections();
        log.warn("{}: writes now go to {} (was {}): {}", config.name(), node.name(), old.name(), why);
        publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.PRIMARY_CHANGE, node.name(), old.name(),
                node.name(), "writes now go to " + node.name() + " (was " + old.name() + "): " + why));
    }

    /**
     * Fences a node: no new statement of any kind goes to it, physical connections to it are dropped as
     * they are returned, and only {@link #unfence(String)} lifts it.
     */
    public synchronized void fence(Node node, String why) {
        if (node.state() == NodeState.FENCED) {
            return;
        }
        NodeState previous = node.state();
        node.state(NodeState.FENCED);
        node.lastError(why);
        node.invalidateConnections();
        log.warn("{}: node {} {} -> FENCED: {}", config.name(), node.name(), previous, why);
        publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.FENCED, node.name(), previous.name(),
                NodeState.FENCED.name(), node.name() + " fenced: " + why));
    }

    /**
     * Operator action: lifts the fence on {@code name}. The node comes back {@link NodeState#SUSPECT} and
     * takes traffic after its next successful check, unless that check finds it still claiming primary on
     * an older timeline (then it is fenced again).
     *
     * @return whether the node was fenced
     */
    public synchronized boolean unfence(String name) {
        Node node = node(name);
        if (node == null) {
            throw new IllegalArgumentException(config.name() + ": no node named " + name);
        }
        if (node.state() != NodeState.FENCED) {
            return false;
        }
        node.state(NodeState.SUSPECT);
        node.suspectedAtMillis(clock.millis());
        node.consecutiveFailures(0);
        node.consecutiveSuccesses(0);
        log.warn("{}: node {} unfenced by an operator", config.name(), node.name());
        publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.UNFENCED, node.name(), NodeState.FENCED.name(),
                NodeState.SUSPECT.name(), node.name() + " unfenced by an operator"));
        return true;
    }

    // lag

    /**
     * Records a replica's measured lag (bytes -1 when the primary's position is not known yet) into its
     * rolling window, and raises a {@link TopologyEvent.Kind#LAG_ALERT} when its alert level changes.
     */
    public synchronized void recordLag(Node replica, long bytes, long millis) {
        replica.lag(bytes, millis);
        long now = clock.millis();
        replica.lagWindow().record(now, millis);
        LagLevel before = replica.lagLevel();
        LagLevel after = LagLevel.next(before, Math.max(0, millis), config);
        if (after != before) {
            replica.lagLevel(after);
            String msg = replica.name() + " replication lag " + millis + " ms: " + before + " -> " + after;
            if (after.ordinal() >= LagLevel.WARNING.ordinal() && after.ordinal() > before.ordinal()) {
                log.warn("{}: {}", config.name(), msg);
            } else {
                log.info("{}: {}", config.name(), msg);
            }
            publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.LAG_ALERT, replica.name(), before.name(),
                    after.name(), msg));
        }
    }

    /**
     * Excludes a replica from new reads for lag against the current primary (too far behind, or not streaming from
     * it, so its lag cannot shrink), or readmits it; one log line and one event per change.
     */
    public synchronized void excludeForLag(Node replica, boolean exclude, String why) {
        if (replica.lagExcluded() == exclude) {
            if (exclude) {
                replica.exclusionReason(why); // still excluded: the status shows the latest reason, no new event
            }
            return;
        }
        replica.lagExcluded(exclude);
        replica.exclusionReason(exclude ? why : null);
        if (exclude) {
            log.warn("{}: replica {} excluded from reads: {}", config.name(), replica.name(), why);
        } else {
            log.info("{}: replica {} readmitted: {}", config.name(), replica.name(), why);
        }
        publish(new TopologyEvent(clock.instant(),
                exclude ? TopologyEvent.Kind.LAG_EXCLUDED : TopologyEvent.Kind.LAG_READMITTED, replica.name(),
                null, null, replica.name() + (exclude ? " excluded from reads: " : " readmitted: ") + why));
    }

    // an HA manager's view (Patroni)

    /**
     * Records Patroni's word on {@code node} and whether it keeps it out of the reads ({@code why}, or null). Setting a
     * reason excludes the replica at once; clearing it lets the lag tracker readmit it at its next check, under the
     * same hysteresis as lag.
     */
    public synchronized void externalView(Node node, String view, String why) {
        node.patroniView(view);
        String before = node.externalExclusion();
        node.externalExclusion(why);
        if (why != null && node != primary) {
            excludeForLag(node, true, why);
        } else if (why == null && before != null) {
            log.info("{}: {} is no longer kept out of the reads by Patroni ({})", config.name(), node.name(), before);
        }
    }

    /**
     * Patroni names {@code leader} as its leader. Writes follow it when its own answer agrees (it reports itself
     * primary and is not fenced); otherwise it gets no writes and one event says why, per contradiction (SQL
     * observation is the safety net: a stale or wrong view never moves the writes to a standby).
     *
     * @return whether the write target is {@code leader} now
     */
    public synchronized boolean haLeader(Node leader, String view) {
        if (leader == primary) {
            contradiction = null;
            return true;
        }
        if (leader.role() == Role.PRIMARY && leader.state() != NodeState.FENCED && leader.timeline() >= 0) {
            contradiction = null;
            promoteToPrimary(leader, "Patroni's leader is " + leader.name() + " (" + view + ")");
            return true;
        }
        String why = "Patroni names " + leader.name() + " its leader (" + view + ") but " + leader.name()
                + (leader.state() == NodeState.FENCED ? " is fenced" : leader.timeline() < 0 && leader.role() == Role.PRIMARY
                ? " has not answered a check yet" : " answers as a " + leader.role().name().toLowerCase(java.util.Locale.ROOT))
                + ": no writes go to it until its own answer agrees; writes stay on " + primary.name();
        if (leader.state() != NodeState.FENCED) {
            urgentCheck.accept(leader); // its own answer may be a check old: ask it now, writes move once it agrees
        }
        String key = leader.name() + "/" + leader.role() + "/" + leader.state();
        if (!key.equals(contradiction)) {
            contradiction = key;
            log.warn("{}: {}", config.name(), why);
            publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.HA_CONTRADICTED, leader.name(), null,
                    primary.name(), why));
        }
        return false;
    }

    /** Whether writes are held for want of a confirmed Patroni leader (see {@link #haWritesConfirmed}). */
    private boolean haWritesHeld;

    /**
     * Patroni's view confirms the write target as its leader ({@code confirmed}) or not ({@code why}): writes are
     * held while it does not (a primary Patroni no longer leads may be one whose Patroni died, and writes kept flowing
     * to it are lost and keep Patroni from electing another). One event per change.
     */
    public synchronized void haWritesConfirmed(boolean confirmed, String why) {
        if (confirmed == !haWritesHeld) {
            return;
        }
        haWritesHeld = !confirmed;
        String msg = confirmed ? "writes go on to " + primary.name() + ", Patroni's leader"
                : "writes held: " + why;
        if (confirmed) {
            log.info("{}: {}", config.name(), msg);
        } else {
            log.warn("{}: {}", config.name(), msg);
        }
        publish(new TopologyEvent(clock.instant(), confirmed ? TopologyEvent.Kind.HA_WRITES_RELEASED
                : TopologyEvent.Kind.HA_WRITES_HELD, primary.name(), null, null, msg));
    }

    /** The last contradiction reported by {@link #haLeader} (one event per distinct one). */
    private String contradiction;

    /**
     * Patroni reports a fenced node as a running replica, and its own answer agrees (a standby on the primary's
     * timeline): Patroni rebuilt it (pg_rewind or a new base backup), so the fence is lifted as
     * {@code failover().rejoinAsStandby} would.
     */
    public synchronized void haRejoined(Node node, String view) {
        if (node.state() != NodeState.FENCED || node.role() != Role.REPLICA
                || (node.timeline() >= 0 && primary.timeline() >= 0 && node.timeline() < primary.timeline())) {
            return;
        }
        node.state(NodeState.SUSPECT);
        node.suspectedAtMillis(clock.millis());
        node.consecutiveFailures(0);
        node.consecutiveSuccesses(0);
        String why = node.name() + " unfenced: Patroni reports it a running replica (" + view + ") and it answers as a"
                + " standby; it takes reads after its next good check";
        log.warn("{}: {}", config.name(), why);
        publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.UNFENCED, node.name(), NodeState.FENCED.name(),
                NodeState.SUSPECT.name(), why));
    }

    // events

    /** Records an event in the recent ring and hands it to every listener (a failing listener is logged). */
    public void publish(TopologyEvent event) {
        synchronized (recent) {
            if (recent.size() == RECENT_EVENTS) {
                recent.removeFirst();
            }
            recent.addLast(event);
        }
        for (TopologyListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException ex) {
                log.warn("{}: topology listener {} failed", config.name(), l, ex);
            }
        }
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            n.close();
        }
    }

    // runtime changes (operator API)

    /**
     * Adds a replica at runtime with its own pool. It starts {@link NodeState#SUSPECT} with no check yet, so it takes
     * no reads until the health checker has seen it answer; IllegalArgumentException if its name or address is taken.
     */
    public synchronized Node addReplica(NodeConfig replica) {
        for (Node n : nodes) {
            NodeConfig c = n.config();
            boolean sameAddress = c.host() != null && replica.host() != null
                    ? c.port() == replica.port() && c.host().equalsIgnoreCase(replica.host())
                    : c.jdbcUrl().equals(replica.jdbcUrl());
            if (sameAddress || n.name().equals(replica.name())) {
                throw new IllegalArgumentException(config.name() + ": node " + replica.name() + " ("
                        + replica.address() + ") is already in the topology as " + n.name());
            }
        }
        Node node = new Node(config, replica, Role.REPLICA);
        node.state(NodeState.SUSPECT);
        node.lastError("added at runtime; waiting for health checks");
        nodes.add(node);
        log.info("{}: replica {} added at {}", config.name(), node.name(), replica.address());
        publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.NODE_ADDED, node.name(), null,
                NodeState.SUSPECT.name(), node.name() + " added at " + replica.address()
                + "; takes reads once a health check passes"));
        return node;
    }

    /** Stops routing new work to {@code node} ({@link NodeState#DRAINING}); running work is untouched. */
    public void drain(Node node, String why) {
        transition(node, NodeState.DRAINING, why);
    }

    /** Closes a drained node's pool (connections still borrowed are aborted by HikariCP). */
    public void closePool(Node node) {
        node.close();
    }

    /** Removes a node from the topology and closes its pool; the primary cannot be removed (IllegalStateException). */
    public synchronized void remove(Node node, String why) {
        if (node == primary) {
            throw new IllegalStateException(config.name() + ": " + node.name() + " is the primary; it cannot be removed");
        }
        if (!nodes.remove(node)) {
            return;
        }
        node.close();
        log.info("{}: node {} removed: {}", config.name(), node.name(), why);
        publish(new TopologyEvent(clock.instant(), TopologyEvent.Kind.NODE_REMOVED, node.name(), node.state().name(),
                null, node.name() + " removed: " + why));
    }
}

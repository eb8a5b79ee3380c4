package dev.readsplit.topology;

import dev.readsplit.Role;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The nodes behind one data source, which one is the primary now, and the single funnel through
 * which every failure becomes a node state change.
 *
 * <p>Concurrency: the node list is copy-on-write (changes are rare: runtime add/remove, failover);
 * routing takes {@link #snapshot()} without locks. State changes go through {@code synchronized}
 * methods so two threads seeing the same failure produce one transition and one WARN line.
 */
public final class Topology implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Topology.class);

    private final ReadsplitConfig config;
    private final CopyOnWriteArrayList<Node> nodes = new CopyOnWriteArrayList<>();
    private final List<TopologyListener> listeners = new CopyOnWriteArrayList<>();
    private volatile Node primary;
    private volatile Runnable urgentCheck = () -> { };

    public Topology(ReadsplitConfig config) {
        this.config = config;
        this.primary = new Node(config, config.primary(), Role.PRIMARY);
        nodes.add(primary);
        for (NodeConfig r : config.replicas()) {
            nodes.add(new Node(config, r, Role.REPLICA));
        }
    }

    public ReadsplitConfig config() {
        return config;
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

    /** What the health checker runs when live traffic reports a failure: a check now, not at the next tick. */
    public void urgentCheck(Runnable check) {
        this.urgentCheck = check;
    }

    // ---------------------------------------------------------------------------------------------
    // the failure funnel

    /**
     * Every {@link SQLException} seen on a physical connection passes here. Returns whether it is a
     * connection-level failure (the node, not the statement, is at fault). Such a failure marks the
     * node {@link NodeState#SUSPECT} at once and asks for an immediate health check.
     */
    public boolean onTrafficError(Node node, SQLException e) {
        if (!SqlStates.isConnectionLevel(e)) {
            return false;
        }
        transition(node, NodeState.SUSPECT, "traffic error: " + SqlStates.describe(e));
        urgentCheck.run();
        return true;
    }

    /** Moves a node to {@code next}, logs one WARN (or INFO when it recovers) and tells the listeners. */
    public synchronized void transition(Node node, NodeState next, String why) {
        NodeState previous = node.state();
        if (previous == next) {
            return;
        }
        if (previous == NodeState.FENCED && next != NodeState.DOWN) {
            // only an operator un-fences; a fenced node that dies is still reported as DOWN
            return;
        }
        if (previous == NodeState.DRAINING) {
            // a drain is ended only by removing the node (its pool may already be closed)
            return;
        }
        node.state(next);
        node.lastError(next == NodeState.UP ? null : why);
        if (next == NodeState.UP) {
            log.info("{}: node {} is UP again (was {})", config.name(), node.name(), previous);
        } else {
            log.warn("{}: node {} {} -> {}: {}", config.name(), node.name(), previous, next, why);
        }
        TopologyEvent event = TopologyEvent.stateChange(node.name(), previous, next, why);
        for (TopologyListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException ex) {
                log.warn("{}: topology listener {} failed", config.name(), l, ex);
            }
        }
    }

    /** Records an observed role; a node newly seen as primary while the current one is not becomes primary. */
    public synchronized void observeRole(Node node, Role observed, long timeline) {
        Role before = node.role();
        node.timeline(timeline);
        if (before != observed) {
            node.role(observed);
            publish(TopologyEvent.roleChange(node.name(), before, observed, timeline));
        }
    }

    /** Makes {@code node} the write target. */
    public synchronized void promoteToPrimary(Node node, String why) {
        Node old = primary;
        if (old == node) {
            return;
        }
        primary = node;
        log.warn("{}: writes now go to {} (was {}): {}", config.name(), node.name(), old.name(), why);
        publish(TopologyEvent.primaryChange(node.name(), old.name(), why));
    }

    public void publish(TopologyEvent event) {
        for (TopologyListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException ex) {
                log.warn("{}: topology listener {} failed", config.name(), l, ex);
            }
        }
    }

    /** Records a replica's measured lag (bytes -1 when the primary's position is not known yet). */
    public void recordLag(Node replica, long bytes, long millis) {
        replica.lag(bytes, millis);
    }

    /** Excludes a replica from new reads for lag, or readmits it; one log line and one event per change. */
    public synchronized void excludeForLag(Node replica, boolean exclude, String why) {
        if (replica.lagExcluded() == exclude) {
            return;
        }
        replica.lagExcluded(exclude);
        if (exclude) {
            log.warn("{}: replica {} excluded from reads: {}", config.name(), replica.name(), why);
        } else {
            log.info("{}: replica {} readmitted: {}", config.name(), replica.name(), why);
        }
        publish(new TopologyEvent(java.time.Instant.now(), TopologyEvent.Kind.LAG_ALERT, replica.name(),
                replica.name() + (exclude ? " excluded from reads: " : " readmitted: ") + why));
    }

    /** Records a successful check. */
    public void checkSucceeded(Node node, long nanos, long nowMillis) {
        node.lastCheckMillis(nowMillis);
        node.recordLatency(nanos);
        int successes = node.consecutiveFailures() < 0 ? -node.consecutiveFailures() + 1 : 1;
        NodeState s = node.state();
        if (s == NodeState.UP) {
            node.consecutiveFailures(0);
            return;
        }
        if (s == NodeState.SUSPECT && node.consecutiveFailures() > 0) {
            // one good check clears a suspicion raised by traffic or a single failed check
            node.consecutiveFailures(0);
            transition(node, NodeState.UP, "check succeeded");
            return;
        }
        // DOWN (or SUSPECT after a recovery started): need recoveryThreshold successes in a row;
        // successes are counted as negative numbers in the same field
        if (successes >= config.recoveryThreshold()) {
            node.consecutiveFailures(0);
            transition(node, NodeState.UP, successes + " successful checks");
        } else {
            node.consecutiveFailures(-successes);
        }
    }

    /** Records a failed check. */
    public void checkFailed(Node node, String why, long nowMillis) {
        node.lastCheckMillis(nowMillis);
        node.countCheckFailure();
        int failures = node.consecutiveFailures() > 0 ? node.consecutiveFailures() + 1 : 1;
        node.consecutiveFailures(failures);
        if (failures >= config.failureThreshold()) {
            transition(node, NodeState.DOWN, failures + " consecutive failed checks; last: " + why);
        } else if (node.state() == NodeState.UP) {
            transition(node, NodeState.SUSPECT, "failed check: " + why);
        }
    }

    @Override
    public void close() {
        for (Node n : nodes) {
            n.close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // runtime changes (operator API)

    /**
     * Adds a replica at runtime with its own pool. It starts {@link NodeState#SUSPECT} with no check yet, so
     * it takes no reads until the health checker has seen it answer ({@code recoveryThreshold} checks).
     *
     * @throws IllegalArgumentException if a node with the same name or address is already in the topology
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
        publish(new TopologyEvent(java.time.Instant.now(), TopologyEvent.Kind.NODE_ADDED, node.name(),
                node.name() + " added at " + replica.address() + "; takes reads once a health check passes"));
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

    /**
     * Removes a node from the topology and closes its pool. The primary cannot be removed.
     *
     * @throws IllegalStateException if {@code node} is the current primary
     */
    public synchronized void remove(Node node, String why) {
        if (node == primary) {
            throw new IllegalStateException(config.name() + ": " + node.name() + " is the primary; it cannot be removed");
        }
        if (!nodes.remove(node)) {
            return;
        }
        node.close();
        log.info("{}: node {} removed: {}", config.name(), node.name(), why);
        publish(new TopologyEvent(java.time.Instant.now(), TopologyEvent.Kind.NODE_REMOVED, node.name(),
                node.name() + " removed: " + why));
    }
}

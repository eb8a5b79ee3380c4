package dev.readsplit.jdbc;

import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;

import java.util.concurrent.atomic.LongAdder;

/**
 * The operator's actions on one data source, behind the admin endpoint too: add, drain and remove replicas at
 * runtime, switch over, unfence and rejoin nodes; and the traffic totals that outlive removed nodes. Read-only
 * status is {@code StatusSnapshot.of(ds)}. Obtain it with {@link ReadsplitDataSource#operations()}.
 *
 * <p>Concurrency: thread-safe; topology changes are serialised by the topology, removals by a lock here.
 */
public final class Operations {

    private final ReadsplitDataSource ds;
    private final Topology topology;
    private final LongAdder retiredReads = new LongAdder();
    private final LongAdder retiredWrites = new LongAdder();
    private final LongAdder retiredCheckFailures = new LongAdder();

    Operations(ReadsplitDataSource ds) {
        this.ds = ds;
        this.topology = ds.cluster();
    }

    long readsServed() {
        long n = retiredReads.sum();
        for (Node node : topology.nodes()) {
            n += node.readsServed();
        }
        return n;
    }

    long writesServed() {
        long n = retiredWrites.sum();
        for (Node node : topology.nodes()) {
            n += node.writesServed();
        }
        return n;
    }

    long healthCheckFailures() {
        long n = retiredCheckFailures.sum();
        for (Node node : topology.nodes()) {
            n += node.healthCheckFailures();
        }
        return n;
    }

    /**
     * Adds a replica at runtime. It gets its own pool at once but takes no reads until the health checker
     * has seen it answer ({@code recoveryThreshold} successful checks; a check starts now). Database, user,
     * password and pgjdbc properties the node does not set are taken from the configured primary.
     *
     * @return the node's name
     * @throws IllegalArgumentException if a node with that name or address is already present
     */
    public String addReplica(dev.readsplit.config.NodeConfig replica) {
        java.util.Objects.requireNonNull(replica, "replica");
        checkNotClosed();
        dev.readsplit.config.NodeConfig p = ds.config().primary();
        dev.readsplit.config.NodeConfig.Builder b = replica.toBuilder();
        if (replica.database() == null && p.database() != null) {
            b.database(p.database());
        }
        if (replica.user() == null && p.user() != null) {
            b.user(p.user());
        }
        if (replica.password() == null && p.password() != null) {
            b.password(p.password());
        }
        if (replica.jdbcProperties().isEmpty() && replica.isPostgres() && p.isPostgres()) {
            b.jdbcProperties(p.jdbcProperties());
        }
        Node node = topology.addReplica(b.build());
        ds.healthChecker().checkAllNow();
        return node.name();
    }

    /**
     * Drains a replica: no new statement is routed to it from now on; statements and read-only transactions
     * already running there finish; once none is left (or {@code timeout} passed) its pool is closed. Its
     * state stays {@code DRAINING} until it is removed. A logical connection that keeps a physical
     * connection to the node open (idle) holds the drain until the timeout; HikariCP then aborts it.
     *
     * @return whether the node went quiet within the timeout (false: the pool was closed with work borrowed)
     * @throws IllegalArgumentException if no node has that name
     * @throws IllegalStateException    if the node is the primary
     */
    public boolean drainReplica(String name, java.time.Duration timeout) {
        Node node = replicaNamed(name);
        topology.drain(node, "drained by operator");
        boolean quiet = awaitQuiet(node, timeout);
        topology.closePool(node);
        return quiet;
    }

    /**
     * Removes a replica at runtime: drains it first (see {@link #drainReplica}) unless already drained, then
     * takes it out of the topology and stops checking it.
     *
     * @return whether the drain finished within the timeout
     * @throws IllegalArgumentException if no node has that name
     * @throws IllegalStateException    if the node is the primary
     */
    public boolean removeReplica(String name, java.time.Duration drainTimeout) {
        Node node = replicaNamed(name);
        boolean quiet = true;
        if (node.state() != dev.readsplit.topology.NodeState.DRAINING || !node.pool().isClosed()) {
            quiet = drainReplica(name, drainTimeout);
        }
        synchronized (retiredReads) {
            if (topology.node(name) == node) {
                retiredReads.add(node.readsServed());
                retiredWrites.add(node.writesServed());
                retiredCheckFailures.add(node.healthCheckFailures());
                topology.remove(node, "removed by operator");
            }
        }
        ds.healthChecker().forget(node);
        return quiet;
    }

    private Node replicaNamed(String name) {
        checkNotClosed();
        Node node = name == null ? null : topology.node(name);
        if (node == null) {
            throw new IllegalArgumentException(ds.name() + ": no node named '" + name + "'");
        }
        if (node == topology.primary()) {
            throw new IllegalStateException(ds.name() + ": " + name + " is the primary; only replicas can be"
                    + " drained or removed");
        }
        return node;
    }

    /**
     * Waits until nothing runs on {@code node} and none of its pool's connections is borrowed, seen twice in a
     * row 50 ms apart: a statement routed there just before the drain may not have borrowed yet at the first
     * look. (If one borrows after the pool closed, it gets 08003 and an autocommit read is retried elsewhere.)
     */
    private static boolean awaitQuiet(Node node, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int quietLooks = 0;
        while (System.nanoTime() < deadline) {
            boolean quiet = node.inFlight() == 0 && node.poolStats().active() == 0;
            quietLooks = quiet ? quietLooks + 1 : 0;
            if (quietLooks >= 2) {
                return true;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    private void checkNotClosed() {
        if (ds.isClosed()) {
            throw new IllegalStateException(ds.name() + ": data source is closed");
        }
    }

    /**
     * A connection straight from the pool of the node named {@code name}, whatever its state (a DOWN node is asked
     * too; a FENCED one too, so the caller decides whether to send it anything): for readiness probes and diagnostics
     * that must ask the server itself. Nothing on it is routed, retried or counted, and its failures change no node
     * state. The caller closes it.
     *
     * @throws IllegalArgumentException if no node has that name
     * @throws java.sql.SQLException    if the pool gives no connection within its {@code connectionTimeout}
     */
    public java.sql.Connection connectionTo(String name) throws java.sql.SQLException {
        checkNotClosed();
        Node node = name == null ? null : topology.node(name);
        if (node == null) {
            throw new IllegalArgumentException(ds.name() + ": no node named '" + name + "'");
        }
        return node.pool().getConnection();
    }

    /**
     * Planned switchover to {@code target} (see {@code docs/failover.md}): writes pause, the target is promoted once it
     * has replayed everything, the old primary rejoins as a standby.
     */
    public dev.readsplit.failover.SwitchoverReport switchover(String target, java.time.Duration timeout) {
        checkNotClosed();
        return ds.failover().switchover(target, timeout);
    }

    /**
     * {@link #switchover(String, java.time.Duration)}, with the old primary taken out of service by {@code stopper} once
     * the target has caught up (so nothing more can be written there; see {@code docs/failover.md}).
     */
    public dev.readsplit.failover.SwitchoverReport switchover(String target, java.time.Duration timeout,
                                                              dev.readsplit.failover.OldPrimaryStopper stopper) {
        checkNotClosed();
        return ds.failover().switchover(target, timeout, stopper);
    }

    /**
     * The report of the last supervised failover this data source ran ({@code docs/failover.md}), or null; its
     * {@code exactWalBytesPastPromotion()} is filled in once the old primary answers again.
     */
    public dev.readsplit.failover.FailoverReport lastFailover() {
        return ds.failover().lastFailover();
    }

    /** Whether a failover or switchover of this data source is running now. */
    public boolean failoverInProgress() {
        return ds.failover().inProgress();
    }

    /** Lifts the fence of a node (it takes traffic again after its next successful check); false if it was not fenced. */
    public boolean unfence(String name) {
        checkNotClosed();
        return topology.unfence(name);
    }

    /** Rebuilds a returned old primary as a standby of the current one (see {@code docs/failover.md}). */
    public void rejoinAsStandby(String name, java.time.Duration timeout) {
        checkNotClosed();
        ds.failover().rejoinAsStandby(name, timeout);
    }
}

package dev.readsplit.spring.boot;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.metrics.NodeStatus;
import dev.readsplit.metrics.StatusSnapshot;

import java.time.Duration;

/**
 * What the Boot integration needs from a running {@link ReadsplitDataSource}: its status and the operator actions.
 * The one place that knows how core exposes them (the status snapshot and {@code ReadsplitDataSource.operations()},
 * {@code docs/architecture.md}), so that a change there is absorbed here and nowhere else.
 */
public final class ReadsplitOperations {

    private final ReadsplitDataSource dataSource;

    public ReadsplitOperations(ReadsplitDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The data source these operations act on. */
    public ReadsplitDataSource dataSource() {
        return dataSource;
    }

    /** Every node's role, state, lag and pool now (no secret). */
    public StatusSnapshot status() {
        return StatusSnapshot.of(dataSource);
    }

    /** Statements running on any node now. */
    public int inFlight() {
        int n = 0;
        for (NodeStatus node : status().nodes()) {
            n += node.inFlight();
        }
        return n;
    }

    /**
     * Stops routing new statements to a replica, lets running ones finish (up to {@code timeout}) and closes its
     * pool.
     *
     * @return whether the replica went quiet within the timeout
     * @throws IllegalArgumentException if no node has that name
     * @throws IllegalStateException    if the node is the primary
     */
    public boolean drain(String node, Duration timeout) {
        return dataSource.operations().drainReplica(node, timeout);
    }

    /**
     * Adds a replica ({@code host[:port][;zone=Z][;weight=N][;name=X]}); it takes reads once its health checks
     * pass.
     *
     * @return the new node's name
     * @throws IllegalArgumentException if the spec is invalid or the node is already present
     */
    public String add(String spec) {
        return dataSource.operations().addReplica(NodeConfig.parse(spec));
    }

    /**
     * Drains (unless already drained) and removes a replica.
     *
     * @return whether the drain finished within the timeout
     */
    public boolean remove(String node, Duration drainTimeout) {
        return dataSource.operations().removeReplica(node, drainTimeout);
    }
}

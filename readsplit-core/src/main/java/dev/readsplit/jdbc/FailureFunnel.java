package dev.readsplit.jdbc;

import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;

import java.sql.SQLException;

/**
 * The one place, at the JDBC edge, where a failure seen on a physical connection becomes a node state change:
 * the topology decides whether the node is at fault (connection-level SQLSTATE: it turns SUSPECT and is checked at
 * once), and if so the session drops its physical connection to it. Every JDBC object of a logical connection
 * (statements, result sets, callable statements, commit and rollback, position queries) sends its
 * {@link SQLException}s here.
 */
final class FailureFunnel {

    private final Topology topology;

    FailureFunnel(Topology topology) {
        this.topology = topology;
    }

    /**
     * Records a failure on {@code node}. Returns whether the node (not the statement) is at fault; then the
     * session's physical connection to it has been dropped.
     */
    boolean failed(Node node, SQLException e, PhysicalConnections held) {
        boolean atFault = topology.onTrafficError(node, e);
        if (atFault && held != null) {
            held.discard(node);
        }
        return atFault;
    }
}

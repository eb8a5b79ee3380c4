package dev.readsplit.jdbc;

import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitException.Reason;
import dev.readsplit.Role;
import dev.readsplit.routing.Attempt;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Operation;
import dev.readsplit.routing.SessionState;
import dev.readsplit.cluster.Node;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Hands a caller the driver's own connection object behind a logical connection (pgjdbc's {@code PGConnection} or
 * {@code BaseConnection}: COPY in and out, LISTEN/NOTIFY notifications, large objects, {@code addDataType}), pinning
 * the session to that physical connection's node for the rest of its life (see {@code docs/routing.md}, "What
 * pins"): the node running the transaction, else the primary, or, for a read-only (or replica-bound) session in
 * autocommit, the replica it reads from. Outside read-only whatever runs through it may have written, so
 * read-your-writes counts it, and the session is reset before its connections return to their pools.
 *
 * <p>Stateless (the rules over the logical connection's session; nothing is allocated per connection). Concurrency:
 * one logical connection, one thread at a time.
 */
final class DriverObjects {

    private DriverObjects() {
    }

    /** Whether a physical connection of this data source is a wrapper for {@code iface} (pgjdbc: asked of its class). */
    static boolean isWrapperFor(LogicalConnection conn, Class<?> iface) throws SQLException {
        if (conn.primary().isPostgres()) {
            // pgjdbc's connection class, without borrowing a connection to ask
            return iface.isAssignableFrom(org.postgresql.jdbc.PgConnection.class);
        }
        return conn.physical(conn.primary()).isWrapperFor(iface);
    }

    /** The physical connection's {@code iface}; the session stays on its node until it closes. Do not close it. */
    static <T> T unwrap(LogicalConnection conn, Class<T> iface) throws SQLException {
        if (!isWrapperFor(conn, iface)) {
            throw new ReadsplitException(Reason.NOT_SUPPORTED, conn.dataSource().name()
                    + ": a logical connection is not a wrapper for " + iface.getName());
        }
        SessionState session = conn.session();
        Decision start = conn.route(null, null, Operation.TRANSACTION_START, Attempt.FIRST, null);
        Node node = session.pinnedNode() != null ? session.pinnedNode()
                : session.transactionNode() != null ? session.transactionNode() : target(conn, session, start);
        Connection physical = conn.physical(node);
        if (!session.autoCommit() && !session.inTransaction()) {
            conn.beforeExecute(start, physical); // what runs through it belongs to the JDBC transaction, which starts there
        }
        T unwrapped;
        try {
            unwrapped = physical.unwrap(iface);
        } catch (SQLException e) {
            conn.funnel(node, e);
            throw e;
        }
        session.pinTo(node);
        if (writesThroughUnwrap(session, conn.primary())) {
            // fail closed: whatever the caller runs through it may write, now or until the session closes
            conn.recordWrite();
        }
        return unwrapped;
    }

    /** The caller holds the primary's physical connection outside read-only: anything it ran may have written. */
    static boolean writesThroughUnwrap(SessionState session, Node primary) {
        Node pinned = session.pinnedNode();
        return pinned != null && pinned == primary && !session.readOnly();
    }

    /** With no transaction or pin yet: the replica a read-only (or replica-bound) autocommit session reads, else the primary. */
    private static Node target(LogicalConnection conn, SessionState session, Decision transactionStart) {
        boolean replicaBound = session.readOnly() || session.explicitRole() == Role.REPLICA;
        if (replicaBound && session.autoCommit() && transactionStart.node() != conn.primary()) {
            return transactionStart.node();
        }
        return conn.primary();
    }
}

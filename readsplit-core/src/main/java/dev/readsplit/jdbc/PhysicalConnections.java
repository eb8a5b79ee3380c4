package dev.readsplit.jdbc;

import dev.readsplit.ReadsplitException;
import dev.readsplit.Role;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.SqlStates;
import dev.readsplit.cluster.Topology;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.concurrent.Executor;

/**
 * The physical connections one logical connection holds: at most one per node, borrowed lazily from the node's
 * pool and given the session's state on first use, dropped when their node changed role (its epoch moved) or broke,
 * and all returned (rolled back, reset when the session changed server state) on close.
 *
 * <p>Concurrency: one logical connection, one thread at a time ({@link #abortAll} may come from another thread, as
 * JDBC allows for {@code abort}). A handful of nodes: arrays beat maps.
 */
final class PhysicalConnections {

    /** Told when a physical connection is dropped, so the statements opened on it forget it too. */
    interface DiscardListener {
        void discarded(Node node);
    }

    private final String dataSource;
    private final Topology topology;
    private final SessionSettings settings;
    private final DiscardListener listener;
    private final FailureFunnel funnel;

    // two to start: a session usually holds a connection to the primary and to at most one replica
    private Node[] nodes = new Node[2];
    private Connection[] conns = new Connection[2];
    /** {@link Node#epoch()} when each connection was borrowed: a changed epoch means drop it. */
    private int[] epochs = new int[2];
    private int held;

    /** @param funnel the data source's failure funnel (stateless: shared by every logical connection) */
    PhysicalConnections(String dataSource, Topology topology, FailureFunnel funnel, SessionSettings settings,
                        DiscardListener listener) {
        this.dataSource = dataSource;
        this.topology = topology;
        this.settings = settings;
        this.listener = listener;
        this.funnel = funnel;
    }

    int size() {
        return held;
    }

    Connection connectionAt(int i) {
        return conns[i];
    }

    Node nodeAt(int i) {
        return nodes[i];
    }

    /** The physical connection held to {@code node}, or null (never opens one). */
    Connection heldTo(Node node) {
        for (int i = 0; i < held; i++) {
            if (nodes[i] == node && epochs[i] == node.epoch()) {
                return conns[i];
            }
        }
        return null;
    }

    /**
     * The physical connection to {@code node}, opened and given the session's state on first use.
     *
     * @param inTransactionOn the node running the session's transaction (its connection cannot be replaced), or null
     */
    Connection get(Node node, Node inTransactionOn) throws SQLException {
        return get(node, inTransactionOn, Long.MAX_VALUE);
    }

    /** {@link #get(Node, Node)}, waiting at most {@code maxWaitMillis} for the node's pool if a connection is borrowed. */
    Connection get(Node node, Node inTransactionOn, long maxWaitMillis) throws SQLException {
        for (int i = 0; i < held; i++) {
            if (nodes[i] == node) {
                if (epochs[i] == node.epoch()) {
                    return conns[i];
                }
                // the node changed role, was fenced or stopped being the primary since we borrowed this
                // connection: never reuse it; a transaction on it cannot continue anywhere else
                discard(node);
                if (inTransactionOn == node) {
                    throw new ReadsplitException(ReadsplitException.Reason.TRANSACTION_LOST, dataSource
                            + ": the transaction on " + node.name() + " cannot continue: the node changed role or was"
                            + " fenced (now " + node.role() + ", " + node.state() + ")");
                }
                break;
            }
        }
        int epoch = node.epoch();
        Connection c = borrow(node, maxWaitMillis);
        try {
            settings.applyTo(c, needsReadOnlyFlag(node));
        } catch (SQLException e) {
            closeQuietly(c);
            topology.onTrafficError(node, e);
            throw e;
        }
        node.track(c);
        if (held == nodes.length) {
            nodes = Arrays.copyOf(nodes, held * 2);
            conns = Arrays.copyOf(conns, held * 2);
            epochs = Arrays.copyOf(epochs, held * 2);
        }
        nodes[held] = node;
        conns[held] = c;
        epochs[held] = epoch;
        held++;
        return c;
    }

    /** What a stateless query computes from one connection (a WAL position). */
    interface Question {
        long ask(Connection c) throws SQLException;
    }

    /**
     * Asks {@code node} a question that no session state can change (a WAL position): over the connection held to it,
     * or over one borrowed for the question alone and given straight back. A session that must learn where its writes
     * end, or whether a replica has replayed them, then holds no connection to that node while it waits or reads
     * elsewhere: holding the primary's through the wait and the read starved a small primary pool, and two sessions
     * each holding one node's connection while asking for the other's could wait out the pool timeout together.
     */
    long ask(Node node, long maxWaitMillis, Question question) throws SQLException {
        Connection held = heldTo(node);
        if (held != null) {
            return question.ask(held);
        }
        Connection c = borrow(node, maxWaitMillis);
        node.track(c);
        try {
            return question.ask(c);
        } finally {
            node.untrack(c);
            closeQuietly(c); // back to the pool as it came: autocommit, nothing set
        }
    }

    private Connection borrow(Node node, long maxWaitMillis) throws SQLException {
        try {
            return node.borrow(maxWaitMillis);
        } catch (SQLException e) {
            if (!(e instanceof SQLTransientConnectionException && e.getCause() == null)) {
                // (a pool wait that ran out with no connection failure behind it is a busy pool, not a sick node:
                // it must not make the node SUSPECT and push its traffic onto the others)
                topology.onTrafficError(node, e);
            }
            String message = dataSource + ": cannot get a connection to " + node.name() + ": " + e.getMessage();
            if (e instanceof SQLTransientConnectionException) {
                // the pool's wait ran out (its message has the counts): keep the type callers catch to retry later
                throw new SQLTransientConnectionException(message, e.getSQLState() != null ? e.getSQLState() : "08001", e);
            }
            throw new ReadsplitException(ReadsplitException.Reason.NODE_UNAVAILABLE, message, e.getSQLState(), e);
        }
    }

    /**
     * Whether a physical connection must carry the JDBC read-only flag itself. A PostgreSQL hot standby
     * refuses every write on its own (SQLSTATE 25006), so flagging its connections would only cost round
     * trips ({@code readOnlyMode=always} makes pgjdbc send a SET on each change, and HikariCP resets it on
     * return). The primary (read-only fallback) and non-PostgreSQL nodes need the flag.
     */
    boolean needsReadOnlyFlag(Node node) {
        return !node.isPostgres() || node == topology.primary() || node.role() != Role.REPLICA;
    }

    /** Drops the physical connection to {@code node} (its pool evicts it) and tells the listener. */
    void discard(Node node) {
        for (int i = 0; i < held; i++) {
            if (nodes[i] == node) {
                Connection c = conns[i];
                System.arraycopy(nodes, i + 1, nodes, i, held - i - 1);
                System.arraycopy(conns, i + 1, conns, i, held - i - 1);
                System.arraycopy(epochs, i + 1, epochs, i, held - i - 1);
                held--;
                nodes[held] = null;
                conns[held] = null;
                listener.discarded(node);
                node.untrack(c);
                closeQuietly(c);
                return;
            }
        }
    }

    /**
     * Drops the connection to {@code node} and has its pool close it, never hand it out again: its session state
     * cannot be trusted (a session statement failed on it).
     */
    void evict(Node node) {
        for (int i = 0; i < held; i++) {
            if (nodes[i] == node) {
                node.pool().evictConnection(conns[i]); // closed by the pool while still ours
                discard(node);
                return;
            }
        }
    }

    /** Applies a setting to every held connection, a failure through the failure funnel (which may drop it). */
    void forEach(Setting action) throws SQLException {
        for (int i = 0; i < held; i++) {
            Node node = nodes[i];
            try {
                action.apply(node, conns[i]);
            } catch (SQLException e) {
                funnel.failed(node, e, this);
                throw e;
            }
        }
    }

    @FunctionalInterface
    interface Setting {
        void apply(Node node, Connection c) throws SQLException;
    }

    /**
     * Rolls back what is unfinished, clears session state when {@code reset} ({@code DISCARD ALL}: settings, role,
     * prepared statements, temp objects, listeners, advisory locks, cursors; so the next borrower does not inherit
     * it) and returns every connection to its pool. Returns the first failure, if any.
     */
    SQLException closeAll(boolean reset, boolean serializableByDefault) {
        SQLException first = null;
        for (int i = 0; i < held; i++) {
            Connection c = conns[i];
            try {
                if (c.isClosed()) {
                    continue; // its pool already dropped it (a fatal error it saw): nothing to roll back or reset
                }
                if (!c.getAutoCommit()) {
                    c.rollback();
                    c.setAutoCommit(true);
                }
                if (reset) {
                    try (Statement s = c.createStatement()) {
                        if (serializableByDefault) {
                            // a standby refuses DISCARD ALL itself under a serializable default (it takes a snapshot)
                            s.execute("RESET default_transaction_isolation");
                        }
                        s.execute("DISCARD ALL");
                    }
                }
            } catch (SQLException e) {
                topology.onTrafficError(nodes[i], e);
                first = first == null ? e : first;
            } finally {
                nodes[i].untrack(c);
                closeQuietly(c);
                conns[i] = null;
                nodes[i] = null;
            }
        }
        held = 0;
        return first;
    }

    /** Aborts every connection (JDBC {@code abort}) and evicts it from its pool. Returns the first failure. */
    SQLException abortAll(Executor executor) {
        SQLException first = null;
        for (int i = 0; i < held; i++) {
            try {
                conns[i].abort(executor);
            } catch (SQLException e) {
                first = first == null ? e : first;
            } finally {
                // an aborted connection is never closed through the pool: evict it, or it stays borrowed forever
                nodes[i].untrack(conns[i]);
                nodes[i].pool().evictConnection(conns[i]);
                conns[i] = null;
                nodes[i] = null;
            }
        }
        held = 0;
        return first;
    }

    static boolean isConnectionLevel(SQLException e) {
        return SqlStates.isConnectionLevel(e);
    }

    static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // returning to the pool failed: the pool has already dropped it
        }
    }
}

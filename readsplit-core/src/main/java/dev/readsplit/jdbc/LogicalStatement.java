package dev.readsplit.jdbc;

import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitException.Reason;
import dev.readsplit.routing.Operation;
import dev.readsplit.sql.Classification;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.SqlStates;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Statement} whose every execution is routed by its logical connection. It keeps at most one
 * physical statement per node, created on first use with this statement's settings, and closes them all.
 *
 * <p>Executions go through {@link StatementExecutor} (shared with {@link LogicalPreparedStatement}); this class
 * keeps the physical statements, the settings applied to each, the batch, and the results of the last execution.
 */
class LogicalStatement implements Statement {

    final LogicalConnection conn;
    private final int resultSetType;
    private final int resultSetConcurrency;
    private final int resultSetHoldability;

    private Node[] nodes = new Node[2];
    private Statement[] physicals = new Statement[2];
    private int count;
    /** The physical statement of the last execution: results, update counts and keys come from it. */
    Statement current;
    /** The node {@link #current} runs on. */
    private Node currentNode;
    private boolean closed;

    // settings applied to every physical statement
    private int fetchSize = -1;
    private int maxRows = -1;
    private long largeMaxRows = -1;
    private int queryTimeout = -1;
    private int maxFieldSize = -1;
    private int fetchDirection = -1;
    private Boolean escapeProcessing;
    private Boolean poolable;
    private String cursorName;
    private boolean closeOnCompletion;

    // Statement.addBatch(String) batches: always the primary
    private List<String> batch;

    LogicalStatement(LogicalConnection conn, int resultSetType, int resultSetConcurrency, int resultSetHoldability) {
        this.conn = conn;
        this.resultSetType = resultSetType;
        this.resultSetConcurrency = resultSetConcurrency;
        this.resultSetHoldability = resultSetHoldability;
        conn.register(this);
    }

    /**
     * The physical statement executing right now, on whichever node, or null: what {@link #cancel()} (called from
     * another thread, as JDBC allows) acts on. Volatile: written by the executing thread, read by the cancelling one.
     */
    private volatile Statement running;

    /** The executor is running {@code physical} now (null: nothing runs). */
    final void running(Statement physical) {
        this.running = physical;
    }

    /** The physical statement that ran last on {@code node} (set by the executor). */
    final void ran(Node node, Statement physical) {
        releaseHedge();
        this.current = physical;
        this.currentNode = node;
    }

    /**
     * A hedge answered this execution first (see {@link Hedger}): its statement, on a connection the hedge borrowed
     * from {@code node}'s pool, holds the results until the next execution or close, which give the connection back.
     */
    final void ranHedge(Node node, Statement physical, Connection borrowed) {
        releaseHedge();
        this.current = physical;
        this.currentNode = node;
        this.hedgeConnection = borrowed;
        this.hedgeNode = node;
    }

    /** The connection a winning hedge borrowed (results of the last execution are on it), or null. */
    private Connection hedgeConnection;
    private Node hedgeNode;

    private void releaseHedge() {
        Connection c = hedgeConnection;
        if (c == null) {
            return;
        }
        Node node = hedgeNode;
        Statement s = current;
        hedgeConnection = null;
        hedgeNode = null;
        if (current != null && currentNode == node) {
            current = null;
            currentNode = null;
        }
        Hedger.release(node, s, c, conn.settings.changedBySql());
    }

    /** Whether an execution of this statement may run twice at once (a hedge): no value that can be read once. */
    boolean replayable() {
        return true;
    }

    /** The node of the physical statement that ran last (result sets report their failures against it), or null. */
    final Node currentNode() {
        return currentNode;
    }

    /** Sends a failure seen on {@code node} by an object of this statement through the failure funnel; returns it. */
    final SQLException failed(Node node, SQLException e) {
        if (node != null) {
            conn.funnel(node, e);
        }
        return e;
    }

    /** Routes and runs one execution (see {@link StatementExecutor}). */
    final <T> T run(String sql, Classification c, Operation op, StatementExecutor.Execution<T> exec) throws SQLException {
        checkOpen();
        return StatementExecutor.run(this, sql, c, op, exec);
    }

    final Statement physicalFor(Node node, Connection pc) throws SQLException {
        for (int i = 0; i < count; i++) {
            if (nodes[i] == node) {
                return physicals[i];
            }
        }
        Statement s = create(pc);
        applySettings(s);
        if (count == nodes.length) {
            nodes = java.util.Arrays.copyOf(nodes, count * 2);
            physicals = java.util.Arrays.copyOf(physicals, count * 2);
        }
        nodes[count] = node;
        physicals[count] = s;
        count++;
        return s;
    }

    /** Creates this statement's physical counterpart on a physical connection. */
    Statement create(Connection pc) throws SQLException {
        return resultSetHoldability >= 0
                ? pc.createStatement(resultSetType, resultSetConcurrency, resultSetHoldability)
                : pc.createStatement(resultSetType, resultSetConcurrency);
    }

    /** Gives {@code s} (a physical statement of this statement) the settings set on this statement. */
    final void applySettings(Statement s) throws SQLException {
        if (fetchSize >= 0) {
            s.setFetchSize(fetchSize);
        }
        if (maxRows >= 0) {
            s.setMaxRows(maxRows);
        }
        if (largeMaxRows >= 0) {
            s.setLargeMaxRows(largeMaxRows);
        }
        if (queryTimeout >= 0) {
            s.setQueryTimeout(queryTimeout);
        }
        if (maxFieldSize >= 0) {
            s.setMaxFieldSize(maxFieldSize);
        }
        if (fetchDirection >= 0) {
            s.setFetchDirection(fetchDirection);
        }
        if (escapeProcessing != null) {
            s.setEscapeProcessing(escapeProcessing);
        }
        if (poolable != null) {
            s.setPoolable(poolable);
        }
        if (cursorName != null) {
            s.setCursorName(cursorName);
        }
    }

    /** The connection dropped its physical connection to {@code node}: so do we. */
    void forget(Node node) {
        for (int i = 0; i < count; i++) {
            if (nodes[i] == node) {
                Statement s = physicals[i];
                System.arraycopy(nodes, i + 1, nodes, i, count - i - 1);
                System.arraycopy(physicals, i + 1, physicals, i, count - i - 1);
                count--;
                nodes[count] = null;
                physicals[count] = null;
                if (current == s) {
                    current = null;
                    currentNode = null;
                }
                try {
                    s.close();
                } catch (SQLException ignored) {
                    // its connection is broken
                }
                return;
            }
        }
    }

    /** Applies a setting to every physical statement, each failure through the failure funnel. */
    final void forEachPhysical(PhysicalAction action) throws SQLException {
        for (int i = 0; i < count; i++) {
            try {
                action.apply(physicals[i]);
            } catch (SQLException e) {
                throw failed(nodes[i], e);
            }
        }
    }

    @FunctionalInterface
    interface PhysicalAction {
        void apply(Statement s) throws SQLException;
    }

    // ---------------------------------------------------------------------------------------------
    // execution

    @Override
    public ResultSet executeQuery(String sql) throws SQLException {
        return LogicalResultSet.wrap(run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.executeQuery(sql)), this);
    }

    @Override
    public int executeUpdate(String sql) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.executeUpdate(sql));
    }

    @Override
    public int executeUpdate(String sql, int autoGeneratedKeys) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.executeUpdate(sql, autoGeneratedKeys));
    }

    @Override
    public int executeUpdate(String sql, int[] columnIndexes) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.executeUpdate(sql, columnIndexes));
    }

    @Override
    public int executeUpdate(String sql, String[] columnNames) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.executeUpdate(sql, columnNames));
    }

    @Override
    public long executeLargeUpdate(String sql) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.executeLargeUpdate(sql));
    }

    @Override
    public long executeLargeUpdate(String sql, int autoGeneratedKeys) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.executeLargeUpdate(sql, autoGeneratedKeys));
    }

    @Override
    public long executeLargeUpdate(String sql, int[] columnIndexes) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.executeLargeUpdate(sql, columnIndexes));
    }

    @Override
    public long executeLargeUpdate(String sql, String[] columnNames) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.executeLargeUpdate(sql, columnNames));
    }

    @Override
    public boolean execute(String sql) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.execute(sql));
    }

    @Override
    public boolean execute(String sql, int autoGeneratedKeys) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.execute(sql, autoGeneratedKeys));
    }

    @Override
    public boolean execute(String sql, int[] columnIndexes) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.execute(sql, columnIndexes));
    }

    @Override
    public boolean execute(String sql, String[] columnNames) throws SQLException {
        return run(sql, conn.classify(sql), Operation.STATEMENT, s -> s.execute(sql, columnNames));
    }

    @Override
    public void addBatch(String sql) throws SQLException {
        checkOpen();
        if (batch == null) {
            batch = new ArrayList<>();
        }
        batch.add(sql);
    }

    @Override
    public void clearBatch() throws SQLException {
        checkOpen();
        if (batch != null) {
            batch.clear();
        }
    }

    /** Batches may write: they run on the primary (or inside the running transaction). */
    @Override
    public int[] executeBatch() throws SQLException {
        checkOpen();
        List<String> sqls = batch == null ? List.of() : new ArrayList<>(batch);
        if (batch != null) {
            batch.clear();
        }
        if (sqls.isEmpty()) {
            return new int[0];
        }
        Classification c = conn.classify(String.join(";\n", sqls));
        return run(null, c, Operation.BATCH, s -> {
            s.clearBatch();
            for (String q : sqls) {
                s.addBatch(q);
            }
            return s.executeBatch();
        });
    }

    @Override
    public long[] executeLargeBatch() throws SQLException {
        int[] r = executeBatch();
        long[] out = new long[r.length];
        for (int i = 0; i < r.length; i++) {
            out[i] = r[i];
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------
    // results of the last execution

    private Statement currentOrThrow() throws SQLException {
        checkOpen();
        if (current == null) {
            throw new ReadsplitException(Reason.SEQUENCE, conn.dataSource().name() + ": no statement has been executed");
        }
        return current;
    }

    @Override
    public ResultSet getResultSet() throws SQLException {
        checkOpen();
        return current == null ? null : LogicalResultSet.wrap(current.getResultSet(), this);
    }

    @Override
    public int getUpdateCount() throws SQLException {
        checkOpen();
        return current == null ? -1 : current.getUpdateCount();
    }

    @Override
    public long getLargeUpdateCount() throws SQLException {
        checkOpen();
        return current == null ? -1 : current.getLargeUpdateCount();
    }

    @Override
    public boolean getMoreResults() throws SQLException {
        checkOpen();
        try {
            return current != null && current.getMoreResults();
        } catch (SQLException e) {
            throw failed(currentNode, e);
        }
    }

    @Override
    public boolean getMoreResults(int current) throws SQLException {
        checkOpen();
        try {
            return this.current != null && this.current.getMoreResults(current);
        } catch (SQLException e) {
            throw failed(currentNode, e);
        }
    }

    @Override
    public ResultSet getGeneratedKeys() throws SQLException {
        return LogicalResultSet.wrap(currentOrThrow().getGeneratedKeys(), this);
    }

    /**
     * A result set of this statement closed: with {@link #closeOnCompletion()}, the statement closes once
     * none of its physical statements has an open result set left (JDBC 4.1, 13.1.4).
     */
    void resultSetClosed() throws SQLException {
        if (hedgeConnection != null && current != null && (current.getResultSet() == null
                || current.getResultSet().isClosed())) {
            // the connection a winning hedge borrowed (beside the session's own) goes back as soon as its rows are
            // read: held until the next execution, it could starve a pool sized to the application's threads
            releaseHedge();
        }
        if (!closeOnCompletion || closed) {
            return;
        }
        for (int i = 0; i < count; i++) {
            ResultSet open = physicals[i].getResultSet();
            if (open != null && !open.isClosed()) {
                return;
            }
        }
        close();
    }

    // ---------------------------------------------------------------------------------------------
    // settings

    @Override
    public int getMaxFieldSize() throws SQLException {
        checkOpen();
        return Math.max(0, maxFieldSize);
    }

    @Override
    public void setMaxFieldSize(int max) throws SQLException {
        checkOpen();
        if (max < 0) {
            throw new ReadsplitException(Reason.INVALID_ARGUMENT, "max field size must not be negative: " + max);
        }
        forEachPhysical(s -> s.setMaxFieldSize(max));
        maxFieldSize = max;
    }

    @Override
    public int getMaxRows() throws SQLException {
        checkOpen();
        return Math.max(0, maxRows);
    }

    @Override
    public void setMaxRows(int max) throws SQLException {
        checkOpen();
        if (max < 0) {
            throw new ReadsplitException(Reason.INVALID_ARGUMENT, "max rows must not be negative: " + max);
        }
        forEachPhysical(s -> s.setMaxRows(max));
        maxRows = max;
    }

    @Override
    public long getLargeMaxRows() throws SQLException {
        checkOpen();
        return largeMaxRows >= 0 ? largeMaxRows : Math.max(0, maxRows);
    }

    @Override
    public void setLargeMaxRows(long max) throws SQLException {
        checkOpen();
        if (max < 0) {
            throw new ReadsplitException(Reason.INVALID_ARGUMENT, "max rows must not be negative: " + max);
        }
        forEachPhysical(s -> s.setLargeMaxRows(max));
        largeMaxRows = max;
    }

    @Override
    public void setEscapeProcessing(boolean enable) throws SQLException {
        checkOpen();
        forEachPhysical(s -> s.setEscapeProcessing(enable));
        escapeProcessing = enable;
    }

    @Override
    public int getQueryTimeout() throws SQLException {
        checkOpen();
        return Math.max(0, queryTimeout);
    }

    @Override
    public void setQueryTimeout(int seconds) throws SQLException {
        checkOpen();
        if (seconds < 0) {
            throw new ReadsplitException(Reason.INVALID_ARGUMENT, "query timeout must not be negative: " + seconds);
        }
        forEachPhysical(s -> s.setQueryTimeout(seconds));
        queryTimeout = seconds;
    }

    @Override
    public void cancel() throws SQLException {
        checkOpen();
        Statement now = running;
        if (now != null) {
            now.cancel(); // the execution running now, its first included, on whichever node it was sent to
        } else if (current != null) {
            current.cancel();
        }
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        checkOpen();
        return current == null ? null : current.getWarnings();
    }

    @Override
    public void clearWarnings() throws SQLException {
        checkOpen();
        forEachPhysical(Statement::clearWarnings);
    }

    @Override
    public void setCursorName(String name) throws SQLException {
        checkOpen();
        forEachPhysical(s -> s.setCursorName(name));
        cursorName = name;
    }

    @Override
    public void setFetchDirection(int direction) throws SQLException {
        checkOpen();
        forEachPhysical(s -> s.setFetchDirection(direction));
        fetchDirection = direction;
    }

    @Override
    public int getFetchDirection() throws SQLException {
        checkOpen();
        return fetchDirection >= 0 ? fetchDirection : ResultSet.FETCH_FORWARD;
    }

    @Override
    public void setFetchSize(int rows) throws SQLException {
        checkOpen();
        if (rows < 0) {
            throw new ReadsplitException(Reason.INVALID_ARGUMENT, "fetch size must not be negative: " + rows);
        }
        forEachPhysical(s -> s.setFetchSize(rows));
        fetchSize = rows;
    }

    @Override
    public int getFetchSize() throws SQLException {
        checkOpen();
        return Math.max(0, fetchSize);
    }

    @Override
    public int getResultSetConcurrency() throws SQLException {
        checkOpen();
        return resultSetConcurrency;
    }

    @Override
    public int getResultSetType() throws SQLException {
        checkOpen();
        return resultSetType;
    }

    @Override
    public int getResultSetHoldability() throws SQLException {
        checkOpen();
        return resultSetHoldability >= 0 ? resultSetHoldability : ResultSet.HOLD_CURSORS_OVER_COMMIT;
    }

    @Override
    public Connection getConnection() throws SQLException {
        checkOpen();
        return conn;
    }

    @Override
    public void setPoolable(boolean poolable) throws SQLException {
        checkOpen();
        forEachPhysical(s -> s.setPoolable(poolable));
        this.poolable = poolable;
    }

    @Override
    public boolean isPoolable() throws SQLException {
        checkOpen();
        return poolable != null && poolable;
    }

    @Override
    public void closeOnCompletion() throws SQLException {
        checkOpen();
        closeOnCompletion = true;
    }

    @Override
    public boolean isCloseOnCompletion() throws SQLException {
        checkOpen();
        return closeOnCompletion;
    }

    // ---------------------------------------------------------------------------------------------
    // close

    @Override
    public void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        releaseHedge();
        SQLException first = null;
        for (int i = 0; i < count; i++) {
            try {
                physicals[i].close();
            } catch (SQLException e) {
                first = first == null ? e : first;
            }
            physicals[i] = null;
            nodes[i] = null;
        }
        count = 0;
        current = null;
        conn.unregister(this);
        if (first != null && !SqlStates.isConnectionLevel(first)) {
            throw first;
        }
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    final void checkOpen() throws SQLException {
        if (closed) {
            throw new ReadsplitException(Reason.SEQUENCE, conn.dataSource().name() + ": statement is closed");
        }
        conn.checkOpen();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        if (current != null && current.isWrapperFor(iface)) {
            return current.unwrap(iface);
        }
        throw new ReadsplitException(Reason.NOT_SUPPORTED, conn.dataSource().name() + ": not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || current != null && current.isWrapperFor(iface);
    }
}

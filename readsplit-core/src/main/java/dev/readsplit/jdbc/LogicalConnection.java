package dev.readsplit.jdbc;

import dev.readsplit.Consistency;
import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitException.Reason;
import dev.readsplit.Role;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.routing.Attempt;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Operation;
import dev.readsplit.routing.SessionState;
import dev.readsplit.sql.Classification;
import dev.readsplit.cluster.Node;

import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.NClob;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Struct;
import java.util.Arrays;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * The logical connection of design §2, as a JDBC {@link Connection}: every JDBC method of it is here, the work is
 * delegated: routing and the session's effects to {@link SessionRouting} (over the data source's router), physical
 * connections to {@link PhysicalConnections}, replayed settings to {@link SessionSettings}, failures to the
 * {@link FailureFunnel}, execution to the statements' {@link StatementExecutor}.
 *
 * <p>Concurrency: like any JDBC connection, one thread at a time. Nothing is shared between logical connections
 * except through the data source (topology, router, caches, counters) and the causal position of the connection's
 * scope, which are thread-safe.
 */
final class LogicalConnection extends ConnectionSettings implements PhysicalConnections.DiscardListener {

    private final ReadsplitDataSource ds;
    private final FailureFunnel funnel;
    /** PostgreSQL (DISCARD ALL) rather than the generic JDBC dialect. */
    private final boolean postgres;
    private final PhysicalConnections physicals;
    private final SessionRouting routing;
    private LogicalStatement[] statements; // open statements, in creation order; created on first use
    private int statementCount;
    private boolean closed;
    private Decision lastRoute;
    /** What this connection executes now, for the data source's {@link Hedger}; null when hedging is off. */
    final InFlightRead inFlight;

    LogicalConnection(ReadsplitDataSource ds, Role explicitRole) {
        super(ds.name(), new SessionState(explicitRole));
        this.ds = ds;
        this.funnel = ds.funnel();
        this.postgres = ds.cluster().primary().isPostgres();
        session.causal(ds.causalScopes().forNewConnection());
        this.physicals = new PhysicalConnections(ds.name(), ds.cluster(), funnel, settings, this);
        this.routing = new SessionRouting(ds, session, settings, this);
        this.inFlight = ds.hedger() == null ? null : ds.hedger().register(this);
    }

    ReadsplitDataSource dataSource() {
        return ds;
    }

    SessionState session() {
        return session;
    }

    // ---------------------------------------------------------------------------------------------
    // routing: the router decides, the adapter meets requirements and applies effects

    Decision route(Classification c, String sql, Operation op, Attempt attempt, Node exclude) throws SQLException {
        checkOpen();
        Decision d = routing.route(c, sql, op, attempt, exclude);
        lastRoute = d;
        return d;
    }

    void beforeExecute(Decision d, Connection physical) throws SQLException {
        routing.beforeExecute(d, physical);
    }

    void afterExecute(Decision d, Classification c, String sql) throws SQLException {
        lastRoute = d; // (already, unless a hedge answered: it ran where the hedge was routed)
        routing.afterExecute(d, c, sql);
    }

    /** A statement that may write was sent and failed: fail closed, count it as a write; a transaction is aborted. */
    void countPossibleWrite(Decision d) {
        routing.statementFailed();
        routing.afterWrite(d);
    }

    /** Something that may have written committed (see {@link SessionRouting#recordWrite()}). */
    void recordWrite() {
        routing.recordWrite();
    }

    // ---------------------------------------------------------------------------------------------
    // physical connections and the failure funnel

    /** The physical connection to {@code node}, opened and given this session's state on first use. */
    @Override
    Connection physical(Node node) throws SQLException {
        return physicals.get(node, session.transactionNode());
    }

    /** {@link #physical(Node)}, waiting at most {@code maxWaitMillis} for the node's pool. */
    Connection physical(Node node, long maxWaitMillis) throws SQLException {
        return physicals.get(node, session.transactionNode(), maxWaitMillis);
    }

    /** Sends a failure on {@code node} through the funnel; returns whether the node is at fault (then it is dropped). */
    @Override
    boolean funnel(Node node, SQLException e) {
        return funnel.failed(node, e, physicals);
    }

    void discard(Node node) {
        physicals.discard(node);
    }

    void physicalsForEach(PhysicalConnections.Setting action) throws SQLException {
        physicals.forEach(action);
    }

    /** A physical connection was dropped: the statements opened on it forget it, a transaction on it is lost. */
    @Override
    public void discarded(Node node) {
        for (int i = 0; i < statementCount; i++) {
            statements[i].forget(node);
        }
        if (session.transactionNode() == node) {
            routing.transactionLost();
            session.endTransaction();
        }
    }

    void register(LogicalStatement s) {
        if (statements == null || statementCount == statements.length) {
            statements = statements == null ? new LogicalStatement[2] : Arrays.copyOf(statements, statementCount * 2);
        }
        statements[statementCount++] = s;
    }

    void unregister(LogicalStatement s) {
        for (int i = 0; i < statementCount; i++) {
            if (statements[i] == s) {
                System.arraycopy(statements, i + 1, statements, i, statementCount - i - 1);
                statements[--statementCount] = null;
                return;
            }
        }
    }

    Classification classify(String sql) {
        return ds.classify(sql);
    }

    @Override
    Node primary() {
        return ds.cluster().primary();
    }

    // ---------------------------------------------------------------------------------------------
    // ReadsplitConnection

    @Override
    public Consistency consistency() {
        return ds.router().consistency(session);
    }

    @Override
    public void setConsistency(Consistency consistency) {
        session.consistencyOverride(java.util.Objects.requireNonNull(consistency, "consistency"));
    }

    @Override
    public CausalToken causalToken() throws SQLException {
        return routing.causalToken(closed);
    }

    @Override
    public void observe(CausalToken token) throws SQLException {
        checkOpen();
        routing.observe(token);
    }

    @Override
    public RouteDecision lastRoute() {
        Decision d = lastRoute;
        return d == null ? null : new RouteDecision(d.node().view(), d.reason());
    }

    /** The router's last decision for this connection (with its may-have-written flag), or null. */
    Decision lastDecision() {
        return lastRoute;
    }

    // ---------------------------------------------------------------------------------------------
    // statements

    @Override
    public Statement createStatement() throws SQLException {
        return createStatement(ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency) throws SQLException {
        return createStatement(resultSetType, resultSetConcurrency, -1);
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency, int resultSetHoldability) throws SQLException {
        checkOpen();
        return new LogicalStatement(this, resultSetType, resultSetConcurrency, resultSetHoldability);
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        return prepare(sql, null); // the plain form: no lambda capturing sql per statement
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency) throws SQLException {
        return prepare(sql, c -> c.prepareStatement(sql, resultSetType, resultSetConcurrency));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency, int resultSetHoldability) throws SQLException {
        return prepare(sql, c -> c.prepareStatement(sql, resultSetType, resultSetConcurrency, resultSetHoldability));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        return prepare(sql, c -> c.prepareStatement(sql, autoGeneratedKeys));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        return prepare(sql, c -> c.prepareStatement(sql, columnIndexes));
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        return prepare(sql, c -> c.prepareStatement(sql, columnNames));
    }

    private PreparedStatement prepare(String sql, PhysicalFactory factory) throws SQLException {
        checkOpen();
        if (sql == null) {
            throw new ReadsplitException(Reason.SYNTAX, ds.name() + ": SQL must not be null");
        }
        return new LogicalPreparedStatement(this, sql, factory);
    }

    /**
     * Stored procedures may write: they run on the primary (within the transaction rule; a read-only or
     * replica-bound connection's on a replica). Every execution counts as a possible write.
     */
    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        return callable(sql, c -> c.prepareCall(sql));
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency) throws SQLException {
        return callable(sql, c -> c.prepareCall(sql, resultSetType, resultSetConcurrency));
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency, int resultSetHoldability) throws SQLException {
        return callable(sql, c -> c.prepareCall(sql, resultSetType, resultSetConcurrency, resultSetHoldability));
    }

    private CallableStatement callable(String sql, PhysicalFactory factory) throws SQLException {
        checkOpen();
        Decision d = route(null, sql, Operation.CALL, Attempt.FIRST, null);
        Connection c;
        CallableStatement physical;
        try {
            c = physical(d.node());
            beforeExecute(d, c);
            physical = (CallableStatement) factory.create(c);
        } catch (SQLException e) {
            funnel(d.node(), e);
            throw e;
        }
        return CallableStatements.wrap(physical, this, d);
    }

    @Override
    public String nativeSQL(String sql) {
        return sql;
    }

    // ---------------------------------------------------------------------------------------------
    // transactions

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        checkOpen();
        if (session.autoCommit() == autoCommit) {
            return;
        }
        if (autoCommit && session.inTransaction()) {
            // JDBC: switching auto-commit on commits the running transaction
            commit();
        }
        session.autoCommit(autoCommit);
        if (autoCommit) {
            physicals.forEach((n, c) -> c.setAutoCommit(true));
        }
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        checkOpen();
        return session.autoCommit();
    }

    @Override
    public void commit() throws SQLException {
        checkOpen();
        if (session.autoCommit()) {
            throw new ReadsplitException(Reason.INVALID_TRANSACTION_STATE, ds.name() + ": cannot commit when auto-commit is on");
        }
        Node node = session.transactionNode();
        if (node == null) {
            return; // nothing ran in this transaction
        }
        boolean wrote = session.transactionMayHaveWritten() || DriverObjects.writesThroughUnwrap(session, primary());
        try {
            physical(node).commit();
        } catch (SQLException e) {
            funnel(node, e);
            routing.transactionLost();
            session.endTransaction();
            if (wrote) {
                recordWrite(); // the commit may have reached the server before the failure: fail closed
            }
            throw e;
        }
        try {
            routing.transactionEnded(true); // its SETs are the session's now
        } finally {
            session.endTransaction();
            if (wrote) {
                recordWrite();
            }
        }
    }

    @Override
    public void rollback() throws SQLException {
        checkOpen();
        if (session.autoCommit()) {
            throw new ReadsplitException(Reason.INVALID_TRANSACTION_STATE, ds.name() + ": cannot roll back when auto-commit is on");
        }
        Node node = session.transactionNode();
        if (node == null) {
            return;
        }
        try {
            physical(node).rollback();
        } catch (SQLException e) {
            funnel(node, e);
            throw e;
        } finally {
            routing.transactionLost();
            session.endTransaction();
        }
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        return transactionConnection().setSavepoint();
    }

    @Override
    public Savepoint setSavepoint(String name) throws SQLException {
        return transactionConnection().setSavepoint(name);
    }

    @Override
    public void rollback(Savepoint savepoint) throws SQLException {
        Connection c = txnPhysical(savepoint);
        try {
            c.rollback(savepoint);
        } catch (SQLException e) {
            funnel(session.transactionNode(), e);
            throw e;
        }
        routing.rolledBackToSavepoint();
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        Connection c = txnPhysical(savepoint);
        try {
            c.releaseSavepoint(savepoint);
        } catch (SQLException e) {
            funnel(session.transactionNode(), e);
            throw e;
        }
    }

    private Connection txnPhysical(Savepoint savepoint) throws SQLException {
        checkOpen();
        Node node = session.transactionNode();
        if (node == null) {
            throw new ReadsplitException(Reason.SAVEPOINT, ds.name() + ": no transaction is running, savepoint "
                    + savepoint + " is gone");
        }
        return physical(node);
    }

    /** A savepoint starts the transaction if no statement has yet: on the node its first statement would go to. */
    private Connection transactionConnection() throws SQLException {
        checkOpen();
        if (session.autoCommit()) {
            throw new ReadsplitException(Reason.INVALID_TRANSACTION_STATE, ds.name() + ": savepoints need auto-commit off");
        }
        if (!session.inTransaction()) {
            Decision d = route(null, null, Operation.TRANSACTION_START, Attempt.FIRST, null);
            Connection c = physical(d.node());
            beforeExecute(d, c);
            return c;
        }
        return physical(session.transactionNode());
    }

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        checkOpen();
        if (session.readOnly() == readOnly) {
            return;
        }
        if (session.inTransaction()) {
            throw new ReadsplitException(Reason.READ_ONLY_IN_TRANSACTION, ds.name()
                    + ": cannot change read-only in the middle of a transaction");
        }
        physicals.forEach((n, c) -> {
            if (physicals.needsReadOnlyFlag(n)) {
                c.setReadOnly(readOnly);
            }
        });
        session.readOnly(readOnly);
        settings.readOnly = readOnly;
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        checkOpen();
        return session.readOnly();
    }

    // ---------------------------------------------------------------------------------------------
    // objects made by a physical connection

    /** Metadata describes the database, which the primary holds authoritatively. */
    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        checkOpen();
        Node node = session.readOnly() ? anyHeldOrPrimary() : primary();
        try {
            return MetaData.wrap(physical(node).getMetaData(), this, node);
        } catch (SQLException e) {
            funnel(node, e);
            throw e;
        }
    }

    private Node anyHeldOrPrimary() {
        return physicals.size() > 0 ? physicals.nodeAt(0) : primary();
    }

    @Override
    public Clob createClob() throws SQLException {
        return physical(anyHeldOrPrimary()).createClob();
    }

    @Override
    public Blob createBlob() throws SQLException {
        return physical(anyHeldOrPrimary()).createBlob();
    }

    @Override
    public NClob createNClob() throws SQLException {
        return physical(anyHeldOrPrimary()).createNClob();
    }

    @Override
    public SQLXML createSQLXML() throws SQLException {
        return physical(anyHeldOrPrimary()).createSQLXML();
    }

    @Override
    public Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        checkOpen();
        return physical(anyHeldOrPrimary()).createArrayOf(typeName, elements);
    }

    @Override
    public Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        checkOpen();
        return physical(anyHeldOrPrimary()).createStruct(typeName, attributes);
    }

    // ---------------------------------------------------------------------------------------------
    // warnings, validity, close

    @Override
    public SQLWarning getWarnings() throws SQLException {
        checkOpen();
        SQLWarning first = null;
        for (int i = 0; i < physicals.size(); i++) {
            SQLWarning w;
            try {
                w = physicals.connectionAt(i).getWarnings();
            } catch (SQLException e) {
                funnel(physicals.nodeAt(i), e);
                throw e;
            }
            if (w != null) {
                if (first == null) {
                    first = w;
                } else {
                    first.setNextWarning(w);
                }
            }
        }
        return first;
    }

    @Override
    public void clearWarnings() throws SQLException {
        checkOpen();
        physicals.forEach((n, c) -> c.clearWarnings());
    }

    /** Valid when open and every physical connection it holds is valid (none held: the primary is reachable). */
    @Override
    public boolean isValid(int timeout) throws SQLException {
        if (timeout < 0) {
            throw new ReadsplitException(Reason.INVALID_ARGUMENT, ds.name() + ": timeout must not be negative: " + timeout);
        }
        if (closed) {
            return false;
        }
        if (physicals.size() == 0) {
            Node primary = primary();
            try {
                return physical(primary).isValid(timeout);
            } catch (SQLException e) {
                funnel(primary, e);
                throw e;
            }
        }
        for (int i = 0; i < physicals.size(); i++) {
            Node node = physicals.nodeAt(i);
            try {
                if (!physicals.connectionAt(i).isValid(timeout)) {
                    return false;
                }
            } catch (SQLException e) {
                funnel(node, e);
                throw e;
            }
        }
        return true;
    }

    @Override
    boolean closed() {
        return closed;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * Closes every statement, rolls back an unfinished transaction, clears session state that was set by
     * SQL (so the next borrower of a physical connection does not inherit it), and returns every physical
     * connection to its pool. The causal position stays readable ({@link #causalToken()}).
     */
    @Override
    public void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        if (DriverObjects.writesThroughUnwrap(session, primary())) {
            recordWrite(); // what the caller ran through the unwrapped connection since: fail closed
        }
        SQLException first = closeStatements();
        // a session that changed nothing pays nothing; one that changed anything, anywhere, resets every connection
        boolean reset = postgres && (session.pinned() || session.dirty() || settings.changedBySql());
        SQLException returning = physicals.closeAll(reset, session.serializableByDefault());
        first = first == null ? returning : first;
        session.endTransaction();
        if (first != null && !PhysicalConnections.isConnectionLevel(first)) {
            throw first;
        }
    }

    private SQLException closeStatements() {
        if (inFlight != null) {
            ds.hedger().unregister(inFlight);
        }
        SQLException first = null;
        if (statementCount > 0) {
            for (LogicalStatement s : Arrays.copyOf(statements, statementCount)) { // each close unregisters its own
                try {
                    s.close();
                } catch (SQLException e) {
                    first = first == null ? e : first;
                }
            }
            Arrays.fill(statements, 0, statementCount, null);
            statementCount = 0;
        }
        return first;
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        SQLException first = physicals.abortAll(executor);
        session.endTransaction();
        closeStatements(); // their physical connections are gone: failures say nothing new
        if (first != null) {
            throw first;
        }
    }

    @Override
    PhysicalConnections physicals() {
        return physicals;
    }

    @Override
    void checkOpen() throws SQLException {
        if (closed) {
            throw new ReadsplitException(Reason.CLOSED, ds.name() + ": connection is closed");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Wrapper

    /** The logical connection itself, or pgjdbc's own connection object, pinning this session ({@link DriverObjects}). */
    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        checkOpen();
        return DriverObjects.unwrap(this, iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return true;
        }
        checkOpen();
        return DriverObjects.isWrapperFor(this, iface);
    }

    @Override
    public String toString() {
        Node txn = session.transactionNode();
        return "ReadsplitConnection[" + ds.name() + ", nodes held=" + physicals.size()
                + (txn != null ? ", in transaction on " + txn.name() : "") + "]";
    }

    /** How a prepared statement is created on a physical connection. */
    @FunctionalInterface
    interface PhysicalFactory {
        Statement create(Connection c) throws SQLException;
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.Consistency;
import dev.readsplit.Role;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.sql.Classification;
import dev.readsplit.sql.Hint;
import dev.readsplit.sql.SessionEffect;
import dev.readsplit.topology.Node;
import dev.readsplit.topology.SqlStates;
import dev.readsplit.topology.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
import java.sql.SQLTransientConnectionException;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Struct;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The logical connection of design §2: routes each statement, holds at most one physical connection per
 * node (opened lazily from that node's pool), replays session state onto each, and returns them all on
 * {@link #close()}.
 *
 * <p>Concurrency: like any JDBC connection, one thread at a time. Nothing here is shared between logical
 * connections except through the data source (topology, caches, counters), which is thread-safe.
 */
final class LogicalConnection implements ReadsplitConnection {

    private static final Logger log = LoggerFactory.getLogger("dev.readsplit.route");
    private static final String CURRENT_LSN = "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint";
    private static final String REPLAY_LSN = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint";
    private static final String SYSTEM_ID = "SELECT system_identifier FROM pg_control_system()";

    private final ReadsplitDataSource ds;
    private final Role explicitRole;
    /** PostgreSQL (WAL positions, DISCARD ALL) rather than the generic JDBC dialect. */
    private final boolean postgres;

    // physical connections, at most one per node (a handful of nodes: arrays beat maps)
    private Node[] heldNodes = new Node[4];
    private Connection[] heldConns = new Connection[4];
    /** {@link Node#epoch()} when each held connection was borrowed: a changed epoch means drop it. */
    private int[] heldEpochs = new int[4];
    private int held;

    /** Open statements, and SET/RESET texts to replay on new physical connections: created on first use. */
    private List<LogicalStatement> statements;
    private List<String> sessionStatements;

    private boolean closed;
    private boolean autoCommit = true;
    private boolean readOnly;
    private int isolation = -1;
    private String schema;
    private String catalog;
    private int holdability = -1;
    private int networkTimeout = -1;
    private Executor networkTimeoutExecutor;
    private Map<String, Class<?>> typeMap;
    /** Created on first use: most connections never set client info. */
    private Properties clientInfo;

    /** This connection's own override (setConsistency), or null: then the thread's scope or the default. */
    private Consistency consistencyOverride;
    private boolean pinned;
    /** The node running the current transaction (JDBC or SQL BEGIN), or null. */
    private Node txnNode;
    /** A write has committed since the causal position was last taken. */
    private boolean writePending;
    private long tokenLsn = -1;
    private RouteDecision lastRoute;

    LogicalConnection(ReadsplitDataSource ds, Role explicitRole) {
        this.ds = ds;
        this.postgres = ds.topology().primary().isPostgres();
        this.explicitRole = explicitRole;
    }

    ReadsplitDataSource dataSource() {
        return ds;
    }

    // ---------------------------------------------------------------------------------------------
    // routing

    /**
     * Where a statement goes, applying design §2's rules in order. {@code exclude} is a node a retried
     * read already failed on.
     */
    RouteDecision route(Classification c, String sql, Node exclude, boolean batch) throws SQLException {
        checkOpen();
        RouteDecision d = decide(c, sql, exclude, batch);
        if (ds.failover().writeGate().paused() && d.node() == ds.topology().primary()) {
            // a switchover is moving the primary: hold the statement (bounded), then route it again
            ds.failover().writeGate().awaitOpen(ds.name());
            d = decide(c, sql, exclude, batch);
        }
        if (ds.shadowMode() && d.node() != ds.topology().primary()) {
            ds.countShadow(d.reason());
            d = RouteDecision.of(ds.topology().primary(), RouteReason.SHADOW);
        } else if (ds.shadowMode()) {
            ds.countShadow(d.reason());
        }
        ds.countRoute(d.reason());
        lastRoute = d;
        if (log.isDebugEnabled()) {
            log.debug("{}: {} -> {}", ds.name(), abbreviate(sql), d);
        }
        return d;
    }

    private RouteDecision decide(Classification c, String sql, Node exclude, boolean batch) throws SQLException {
        Topology topology = ds.topology();
        Node primary = topology.primary();
        if (explicitRole == Role.PRIMARY) {
            return RouteDecision.of(primary, RouteReason.EXPLICIT_ROLE);
        }
        if (ds.primaryScopeActive()) {
            return RouteDecision.of(primary, RouteReason.SCOPE);
        }
        if (txnNode != null) {
            // never split a transaction across nodes
            return RouteDecision.of(txnNode, readOnly ? RouteReason.READ_ONLY : RouteReason.IN_TRANSACTION);
        }
        if (isolation == Connection.TRANSACTION_SERIALIZABLE && explicitRole != Role.REPLICA && c.hint() != Hint.REPLICA) {
            // a hot standby refuses SERIALIZABLE ("cannot use serializable mode in a hot standby")
            return RouteDecision.of(primary, RouteReason.SERIALIZABLE);
        }
        if (readOnly || explicitRole == Role.REPLICA) {
            return replicaOrFallback(c, readOnly ? RouteReason.READ_ONLY : RouteReason.EXPLICIT_ROLE, exclude);
        }
        if (!autoCommit) {
            return RouteDecision.of(primary, RouteReason.IN_TRANSACTION);
        }
        if (pinned) {
            return RouteDecision.of(primary, RouteReason.SESSION_PIN);
        }
        if (batch) {
            return RouteDecision.of(primary, RouteReason.WRITE);
        }
        Hint hint = c.hint();
        if (hint == Hint.PRIMARY) {
            return RouteDecision.of(primary, RouteReason.HINT);
        }
        if (hint == Hint.REPLICA && c.sessionEffect() != SessionEffect.BEGIN_TRANSACTION) {
            return replicaOrFallback(c, RouteReason.HINT, exclude);
        }
        if (!c.isRead()) {
            return RouteDecision.of(primary, switch (c.sessionEffect()) {
                case PIN_TO_PRIMARY -> RouteReason.SESSION_PIN;
                case SET_SESSION_STATE -> RouteReason.SESSION_STATE;
                case BEGIN_TRANSACTION, END_TRANSACTION -> RouteReason.IN_TRANSACTION;
                default -> RouteReason.WRITE;
            });
        }
        if (ds.misrouteMemory().contains(sql)) {
            return RouteDecision.of(primary, RouteReason.LEARNED_MISROUTE);
        }
        if (!c.userFunctions().isEmpty() && ds.volatility().anyVolatile(c.userFunctions())) {
            return RouteDecision.of(primary, RouteReason.VOLATILE_FUNCTION);
        }
        if (consistency().level() == Consistency.Level.STRONG) {
            return RouteDecision.of(primary, RouteReason.STRONG);
        }
        return replicaOrFallback(c, exclude == null ? RouteReason.READ : RouteReason.RETRY, exclude);
    }

    /** A replica under the consistency rules, or the primary with the reason no replica would do. */
    private RouteDecision replicaOrFallback(Classification c, RouteReason reason, Node exclude) throws SQLException {
        Consistency consistency = consistency();
        if (!postgres && consistency.level() == Consistency.Level.READ_YOUR_WRITES && (writePending || tokenLsn >= 0)) {
            // no WAL positions to compare outside PostgreSQL: after its first write a session reads the primary
            writePending = false;
            tokenLsn = Long.MAX_VALUE;
            return RouteDecision.of(ds.topology().primary(), RouteReason.TOKEN_NOT_REPLAYED);
        }
        long maxLag = stalenessBound(c, consistency);
        long minLsn = consistency.level() == Consistency.Level.READ_YOUR_WRITES ? requiredLsn() : -1;
        ReplicaSelector selector = ds.selector();
        List<Node> eligible = selector.eligible(maxLag, minLsn, exclude);
        if (eligible.isEmpty() && minLsn >= 0) {
            long waitStart = System.nanoTime();
            Node fresh = awaitReplay(maxLag, minLsn, exclude);
            ds.countConsistencyWait(System.nanoTime() - waitStart);
            if (fresh != null) {
                return RouteDecision.of(fresh, reason);
            }
            eligible = selector.eligible(maxLag, minLsn, exclude);
        }
        if (!eligible.isEmpty()) {
            return RouteDecision.of(selector.choose(eligible), reason);
        }
        ReplicaSelector.Shortfall why = selector.shortfall(maxLag, minLsn, exclude);
        if (!ds.config().fallbackToPrimary()) {
            throw new ReadsplitSqlException(ds.name() + ": no eligible replica for a read and fallback to the primary"
                    + " is off (" + describe(why, maxLag) + "; " + selector.describeReplicas() + ")",
                    ReadsplitSqlException.NO_ELIGIBLE_NODE);
        }
        return RouteDecision.of(ds.topology().primary(), switch (why) {
            case LAG -> RouteReason.LAG;
            case TOKEN -> RouteReason.TOKEN_NOT_REPLAYED;
            default -> exclude != null ? RouteReason.RETRY : RouteReason.NO_REPLICA_FALLBACK;
        });
    }

    private static String describe(ReplicaSelector.Shortfall why, long maxLag) {
        return switch (why) {
            case LAG -> "every healthy replica is behind the staleness bound of " + maxLag + " ms";
            case TOKEN -> "no healthy replica has replayed this session's writes yet";
            default -> "no replica is healthy";
        };
    }

    private long stalenessBound(Classification c, Consistency consistency) {
        long bound = c.maxLagMillis();
        if (consistency.level() == Consistency.Level.BOUNDED_STALENESS) {
            long level = consistency.maxStaleness().toMillis();
            bound = bound < 0 ? level : Math.min(bound, level);
        }
        return bound;
    }

    /**
     * The causal position reads must see, taken lazily: only when a read follows a write. It is
     * {@code pg_current_wal_insert_lsn()} on the primary, read after our commit returned. Our commit record
     * was inserted into WAL before the commit returned, and the insert position only moves forward, so this
     * position is at or past the end of our commit record, whatever {@code synchronous_commit} says. (The
     * write or flush position would not do: with {@code synchronous_commit=off} a commit returns before its
     * record is written, so they can still be before it.)
     */
    private long requiredLsn() throws SQLException {
        if (writePending) {
            Node primary = ds.topology().primary();
            Connection c = physical(primary);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(CURRENT_LSN)) {
                rs.next();
                tokenLsn = Math.max(tokenLsn, rs.getLong(1));
            } catch (SQLException e) {
                if (ds.topology().onTrafficError(primary, e)) {
                    discard(primary);
                }
                throw e;
            }
            writePending = false;
        }
        return tokenLsn;
    }

    /**
     * No replica is known to have replayed {@code minLsn}: ask the candidates themselves (the monitor's
     * positions may be a check old), and keep asking until {@code readYourWritesWait} has passed.
     */
    private Node awaitReplay(long maxLag, long minLsn, Node exclude) {
        long waitNanos = ds.config().readYourWritesWait().toNanos();
        long deadline = System.nanoTime() + waitNanos;
        long pause = TimeUnit.MILLISECONDS.toNanos(2);
        while (true) {
            List<Node> candidates = ds.selector().eligible(maxLag, -1, exclude);
            if (candidates.isEmpty()) {
                return null;
            }
            Node[] snapshot = candidates.toArray(new Node[0]);
            // probe the balancer's choice first: probing in configuration order refreshed (and so sent
            // waiting reads, and the reads after them, to) the first replica almost every time
            Node preferred = ds.selector().choose(candidates);
            for (int i = 1; i < snapshot.length; i++) {
                if (snapshot[i] == preferred) {
                    snapshot[i] = snapshot[0];
                    snapshot[0] = preferred;
                }
            }
            for (Node n : snapshot) {
                if (freshReplayLsn(n) >= minLsn) {
                    List<Node> ready = ds.selector().eligible(maxLag, minLsn, exclude);
                    return ready.isEmpty() ? n : ds.selector().choose(ready);
                }
            }
            if (System.nanoTime() + pause > deadline) {
                return null;
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    private long freshReplayLsn(Node n) {
        try {
            Connection c = physical(n);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(REPLAY_LSN)) {
                if (rs.next()) {
                    long lsn = rs.getLong(1);
                    if (!rs.wasNull()) {
                        n.observeReplayLsn(lsn);
                        return lsn;
                    }
                }
            }
        } catch (SQLException e) {
            if (ds.topology().onTrafficError(n, e)) {
                discard(n);
            }
        }
        return -1;
    }

    /** Called once a statement has run successfully on the decision's node. */
    void afterExecute(RouteDecision d, Classification c, String sql) throws SQLException {
        Node node = d.node();
        boolean onPrimary = node == ds.topology().primary();
        if (onPrimary) {
            ds.topology().trafficSucceeded(node); // proof of health: a SUSPECT primary takes writes again at once
        }
        switch (c.sessionEffect()) {
            case BEGIN_TRANSACTION -> txnNode = node;
            case END_TRANSACTION -> {
                if (txnNode != null && txnNode == ds.topology().primary()) {
                    writePending = true;
                }
                txnNode = null;
            }
            case PIN_TO_PRIMARY -> {
                if (onPrimary) {
                    pinned = true;
                }
            }
            case SET_SESSION_STATE -> followSessionState(sql, node);
            default -> { }
        }
        if (onPrimary && txnNode == null && autoCommit && !c.isRead()) {
            writePending = true;
        }
    }

    /** A SET/RESET ran on one node: apply it to every other physical connection now, and to later ones on open. */
    private void followSessionState(String sql, Node ranOn) throws SQLException {
        if (sql == null || txnNode != null) {
            return; // inside a transaction a SET is transactional: it stays where the transaction is
        }
        if (sessionStatements == null) {
            sessionStatements = new ArrayList<>(2);
        }
        sessionStatements.add(sql);
        for (int i = 0; i < held; i++) {
            if (heldNodes[i] != ranOn) {
                try (Statement s = heldConns[i].createStatement()) {
                    s.execute(sql);
                }
            }
        }
    }

    /** The transaction rule: the first statement of a JDBC transaction starts it on the decision's node. */
    void beforeExecute(RouteDecision d, Connection physical) throws SQLException {
        if (!autoCommit && txnNode == null) {
            physical.setAutoCommit(false);
            txnNode = d.node();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // physical connections

    /** The physical connection to {@code node}, opened and given this session's state on first use. */
    Connection physical(Node node) throws SQLException {
        for (int i = 0; i < held; i++) {
            if (heldNodes[i] == node) {
                if (heldEpochs[i] == node.epoch()) {
                    return heldConns[i];
                }
                // the node changed role, was fenced or stopped being the primary since we borrowed this
                // connection: never reuse it; a transaction on it cannot continue anywhere else
                boolean inTransaction = txnNode == node;
                discard(node);
                if (inTransaction) {
                    throw new ReadsplitSqlException(ds.name() + ": the transaction on " + node.name()
                            + " cannot continue: the node changed role or was fenced (now " + node.role() + ", "
                            + node.state() + ")", "08007");
                }
                break;
            }
        }
        int epoch = node.epoch();
        Connection c;
        try {
            c = node.borrow();
        } catch (SQLException e) {
            if (!(e instanceof SQLTransientConnectionException && e.getCause() == null)) {
                // (a pool wait that ran out with no connection failure behind it is a busy pool, not a sick node:
                // it must not make the node SUSPECT and push its traffic onto the others)
                ds.topology().onTrafficError(node, e);
            }
            String message = ds.name() + ": cannot get a connection to " + node.name() + ": " + e.getMessage();
            String state = e.getSQLState() != null ? e.getSQLState() : "08001";
            if (e instanceof SQLTransientConnectionException) {
                // the pool's wait ran out (its message has the counts): keep the type callers catch to retry later
                throw new SQLTransientConnectionException(message, state, e);
            }
            throw new ReadsplitSqlException(message, state, e);
        }
        try {
            prepare(node, c);
        } catch (SQLException e) {
            closeQuietly(c);
            ds.topology().onTrafficError(node, e);
            throw e;
        }
        node.track(c);
        if (held == heldNodes.length) {
            heldNodes = java.util.Arrays.copyOf(heldNodes, held * 2);
            heldConns = java.util.Arrays.copyOf(heldConns, held * 2);
            heldEpochs = java.util.Arrays.copyOf(heldEpochs, held * 2);
        }
        heldNodes[held] = node;
        heldConns[held] = c;
        heldEpochs[held] = epoch;
        held++;
        return c;
    }

    private void prepare(Node node, Connection c) throws SQLException {
        if (readOnly && needsReadOnlyFlag(node)) {
            c.setReadOnly(true);
        }
        if (isolation >= 0) {
            c.setTransactionIsolation(isolation);
        }
        if (schema != null) {
            c.setSchema(schema);
        }
        if (catalog != null) {
            c.setCatalog(catalog);
        }
        if (holdability >= 0) {
            c.setHoldability(holdability);
        }
        if (networkTimeout >= 0) {
            c.setNetworkTimeout(networkTimeoutExecutor, networkTimeout);
        }
        if (typeMap != null) {
            c.setTypeMap(typeMap);
        }
        if (clientInfo != null && !clientInfo.isEmpty()) {
            c.setClientInfo(clientInfo);
        }
        for (int i = 0, n = sessionStatements == null ? 0 : sessionStatements.size(); i < n; i++) {
            try (Statement s = c.createStatement()) {
                s.execute(sessionStatements.get(i));
            }
        }
    }

    /**
     * Whether a physical connection must carry the JDBC read-only flag itself. A PostgreSQL hot standby
     * refuses every write on its own (SQLSTATE 25006), so flagging its connections would only cost round
     * trips ({@code readOnlyMode=always} makes pgjdbc send a SET on each change, and HikariCP resets it on
     * return). The primary (read-only fallback) and non-PostgreSQL nodes need the flag.
     */
    private boolean needsReadOnlyFlag(Node node) {
        return !node.isPostgres() || node == ds.topology().primary() || node.role() != Role.REPLICA;
    }

    /** Drops a broken physical connection (its pool evicts it) and the statements opened on it. */
    void discard(Node node) {
        for (int i = 0; i < held; i++) {
            if (heldNodes[i] == node) {
                Connection c = heldConns[i];
                System.arraycopy(heldNodes, i + 1, heldNodes, i, held - i - 1);
                System.arraycopy(heldConns, i + 1, heldConns, i, held - i - 1);
                System.arraycopy(heldEpochs, i + 1, heldEpochs, i, held - i - 1);
                held--;
                heldNodes[held] = null;
                heldConns[held] = null;
                if (statements != null) {
                    for (LogicalStatement s : statements) {
                        s.forget(node);
                    }
                }
                if (txnNode == node) {
                    txnNode = null;
                }
                node.untrack(c);
                closeQuietly(c);
                return;
            }
        }
    }

    private Connection txnPhysical() throws SQLException {
        return txnNode == null ? null : physical(txnNode);
    }

    void register(LogicalStatement s) {
        if (statements == null) {
            statements = new ArrayList<>(2);
        }
        statements.add(s);
    }

    void unregister(LogicalStatement s) {
        if (statements != null) {
            statements.remove(s);
        }
    }

    Classification classify(String sql) {
        return ds.classify(sql);
    }

    boolean retryAllowed(RouteDecision d, Classification c) {
        return autoCommit && txnNode == null && !readOnly && explicitRole == null && c.isRead()
                && c.hint() != Hint.REPLICA
                && (d.reason() == RouteReason.READ || d.reason() == RouteReason.NO_REPLICA_FALLBACK);
    }

    boolean misrouteRecoverable(RouteDecision d, Classification c) {
        return autoCommit && txnNode == null && !readOnly && explicitRole == null
                && c.hint() != Hint.REPLICA && d.node() != ds.topology().primary()
                && (d.reason() == RouteReason.READ || d.reason() == RouteReason.RETRY);
    }

    Node primary() {
        return ds.topology().primary();
    }

    // ---------------------------------------------------------------------------------------------
    // ReadsplitConnection

    @Override
    public Consistency consistency() {
        return consistencyOverride != null ? consistencyOverride : ds.effectiveDefaultConsistency();
    }

    @Override
    public void setConsistency(Consistency consistency) {
        this.consistencyOverride = java.util.Objects.requireNonNull(consistency, "consistency");
    }

    @Override
    public CausalToken causalToken() throws SQLException {
        checkOpen();
        if (writePending) {
            requiredLsn();
        }
        if (tokenLsn < 0 || !postgres) {
            return null; // generic JDBC: no WAL position to hand out
        }
        return new CausalToken(systemIdentifier(), tokenLsn);
    }

    @Override
    public void observe(CausalToken token) throws SQLException {
        checkOpen();
        if (token == null) {
            return;
        }
        if (!postgres) {
            throw new ReadsplitSqlException(ds.name() + ": causal tokens need PostgreSQL WAL positions;"
                    + " this data source uses the generic JDBC dialect", "0A000");
        }
        long mine = systemIdentifier();
        if (token.systemIdentifier() != 0 && mine != 0 && token.systemIdentifier() != mine) {
            throw new ReadsplitSqlException(ds.name() + ": causal token " + token.export()
                    + " belongs to a different cluster (system identifier " + Long.toHexString(token.systemIdentifier())
                    + ", this cluster is " + Long.toHexString(mine) + ")", "22023");
        }
        tokenLsn = Math.max(tokenLsn, token.lsn());
    }

    /**
     * The cluster's identity for causal tokens, or 0 when the role may not read it: {@code pg_control_system()} needs
     * EXECUTE on it (a superuser, or {@code GRANT EXECUTE ON FUNCTION pg_control_system() TO <role>}); without it
     * tokens carry no identity and a token from another cluster is not recognised as such (one WARN, see
     * docs/failover.md, "Least privilege"). {@code -1} in the data source marks "not available" so it is asked once.
     */
    private long systemIdentifier() throws SQLException {
        long id = ds.systemIdentifier();
        if (id == 0) {
            Node primary = ds.topology().primary();
            // asked first, so a refused call never aborts a transaction the session has open on the primary
            boolean allowed;
            try (Statement s = physical(primary).createStatement();
                 ResultSet rs = s.executeQuery("SELECT has_function_privilege('pg_control_system()', 'EXECUTE')")) {
                allowed = rs.next() && rs.getBoolean(1);
            }
            if (allowed) {
                try (Statement s = physical(primary).createStatement(); ResultSet rs = s.executeQuery(SYSTEM_ID)) {
                    rs.next();
                    id = rs.getLong(1);
                    ds.systemIdentifier(id);
                }
            } else {
                ds.systemIdentifier(-1);
                org.slf4j.LoggerFactory.getLogger(LogicalConnection.class).warn("{}: causal tokens carry no cluster"
                        + " identity: the role {} may not call pg_control_system(); GRANT EXECUTE ON FUNCTION"
                        + " pg_control_system() TO {} lets a token from another cluster be refused (docs/failover.md,"
                        + " \"Least privilege\")", ds.name(), primary.config().user(), primary.config().user());
                return 0;
            }
        }
        return Math.max(0, id);
    }

    @Override
    public RouteDecision lastRoute() {
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
        return prepare(sql, PhysicalFactory.plain(sql));
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
            throw new ReadsplitSqlException(ds.name() + ": SQL must not be null", "42601");
        }
        return new LogicalPreparedStatement(this, sql, factory);
    }

    /** Stored procedures may write: they always run on the primary (within the transaction rule). */
    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        return callable(c -> c.prepareCall(sql));
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency) throws SQLException {
        return callable(c -> c.prepareCall(sql, resultSetType, resultSetConcurrency));
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency, int resultSetHoldability) throws SQLException {
        return callable(c -> c.prepareCall(sql, resultSetType, resultSetConcurrency, resultSetHoldability));
    }

    private CallableStatement callable(PhysicalFactory factory) throws SQLException {
        checkOpen();
        Node target = readOnly || explicitRole == Role.REPLICA ? null : primary();
        RouteDecision d;
        if (txnNode != null) {
            d = RouteDecision.of(txnNode, RouteReason.IN_TRANSACTION);
        } else if (target == null) {
            d = replicaOrFallback(ds.classify("SELECT 1"), RouteReason.READ_ONLY, null);
        } else {
            d = RouteDecision.of(target, autoCommit ? RouteReason.WRITE : RouteReason.IN_TRANSACTION);
        }
        ds.countRoute(d.reason());
        lastRoute = d;
        Connection c = physical(d.node());
        beforeExecute(d, c);
        if (d.node() == primary() && autoCommit) {
            writePending = true;
        }
        CallableStatement physical = (CallableStatement) factory.create(c);
        return CallableStatements.wrap(physical, this);
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
        if (this.autoCommit == autoCommit) {
            return;
        }
        if (autoCommit && txnNode != null) {
            // JDBC: switching auto-commit on commits the running transaction
            commit();
        }
        this.autoCommit = autoCommit;
        if (autoCommit) {
            for (int i = 0; i < held; i++) {
                heldConns[i].setAutoCommit(true);
            }
        }
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        checkOpen();
        return autoCommit;
    }

    @Override
    public void commit() throws SQLException {
        checkOpen();
        if (autoCommit) {
            throw new ReadsplitSqlException(ds.name() + ": cannot commit when auto-commit is on", "25000");
        }
        Node node = txnNode;
        if (node == null) {
            return; // nothing ran in this transaction
        }
        Connection c = physical(node);
        try {
            c.commit();
        } catch (SQLException e) {
            if (ds.topology().onTrafficError(node, e)) {
                discard(node);
            }
            txnNode = null;
            throw e;
        }
        if (node == primary()) {
            writePending = true;
        }
        txnNode = null;
    }

    @Override
    public void rollback() throws SQLException {
        checkOpen();
        if (autoCommit) {
            throw new ReadsplitSqlException(ds.name() + ": cannot roll back when auto-commit is on", "25000");
        }
        Node node = txnNode;
        if (node == null) {
            return;
        }
        try {
            physical(node).rollback();
        } catch (SQLException e) {
            if (ds.topology().onTrafficError(node, e)) {
                discard(node);
            }
            throw e;
        } finally {
            txnNode = null;
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
        Connection c = txnPhysical();
        if (c == null) {
            throw new ReadsplitSqlException(ds.name() + ": no transaction is running, savepoint " + savepoint + " is gone", "3B001");
        }
        c.rollback(savepoint);
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        Connection c = txnPhysical();
        if (c == null) {
            throw new ReadsplitSqlException(ds.name() + ": no transaction is running, savepoint " + savepoint + " is gone", "3B001");
        }
        c.releaseSavepoint(savepoint);
    }

    /** A savepoint starts the transaction if no statement has yet: on the node a statement would go to. */
    private Connection transactionConnection() throws SQLException {
        checkOpen();
        if (autoCommit) {
            throw new ReadsplitSqlException(ds.name() + ": savepoints need auto-commit off", "25000");
        }
        if (txnNode == null) {
            RouteDecision d = route(ds.classify(readOnly ? "SELECT 1" : "SAVEPOINT s"), null, null, false);
            Connection c = physical(d.node());
            beforeExecute(d, c);
            return c;
        }
        return physical(txnNode);
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        checkOpen();
        for (int i = 0; i < held; i++) {
            heldConns[i].setTransactionIsolation(level);
        }
        this.isolation = level;
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        checkOpen();
        if (isolation >= 0) {
            return isolation;
        }
        return held > 0 ? heldConns[0].getTransactionIsolation() : Connection.TRANSACTION_READ_COMMITTED;
    }

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        checkOpen();
        if (this.readOnly == readOnly) {
            return;
        }
        if (txnNode != null) {
            throw new ReadsplitSqlException(ds.name() + ": cannot change read-only in the middle of a transaction", "25001");
        }
        for (int i = 0; i < held; i++) {
            if (needsReadOnlyFlag(heldNodes[i])) {
                heldConns[i].setReadOnly(readOnly);
            }
        }
        this.readOnly = readOnly;
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        checkOpen();
        return readOnly;
    }

    // ---------------------------------------------------------------------------------------------
    // session properties applied to every physical connection

    @Override
    public void setSchema(String schema) throws SQLException {
        checkOpen();
        for (int i = 0; i < held; i++) {
            heldConns[i].setSchema(schema);
        }
        this.schema = schema;
    }

    @Override
    public String getSchema() throws SQLException {
        checkOpen();
        if (held > 0) {
            return heldConns[0].getSchema();
        }
        return schema != null ? schema : physical(primary()).getSchema();
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        checkOpen();
        for (int i = 0; i < held; i++) {
            heldConns[i].setCatalog(catalog);
        }
        this.catalog = catalog;
    }

    @Override
    public String getCatalog() throws SQLException {
        checkOpen();
        return held > 0 ? heldConns[0].getCatalog() : physical(primary()).getCatalog();
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        checkOpen();
        for (int i = 0; i < held; i++) {
            heldConns[i].setHoldability(holdability);
        }
        this.holdability = holdability;
    }

    @Override
    public int getHoldability() throws SQLException {
        checkOpen();
        return holdability >= 0 ? holdability : ResultSet.HOLD_CURSORS_OVER_COMMIT;
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        checkOpen();
        for (int i = 0; i < held; i++) {
            heldConns[i].setNetworkTimeout(executor, milliseconds);
        }
        this.networkTimeout = milliseconds;
        this.networkTimeoutExecutor = executor;
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        checkOpen();
        return Math.max(0, networkTimeout);
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        checkOpen();
        return typeMap != null ? typeMap : new java.util.HashMap<>();
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        checkOpen();
        for (int i = 0; i < held; i++) {
            heldConns[i].setTypeMap(map);
        }
        this.typeMap = map;
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        if (closed) {
            throw new SQLClientInfoException(ds.name() + ": connection is closed", "08003", null);
        }
        for (int i = 0; i < held; i++) {
            heldConns[i].setClientInfo(name, value);
        }
        if (value == null) {
            if (clientInfo != null) {
                clientInfo.remove(name);
            }
        } else {
            if (clientInfo == null) {
                clientInfo = new Properties();
            }
            clientInfo.setProperty(name, value);
        }
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        if (closed) {
            throw new SQLClientInfoException(ds.name() + ": connection is closed", "08003", null);
        }
        for (int i = 0; i < held; i++) {
            heldConns[i].setClientInfo(properties);
        }
        clientInfo = new Properties();
        clientInfo.putAll(properties);
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        checkOpen();
        return clientInfo == null ? null : clientInfo.getProperty(name);
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        checkOpen();
        Properties p = new Properties();
        if (clientInfo != null) {
            p.putAll(clientInfo);
        }
        return p;
    }

    // ---------------------------------------------------------------------------------------------
    // objects made by a physical connection

    /** Metadata describes the database, which the primary holds authoritatively. */
    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        checkOpen();
        return MetaData.wrap(physical(readOnly ? anyHeldOrPrimary() : primary()).getMetaData(), this);
    }

    private Node anyHeldOrPrimary() {
        return held > 0 ? heldNodes[0] : primary();
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
        for (int i = 0; i < held; i++) {
            SQLWarning w = heldConns[i].getWarnings();
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
        for (int i = 0; i < held; i++) {
            heldConns[i].clearWarnings();
        }
    }

    /** Valid when open and every physical connection it holds is valid (none held: the primary is reachable). */
    @Override
    public boolean isValid(int timeout) throws SQLException {
        if (timeout < 0) {
            throw new ReadsplitSqlException(ds.name() + ": timeout must not be negative: " + timeout, "22023");
        }
        if (closed) {
            return false;
        }
        if (held == 0) {
            return physical(primary()).isValid(timeout);
        }
        for (int i = 0; i < held; i++) {
            if (!heldConns[i].isValid(timeout)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean isClosed() {
        return closed;
    }

    /**
     * Closes every statement, rolls back an unfinished transaction, clears session state that was set by
     * SQL (so the next borrower of a physical connection does not inherit it), and returns every physical
     * connection to its pool.
     */
    @Override
    public void close() throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        SQLException first = null;
        if (statements != null) {
            for (LogicalStatement s : new ArrayList<>(statements)) {
                try {
                    s.close();
                } catch (SQLException e) {
                    first = first == null ? e : first;
                }
            }
            statements.clear();
        }
        // setSchema changes search_path, which HikariCP resets only when its pool has a schema configured
        boolean resetSession = postgres && (pinned || sessionStatements != null || schema != null);
        for (int i = 0; i < held; i++) {
            Connection c = heldConns[i];
            try {
                if (!c.getAutoCommit()) {
                    c.rollback();
                    c.setAutoCommit(true);
                }
                if (resetSession) {
                    try (Statement s = c.createStatement()) {
                        s.execute("DISCARD ALL");
                    }
                }
            } catch (SQLException e) {
                ds.topology().onTrafficError(heldNodes[i], e);
                first = first == null ? e : first;
            } finally {
                heldNodes[i].untrack(c);
                closeQuietly(c);
                heldConns[i] = null;
                heldNodes[i] = null;
            }
        }
        held = 0;
        txnNode = null;
        if (first != null && !SqlStates.isConnectionLevel(first)) {
            throw first;
        }
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        if (closed) {
            return;
        }
        closed = true;
        SQLException first = null;
        for (int i = 0; i < held; i++) {
            try {
                heldConns[i].abort(executor);
            } catch (SQLException e) {
                first = first == null ? e : first;
            } finally {
                // an aborted connection is never closed through the pool: evict it, or it stays borrowed forever
                heldNodes[i].untrack(heldConns[i]);
                heldNodes[i].pool().evictConnection(heldConns[i]);
                heldConns[i] = null;
                heldNodes[i] = null;
            }
        }
        held = 0;
        txnNode = null;
        if (statements != null) {
            for (LogicalStatement s : new ArrayList<>(statements)) {
                try {
                    s.close();
                } catch (SQLException ignored) {
                    // its physical connection is gone
                }
            }
            statements.clear();
        }
        if (first != null) {
            throw first;
        }
    }

    void checkOpen() throws SQLException {
        if (closed) {
            throw new ReadsplitSqlException(ds.name() + ": connection is closed", "08003");
        }
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // returning to the pool failed: the pool has already dropped it
        }
    }

    static String abbreviate(String sql) {
        if (sql == null) {
            return "null";
        }
        String s = sql.length() > 120 ? sql.substring(0, 117) + "..." : sql;
        return s.replace('\n', ' ');
    }

    // ---------------------------------------------------------------------------------------------
    // Wrapper

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new ReadsplitSqlException(ds.name() + ": a logical connection is not a wrapper for " + iface.getName()
                + " (it spans several physical connections)", "0A000");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public String toString() {
        return "ReadsplitConnection[" + ds.name() + ", nodes held=" + held + (txnNode != null ? ", in transaction on " + txnNode.name() : "") + "]";
    }

    /** How a prepared statement is created on a physical connection. */
    @FunctionalInterface
    interface PhysicalFactory {
        Statement create(Connection c) throws SQLException;

        static PhysicalFactory plain(String sql) {
            return c -> c.prepareStatement(sql);
        }
    }
}

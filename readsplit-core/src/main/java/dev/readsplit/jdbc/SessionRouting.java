package dev.readsplit.jdbc;

import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitException.Reason;
import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.routing.Attempt;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Operation;
import dev.readsplit.routing.ReplayWait;
import dev.readsplit.routing.Router;
import dev.readsplit.routing.SessionState;
import dev.readsplit.sql.Classification;
import dev.readsplit.sql.SerializableRequest;
import dev.readsplit.sql.TransactionEnd;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.SqlStates;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The adapter between one logical connection and the data source's {@link Router}: it asks the router for each
 * execution's decision, meets the decision's requirements (the causal position, a replay wait, the write gate) and
 * applies a successful statement's effects to the session (transaction boundaries, pins, session state, and the
 * causal position, advanced from the decision's may-have-written flag, never from the classification).
 *
 * <p>Concurrency: one logical connection, one thread at a time; the causal position it shares with its scope is
 * thread-safe.
 */
final class SessionRouting {

    private static final Logger log = LoggerFactory.getLogger("dev.readsplit.route");

    private final ReadsplitDataSource ds;
    private final Router router;
    private final SessionState session;
    private final SessionSettings settings;
    private final LogicalConnection conn;
    private final boolean postgres;
    /** SET/RESET texts run inside the running transaction: session state if it commits, gone if it rolls back. */
    private List<String> pendingSessionStatements;
    /** A savepoint was rolled back to while SETs were pending: which of them survived is unknown. */
    private boolean pendingUncertain;
    /**
     * A statement of the running transaction failed: PostgreSQL aborted it, and its COMMIT is a ROLLBACK (until a
     * ROLLBACK TO SAVEPOINT, after which {@link #pendingUncertain} holds).
     */
    private boolean transactionAborted;

    /** Made at the first replay wait (most sessions never wait). */
    private ReplayWait.Probe replayProbe;

    SessionRouting(ReadsplitDataSource ds, SessionState session, SessionSettings settings, LogicalConnection conn) {
        this.ds = ds;
        this.router = ds.router();
        this.session = session;
        this.settings = settings;
        this.conn = conn;
        this.postgres = ds.cluster().primary().isPostgres();
    }

    /**
     * The primary's insert position: over the session's own connection to it if it holds one, else as
     * {@link PositionChannels} asks it (an idle pool connection, else the shared position connection).
     */
    private long insertLsn(Node primary, long notBefore, long maxWaitMillis) throws SQLException {
        PhysicalConnections held = conn.physicals();
        Connection own = held.heldTo(primary);
        if (own != null) {
            return WalPositions.currentInsertLsn(own);
        }
        return ds.positionChannels().insertLsn(primary, notBefore,
                () -> held.ask(primary, maxWaitMillis, WalPositions::currentInsertLsn));
    }

    /** A standby's replay position, over this session's connection to it or as {@link PositionChannels} asks it. */
    private long freshReplayLsn(Node n) {
        try {
            PhysicalConnections held = conn.physicals();
            Connection own = held.heldTo(n);
            if (own != null) {
                return WalPositions.replayLsn(own);
            }
            return ds.positionChannels().replayLsn(n, () -> held.ask(n, Long.MAX_VALUE, WalPositions::replayLsn));
        } catch (SQLException e) {
            conn.funnel(n, e);
            return -1;
        }
    }

    /** Where an execution goes: the router's decision once its requirements are met. */
    Decision route(Classification c, String sql, Operation op, Attempt attempt, Node exclude) throws SQLException {
        int waited = 0;
        while (true) {
            Decision d = router.route(session, c, sql, op, attempt, exclude, waited);
            switch (d.requirement()) {
                case NONE -> {
                    if (log.isDebugEnabled()) {
                        log.debug("{}: {} -> {}", ds.name(), abbreviate(sql), d);
                    }
                    return d;
                }
                case CAUSAL_POSITION -> {
                    resolveCausalPosition();
                    waited |= Router.RESOLVED_POSITION;
                }
                case REPLAY_WAIT -> {
                    long start = System.nanoTime();
                    if (replayProbe == null) {
                        replayProbe = this::freshReplayLsn;
                    }
                    ds.replayWait().await(d.maxLagMillis(), d.minLsn(), exclude, null, replayProbe);
                    router.counters().consistencyWait(System.nanoTime() - start);
                    waited |= Router.WAITED_REPLAY;
                }
                case WRITE_GATE -> {
                    // a switchover is moving the primary: hold the statement (bounded), then route it again
                    ds.failover().writeGate().awaitOpen(ds.name());
                    waited |= Router.WAITED_GATE;
                }
                case REFUSED -> throw new ReadsplitException(Reason.NO_ELIGIBLE_NODE, d.message());
            }
        }
    }

    /** The transaction rule: the first statement of a JDBC transaction starts it on the decision's node. */
    void beforeExecute(Decision d, Connection physical) throws SQLException {
        if (!session.autoCommit() && !session.inTransaction()) {
            physical.setAutoCommit(false);
            session.beginTransaction(d.node());
        }
    }

    /** A statement ran successfully on the decision's node: apply its effects to the session. */
    void afterExecute(Decision d, Classification c, String sql) throws SQLException {
        Node node = d.node();
        ds.cluster().trafficSucceeded(node); // proof of health: a SUSPECT primary takes writes again at once
        boolean transactionControl = c != null && c.reason() == dev.readsplit.sql.Reason.TRANSACTION_CONTROL;
        switch (c == null ? dev.readsplit.sql.SessionEffect.NONE : c.sessionEffect()) {
            case BEGIN_TRANSACTION -> session.beginTransaction(node);
            case END_TRANSACTION -> {
                // COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION: the transaction's writes (if any) are now final
                if (session.transactionMayHaveWritten()) {
                    recordWrite();
                }
                try {
                    transactionEnded(TransactionEnd.of(sql) == TransactionEnd.COMMIT);
                } finally {
                    session.endTransaction();
                }
                return;
            }
            case PIN_TO_PRIMARY -> {
                session.markDirty(); // wherever it ran (a read-only transaction's PREPARE on a replica too)
                if (node == ds.cluster().primary()) {
                    session.pin();
                }
            }
            case SET_SESSION_STATE -> followSessionState(sql, node);
            default -> {
                if (transactionControl && TransactionEnd.of(sql) == TransactionEnd.ROLLBACK_TO_SAVEPOINT) {
                    rolledBackToSavepoint();
                }
            }
        }
        if (transactionControl) {
            // COMMIT AND CHAIN, COMMIT PREPARED, SAVEPOINT...: the classifier cannot tell them apart, so fail closed:
            // a transaction that may have written may have committed now; outside one, COMMIT PREPARED publishes writes
            if (!session.inTransaction() ? d.mayHaveWritten() : session.transactionMayHaveWritten()) {
                recordWrite();
            }
            return;
        }
        afterWrite(d);
    }

    void afterWrite(Decision d) {
        if (!d.mayHaveWritten()) {
            return;
        }
        if (session.inTransaction()) {
            session.transactionWrote();
        } else {
            recordWrite();
        }
    }

    /**
     * Something that may have written committed: the scope's causal position must be taken again before a replica
     * serves its next read under read-your-writes. Also for adapters that ran SQL on a physical connection handed
     * out to the caller (unwrap).
     */
    void recordWrite() {
        CausalPosition p = session.causal();
        if (p == null) {
            p = new CausalPosition();
            session.causal(p);
        }
        p.recordWrite();
    }

    /** Takes the scope's causal position from the primary now (a read needs it). */
    private void resolveCausalPosition() throws SQLException {
        CausalPosition p = session.causal();
        long ticket = p.beginResolve();
        long notBefore = p.notBefore(); // after the ticket: see CausalPosition
        Node primary = ds.cluster().primary();
        long lsn;
        long until = 0;
        while (true) {
            try {
                // never over a connection the session keeps for it: the read this resolves for runs elsewhere, and
                // the primary's pool must not wait on it (see insertLsn)
                lsn = insertLsn(primary, notBefore, until == 0 ? Long.MAX_VALUE
                        : Math.max(1, (until - System.nanoTime()) / 1_000_000L));
                break;
            } catch (SQLException e) {
                conn.funnel(primary, e);
                // a read that must see the session's writes, and the primary (dead, or moving in a failover) cannot
                // say where they end: ask the primary again, the new one once the topology moved, for up to
                // connectionTimeout, as a read that got no connection is routed again (docs/routing.md)
                long now = System.nanoTime();
                if (until == 0) {
                    until = now + ds.config().pool().connectionTimeout().toNanos();
                }
                if (!SqlStates.isConnectionLevel(e) || now - until >= 0 || !StatementExecutor.pause(until)) {
                    throw e;
                }
                primary = ds.cluster().primary();
            }
        }
        if (lsn < 0) {
            throw new ReadsplitException(Reason.CAUSAL_POSITION_UNKNOWN, ds.name() + ": the primary " + primary.name()
                    + " reported no WAL insert position; the session's reads cannot be placed after its writes");
        }
        p.resolved(ticket, lsn);
    }

    /**
     * A SET/RESET ran on one node: apply it to every other physical connection now, and to later ones on open. Inside
     * a transaction it is PostgreSQL's rule: it becomes session state if the transaction commits and is undone if it
     * rolls back, so it waits for the end of the transaction ({@link #transactionEnded}).
     */
    private void followSessionState(String sql, Node ranOn) throws SQLException {
        session.markDirty();
        if (sql == null) {
            return;
        }
        if (session.inTransaction()) {
            if (pendingSessionStatements == null) {
                pendingSessionStatements = new ArrayList<>(2);
            }
            pendingSessionStatements.add(sql);
            return;
        }
        adopt(sql, ranOn);
    }

    /** {@code sql} is now session state: record it for connections opened later, run it on the others held now. */
    private void adopt(String sql, Node ranOn) throws SQLException {
        switch (SerializableRequest.of(sql)) {
            case SESSION_DEFAULT -> session.serializableByDefault(true);
            case SESSION_DEFAULT_CLEARED -> session.serializableByDefault(false);
            default -> { }
        }
        settings.recordSessionStatement(sql);
        List<Node> diverged = null;
        List<SQLException> why = null;
        PhysicalConnections held = conn.physicals();
        for (int i = 0; i < held.size(); i++) {
            Node node = held.nodeAt(i);
            if (node == ranOn) {
                continue;
            }
            try (Statement s = held.connectionAt(i).createStatement()) {
                s.execute(sql);
            } catch (SQLException e) {
                if (diverged == null) {
                    diverged = new ArrayList<>(1);
                    why = new ArrayList<>(1);
                }
                diverged.add(node);
                why.add(e);
            }
        }
        for (int i = 0; diverged != null && i < diverged.size(); i++) {
            // that connection now differs from the session: never keep or pool it as it is; one opened there later
            // gets the session state on open (and reports then what fails)
            if (!conn.funnel(diverged.get(i), why.get(i))) {
                held.evict(diverged.get(i));
            }
        }
    }

    /**
     * The running transaction ends (JDBC commit or rollback, SQL COMMIT/ROLLBACK...): its SETs become session state
     * if it committed, else they are dropped. If a savepoint was rolled back to meanwhile, which SETs survived is
     * unknown: the session stays on the transaction's node, which has exactly PostgreSQL's state, until it closes.
     * Call before the session leaves the transaction.
     */
    void transactionEnded(boolean committed) throws SQLException {
        List<String> pending = pendingSessionStatements;
        boolean uncertain = pendingUncertain;
        boolean aborted = transactionAborted;
        pendingSessionStatements = null;
        pendingUncertain = false;
        transactionAborted = false;
        if (pending == null || !committed || (aborted && !uncertain)) {
            return; // rolled back, or committed after an error: PostgreSQL rolls an aborted transaction back
        }
        Node ranOn = session.transactionNode();
        if (uncertain && ranOn != null) {
            session.pinTo(ranOn);
            return;
        }
        for (String sql : pending) {
            adopt(sql, ranOn);
        }
    }

    /** The transaction rolled back or was lost with its node: its SETs are undone. */
    void transactionLost() {
        pendingSessionStatements = null;
        pendingUncertain = false;
        transactionAborted = false;
    }

    /** A statement failed inside the running transaction: PostgreSQL has aborted it. */
    void statementFailed() {
        if (session.inTransaction()) {
            transactionAborted = true;
        }
    }

    /** A savepoint was rolled back to: the SETs made since it are undone, and which ones those are is not tracked. */
    void rolledBackToSavepoint() {
        if (pendingSessionStatements != null) {
            pendingUncertain = true;
        }
    }

    /**
     * The causal position of this connection's scope: {@code null} only when nothing in the scope wrote or imported
     * a token (or with the generic JDBC dialect, which has no WAL positions). Readable after {@code close()}.
     *
     * @throws SQLException if a write is pending and the primary cannot tell its position now
     */
    CausalToken causalToken(boolean closed) throws SQLException {
        CausalPosition p = session.causal();
        if (p == null || p.isEmpty() || !postgres) {
            return null;
        }
        if (p.pending()) {
            if (closed) {
                return ds.tokenOf(p);
            }
            resolveCausalPosition();
        }
        return new CausalToken(systemIdentifier(closed), p.lsn());
    }

    /**
     * Imports a token: later reads of this connection's scope under read-your-writes only go to replicas that have
     * replayed it. A missing token ({@code null}) is rejected as {@link CausalToken#parse(String)} rejects a missing
     * text: a caller with no token has nothing to import and must not call this (see {@code docs/consistency.md}).
     */
    void observe(CausalToken token) throws SQLException {
        if (token == null) {
            throw new IllegalArgumentException(CausalToken.MISSING);
        }
        ds.checkToken(token);
        session.observeCausal(token.lsn());
    }

    private long systemIdentifier(boolean closed) throws SQLException {
        return ds.systemIdentifier(closed ? null : conn);
    }

    private static String abbreviate(String sql) {
        if (sql == null) {
            return "null";
        }
        String s = sql.length() > 120 ? sql.substring(0, 117) + "..." : sql;
        return s.replace('\n', ' ');
    }
}

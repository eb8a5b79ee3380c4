package dev.readsplit.jdbc;

import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitException.Reason;
import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.routing.Attempt;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Operation;
import dev.readsplit.routing.Router;
import dev.readsplit.routing.SessionState;
import dev.readsplit.sql.Classification;
import dev.readsplit.topology.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

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

    SessionRouting(ReadsplitDataSource ds, SessionState session, SessionSettings settings, LogicalConnection conn) {
        this.ds = ds;
        this.router = ds.router();
        this.session = session;
        this.settings = settings;
        this.conn = conn;
        this.postgres = ds.topology().primary().isPostgres();
    }

    /** Where an execution goes: the router's decision once its requirements are met. */
    Decision route(Classification c, String sql, Operation op, Attempt attempt, Node exclude) throws SQLException {
        int waited = 0;
        while (true) {
            Decision d = router.route(session, c, sql, op, attempt, exclude, waited);
            switch (d.requirement()) {
                case NONE -> {
                    if (log.isDebugEnabled()) {
                        log.debug("{}: {} -> {}", ds.name(), LogicalConnection.abbreviate(sql), d);
                    }
                    return d;
                }
                case CAUSAL_POSITION -> {
                    resolveCausalPosition();
                    waited |= Router.RESOLVED_POSITION;
                }
                case REPLAY_WAIT -> {
                    long start = System.nanoTime();
                    ds.replayWait().await(d.maxLagMillis(), d.minLsn(), exclude, conn);
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
        ds.topology().trafficSucceeded(node); // proof of health: a SUSPECT primary takes writes again at once
        boolean transactionControl = c != null && c.reason() == dev.readsplit.sql.Reason.TRANSACTION_CONTROL;
        switch (c == null ? dev.readsplit.sql.SessionEffect.NONE : c.sessionEffect()) {
            case BEGIN_TRANSACTION -> session.beginTransaction(node);
            case END_TRANSACTION -> {
                // COMMIT, END, ROLLBACK, ABORT, PREPARE TRANSACTION: the transaction's writes (if any) are now final
                if (session.transactionMayHaveWritten()) {
                    recordWrite();
                }
                session.endTransaction();
                return;
            }
            case PIN_TO_PRIMARY -> {
                if (node == ds.topology().primary()) {
                    session.pin();
                }
            }
            case SET_SESSION_STATE -> followSessionState(sql, node);
            default -> { }
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
        Node primary = ds.topology().primary();
        long lsn;
        try {
            lsn = WalPositions.currentInsertLsn(conn.physical(primary));
        } catch (SQLException e) {
            conn.funnel(primary, e);
            throw e;
        }
        if (lsn < 0) {
            throw new ReadsplitException(Reason.CAUSAL_POSITION_UNKNOWN, ds.name() + ": the primary " + primary.name()
                    + " reported no WAL insert position; the session's reads cannot be placed after its writes");
        }
        p.resolved(ticket, lsn);
    }

    /** A SET/RESET ran on one node: apply it to every other physical connection now, and to later ones on open. */
    private void followSessionState(String sql, Node ranOn) throws SQLException {
        session.markDirty();
        if (sql == null || session.inTransaction()) {
            return; // inside a transaction a SET is transactional: it stays where the transaction is
        }
        settings.recordSessionStatement(sql);
        conn.physicalsForEach((node, c) -> {
            if (node != ranOn) {
                try (Statement s = c.createStatement()) {
                    s.execute(sql);
                }
            }
        });
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
        CausalPosition p = session.causal();
        if (p == null) {
            p = new CausalPosition();
            session.causal(p);
        }
        p.observe(token.lsn());
    }

    private long systemIdentifier(boolean closed) throws SQLException {
        return ds.systemIdentifier(closed ? null : conn);
    }

}

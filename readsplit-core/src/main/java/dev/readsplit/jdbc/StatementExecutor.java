package dev.readsplit.jdbc;

import dev.readsplit.routing.Attempt;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Operation;
import dev.readsplit.sql.Classification;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.SqlStates;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Runs one execution of a logical statement the way its decision says (design §2 rule 7): route, run on the decided
 * node's physical statement, and on failure let the {@link FailureFunnel} decide whether the node is at fault; then,
 * as the decision's {@link dev.readsplit.routing.RetryPolicy} allows, retry once on another node after a
 * connection-level failure (or a standby's recovery conflict), or re-run on the primary what a standby refused as
 * only a primary's to run (25006, 55000, 0A000: {@link SqlStates#isStandbyRefusal}). A read whose node gave no
 * connection had nothing sent: it is routed again (not its one retry) within {@code connectionTimeout} of the first
 * such failure, pausing while the router has nowhere else to send it. Every re-run is routed by
 * the router again, so {@code lastRoute()} names where the statement finally ran. The physical statement that ran
 * last is the statement's {@code current} one (results, update counts, keys, cancel).
 *
 * <p>Concurrency: stateless; one logical connection's thread at a time.
 */
final class StatementExecutor {

    @FunctionalInterface
    interface Execution<T> {
        T run(Statement physical) throws SQLException;
    }

    /** How long a read that got no connection waits before it is routed again, but the first time to another node. */
    private static final long REROUTE_PAUSE_MILLIS = 25;

    private StatementExecutor() {
    }

    static <T> T run(LogicalStatement st, String sql, Classification c, Operation op, Execution<T> exec)
            throws SQLException {
        LogicalConnection conn = st.conn;
        Decision d = conn.route(c, sql, op, Attempt.FIRST, null);
        boolean retried = false;
        boolean read = c != null && c.isRead();
        long rerouteUntil = 0; // set at the first failure to get a connection (System.nanoTime())
        int reroutes = 0;
        while (true) {
            Node node = d.node();
            Statement physical;
            Connection pc;
            try {
                pc = rerouteUntil == 0 ? conn.physical(node)
                        : conn.physical(node, Math.max(1, (rerouteUntil - System.nanoTime()) / 1_000_000L));
                conn.beforeExecute(d, pc);
                physical = st.physicalFor(node, pc);
            } catch (SQLException e) {
                if (!SqlStates.isConnectionLevel(e) || !d.retry().onConnectionFailure()) {
                    throw e; // a write that got no connection was not sent either, but it is never routed again
                }
                // the node gave no connection (DOWN, its pool's wait ran out, drained): nothing was sent, so this is
                // not the read's one retry; route it again without that node, for up to connectionTimeout from the
                // first such failure, pausing while the router has nowhere else (a primary fallback in a failover)
                long now = System.nanoTime();
                if (rerouteUntil == 0) {
                    rerouteUntil = now + conn.dataSource().config().pool().connectionTimeout().toNanos();
                    if (!retried) {
                        conn.dataSource().router().counters().retry();
                    }
                } else if (now - rerouteUntil >= 0) {
                    throw e;
                }
                Decision next = conn.route(c, sql, op, Attempt.RETRY, node);
                // the first time straight to another node; after that (or back to the same node) a pause first, so
                // nodes that all fail at once (DOWN, drained) are asked a few dozen times a second, not in a spin
                if ((reroutes++ > 0 || next.node() == node) && !pause(rerouteUntil)) {
                    throw e;
                }
                d = next;
                continue;
            }
            long start = System.nanoTime();
            int begun = node.beginStatement();
            InFlightRead slot = conn.inFlight;
            if (slot != null) {
                Hedger hedger = conn.dataSource().hedger();
                slot.begin(node, hedger.now(), read && hedgeable(st, c, op, d, conn), st, exec, c, sql, d, pc);
                hedger.executionBegan();
            }
            T result = null;
            SQLException failure = null;
            st.running(physical);
            try {
                result = exec.run(physical);
            } catch (SQLException e) {
                failure = e;
            } catch (RuntimeException | Error e) {
                if (slot != null && slot.end()) {
                    dropAnswer(slot);
                }
                node.endStatement(begun, System.nanoTime() - start, read);
                throw e;
            } finally {
                st.running(null);
            }
            node.endStatement(begun, System.nanoTime() - start, read);
            if (slot != null && slot.end()) {
                // a hedge answered first on another node (and aborted this statement's connection): its answer is
                // this execution's; this connection is evicted, never pooled again
                if (failure == null) {
                    closeQuietly(result);
                }
                return adoptHedge(st, conn, slot, node, c, sql);
            }
            if (failure != null) {
                SQLException e = failure;
                if (conn.funnel(node, e)) {
                    if (!retried && d.retry().onConnectionFailure()) {
                        retried = true;
                        conn.dataSource().router().counters().retry();
                        d = conn.route(c, sql, op, Attempt.RETRY, node);
                        continue;
                    }
                } else if (!retried && (SqlStates.isReadOnlyViolation(e) ? d.retry().onMisroute()
                        : SqlStates.isStandbyRefusal(e) && d.retry().onStandbyRefusal())) {
                    // the classifier said read, the standby said only a primary can run it (25006 read-only, 55000
                    // recovery in progress, 0A000 serializable): re-run it there; the router counts and learns it
                    retried = true;
                    d = conn.route(c, sql, op, Attempt.MISROUTE, node);
                    continue;
                } else if (!retried && SqlStates.isRecoveryConflict(e) && node != conn.primary()
                        && d.retry().onConnectionFailure()) {
                    // the standby cancelled it for a conflict with WAL replay: transient, run it elsewhere once
                    retried = true;
                    conn.dataSource().router().counters().retry();
                    d = conn.route(c, sql, op, Attempt.RETRY, node);
                    continue;
                }
                conn.countPossibleWrite(d);
                throw e;
            }
            st.ran(node, physical);
            conn.afterExecute(d, c, sql);
            return result;
        }
    }

    /**
     * Whether this execution may be hedged (docs/failover.md, "Hedged reads"): an autocommit read meant for a replica
     * that may run once more elsewhere (the decision's retry policy: not in a transaction, not pinned, not a write, no
     * session effect), running on a replica, with no parameter that can be read only once. Rows reach the caller only
     * after the execution returned, so a hedge never follows a row the caller has seen.
     */
    private static boolean hedgeable(LogicalStatement st, Classification c, Operation op, Decision d,
                                     LogicalConnection conn) {
        return op == Operation.STATEMENT && d.retry().onConnectionFailure() && d.node() != conn.primary()
                && c.sessionEffect() == dev.readsplit.sql.SessionEffect.NONE && st.replayable();
    }

    /** The hedge's answer becomes the execution's: its statement holds the results, on the connection it borrowed. */
    @SuppressWarnings("unchecked")
    private static <T> T adoptHedge(LogicalStatement st, LogicalConnection conn, InFlightRead slot, Node lost,
                                    Classification c, String sql) throws SQLException {
        InFlightRead.Answer a = slot.answer();
        slot.adopted();
        conn.physicals().evict(lost);
        st.ranHedge(a.node(), a.statement(), a.connection());
        conn.afterExecute(a.decision(), c, sql);
        return (T) a.result();
    }

    /** A hedge won while this execution failed in a way that is thrown as it is: its answer is dropped. */
    private static void dropAnswer(InFlightRead slot) {
        InFlightRead.Answer a = slot.answer();
        slot.adopted();
        closeQuietly(a.result());
        Hedger.release(a.node(), a.statement(), a.connection(), true);
    }

    private static void closeQuietly(Object o) {
        if (o instanceof AutoCloseable a) {
            try {
                a.close();
            } catch (Exception ignored) {
                // our own result, which lost to the hedge's
            }
        }
    }

    /**
     * Waits a moment before asking the same node again (the health checks, a rapid re-check or the topology source
     * may meanwhile move the primary or readmit a replica). False if the budget is spent or the thread interrupted.
     */
    static boolean pause(long untilNanos) {
        long left = untilNanos - System.nanoTime();
        if (left <= 0) {
            return false;
        }
        try {
            Thread.sleep(Math.max(1, Math.min(REROUTE_PAUSE_MILLIS, left / 1_000_000L)));
            return true;
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}

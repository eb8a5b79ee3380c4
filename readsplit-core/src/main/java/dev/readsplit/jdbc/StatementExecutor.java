package dev.readsplit.jdbc;

import dev.readsplit.routing.Attempt;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Operation;
import dev.readsplit.sql.Classification;
import dev.readsplit.topology.Node;
import dev.readsplit.topology.SqlStates;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Runs one execution of a logical statement the way its decision says (design §2 rule 7): route, run on the decided
 * node's physical statement, and on failure let the {@link FailureFunnel} decide whether the node is at fault; then,
 * as the decision's {@link dev.readsplit.routing.RetryPolicy} allows, retry once on another node after a
 * connection-level failure, or re-run on the primary what a replica refused with 25006. Every re-run is routed by
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

    private StatementExecutor() {
    }

    static <T> T run(LogicalStatement st, String sql, Classification c, Operation op, Execution<T> exec)
            throws SQLException {
        LogicalConnection conn = st.conn;
        Decision d = conn.route(c, sql, op, Attempt.FIRST, null);
        boolean retried = false;
        boolean read = c != null && c.isRead();
        while (true) {
            Node node = d.node();
            Statement physical;
            try {
                Connection pc = conn.physical(node);
                conn.beforeExecute(d, pc);
                physical = st.physicalFor(node, pc);
            } catch (SQLException e) {
                if (!retried && SqlStates.isConnectionLevel(e) && d.retry().onConnectionFailure()) {
                    retried = true;
                    conn.dataSource().router().counters().retry();
                    d = conn.route(c, sql, op, Attempt.RETRY, node);
                    continue;
                }
                throw e;
            }
            long start = System.nanoTime();
            node.beginStatement();
            T result;
            try {
                result = exec.run(physical);
            } catch (SQLException e) {
                node.endStatement(System.nanoTime() - start, read);
                if (conn.funnel(node, e)) {
                    if (!retried && d.retry().onConnectionFailure()) {
                        retried = true;
                        conn.dataSource().router().counters().retry();
                        d = conn.route(c, sql, op, Attempt.RETRY, node);
                        continue;
                    }
                } else if (SqlStates.isReadOnlyViolation(e) && !retried && d.retry().onMisroute()) {
                    retried = true;
                    d = conn.route(c, sql, op, Attempt.MISROUTE, node);
                    continue;
                }
                conn.countPossibleWrite(d);
                throw e;
            }
            st.ran(node, physical);
            node.endStatement(System.nanoTime() - start, read);
            conn.afterExecute(d, c, sql);
            return result;
        }
    }
}

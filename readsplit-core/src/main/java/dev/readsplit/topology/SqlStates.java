package dev.readsplit.topology;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;

/** What an SQLSTATE says about who is at fault: the node (connection-level) or the statement. */
public final class SqlStates {

    /** A hot standby refusing a write: the statement was misrouted. */
    public static final String READ_ONLY_TRANSACTION = "25006";

    private SqlStates() {
    }

    /**
     * Connection-level: class 08 (connection exception), 57P01-57P03 (admin/crash shutdown, cannot
     * connect now), 53300 (too many connections), 58030 (I/O error), and the JDBC connection exception
     * types. Such a failure says the node is unwell, not that the statement was wrong.
     */
    public static boolean isConnectionLevel(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                String state = s.getSQLState();
                if (state != null && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02")
                        || state.equals("57P03") || state.equals("53300") || state.equals("58030"))) {
                    return true;
                }
                if (s instanceof SQLNonTransientConnectionException || s instanceof SQLTransientConnectionException
                        || s instanceof SQLRecoverableException) {
                    return true;
                }
            }
            if (t instanceof java.io.IOException) {
                return true;
            }
        }
        return false;
    }

    /**
     * A failure that says the server is gone rather than slow: the connection was refused
     * ({@link java.net.ConnectException}), the server is shutting down, crashed or not accepting connections yet
     * (57P01-57P03), or the connection was closed under the client (end of stream, reset). Never a timeout, never an
     * authentication or "too many connections" error (a storm, a password change): those say nothing definitive about
     * the server's life. Used to re-check the primary rapidly (docs/failover.md, "Detection").
     */
    public static boolean isDefinitiveLoss(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.SocketTimeoutException || t instanceof java.sql.SQLTimeoutException) {
                return false;
            }
            if (t instanceof java.net.ConnectException || t instanceof java.io.EOFException
                    || (t instanceof java.net.SocketException se && se.getMessage() != null
                    && (se.getMessage().contains("reset") || se.getMessage().contains("Broken pipe")))) {
                return true;
            }
            if (t instanceof SQLException s) {
                String state = s.getSQLState();
                if ("57P01".equals(state) || "57P02".equals(state) || "57P03".equals(state)) {
                    return true;
                }
            }
        }
        return false;
    }

    public static boolean isReadOnlyViolation(SQLException e) {
        return READ_ONLY_TRANSACTION.equals(e.getSQLState());
    }

    /** "recovery is in progress": a function only a primary can run ({@code pg_walfile_name_offset}, WAL control). */
    public static final String RECOVERY_IN_PROGRESS = "55000";
    /** "cannot use serializable mode in a hot standby", "cannot set transaction read-write mode during recovery". */
    public static final String NOT_ON_A_STANDBY = "0A000";

    /**
     * What a hot standby answers for a statement only a primary can run, found in PostgreSQL's sources where it checks
     * {@code RecoveryInProgress()} or hot standby: {@code 25006} (read-only transaction, and
     * {@code PreventCommandDuringRecovery}'s "cannot execute %s during recovery"), {@code 55000} (object not in
     * prerequisite state: "recovery is in progress" from WAL and BRIN control functions, {@code pg_walfile_name[_offset]},
     * {@code pg_log_standby_snapshot}), {@code 0A000} (feature not supported: serializable isolation, read-write
     * mode). From a standby these mean "run it on the primary", not "the statement is wrong". (55000 and 0A000 have
     * other meanings on a primary; callers ask only about a standby's answer.)
     */
    public static boolean isStandbyRefusal(SQLException e) {
        String state = e.getSQLState();
        return READ_ONLY_TRANSACTION.equals(state) || RECOVERY_IN_PROGRESS.equals(state) || NOT_ON_A_STANDBY.equals(state);
    }

    /**
     * A standby cancelled the statement because it conflicted with WAL replay ("canceling statement due to conflict
     * with recovery": {@code 40001}, or {@code 40P01} for a buffer-pin deadlock with recovery). On a standby, whose
     * transactions are read-only and never serializable, 40001 has no other cause. Transient: the statement may run
     * elsewhere, and nothing is learned.
     */
    public static boolean isRecoveryConflict(SQLException e) {
        String state = e.getSQLState();
        return "40001".equals(state) || "40P01".equals(state);
    }

    /** A short description for logs: SQLSTATE and message, never a connection string. */
    public static String describe(SQLException e) {
        String text = (e.getSQLState() != null ? "[" + e.getSQLState() + "] " : "") + e.getMessage();
        if ("08P01".equals(e.getSQLState())) {
            // pgjdbc's words for a server that answered the startup with something else (an HTTP server, say) are
            // about SSL or the protocol; say what it most likely is
            text += " (protocol violation: the server does not speak the PostgreSQL protocol; is it a PostgreSQL server?)";
        }
        return text;
    }
}

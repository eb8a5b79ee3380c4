package dev.readsplit;

import java.sql.SQLException;
import java.util.Objects;

/**
 * What a JDBC call of Readsplit throws when Readsplit itself refuses or fails it. The message names the data source
 * and the rule that applied; {@link #reason()} says the same for programs, and {@link #getSQLState()} carries the
 * SQLSTATE a JDBC caller expects for it (most reasons have a fixed one; {@link Reason#NODE_UNAVAILABLE} keeps the
 * driver's own when there is one). {@link Reason} is the one list of reasons of every {@link ReadsplitFailure}: this
 * exception, the configuration's and failover's.
 *
 * <p>Messages never contain a password or a URL with credentials.
 */
public final class ReadsplitException extends SQLException implements ReadsplitFailure {

    private static final long serialVersionUID = 1L;

    /** SQLSTATE for "no node can serve this": connection exception class. */
    public static final String NO_ELIGIBLE_NODE = "08001";

    /** Why Readsplit refused or failed a call. */
    public enum Reason {
        /** No node may serve the statement and fallback to the primary is off (see {@code docs/routing.md}). */
        NO_ELIGIBLE_NODE(ReadsplitException.NO_ELIGIBLE_NODE),
        /** A physical connection to a node could not be had (the driver's SQLSTATE is kept). */
        NODE_UNAVAILABLE("08001"),
        /** The transaction's node changed role or was fenced: the transaction cannot continue anywhere. */
        TRANSACTION_LOST("08007"),
        /** The connection, statement or data source is closed. */
        CLOSED("08003"),
        /** A statement was closed or never executed ({@code HY010}: function sequence error). */
        SEQUENCE("HY010"),
        /** A transaction-control call in the wrong state (commit with auto-commit on...). */
        INVALID_TRANSACTION_STATE("25000"),
        /** Read-only cannot change inside a transaction. */
        READ_ONLY_IN_TRANSACTION("25001"),
        /** A savepoint of a transaction that is gone. */
        SAVEPOINT("3B001"),
        /** A bad argument (negative timeout, a causal token of another cluster...). */
        INVALID_ARGUMENT("22023"),
        /** A required argument was null. */
        NULL_ARGUMENT("22004"),
        /** The SQL text is missing. */
        SYNTAX("42601"),
        /** A JDBC method that cannot apply here (SQL-taking methods on a prepared statement). */
        WRONG_METHOD("42000"),
        /** Something a logical connection cannot do (spanning several physical connections), or a dialect lacks. */
        NOT_SUPPORTED("0A000"),
        /** The causal position could not be computed: reads cannot be guaranteed to see the session's writes. */
        CAUSAL_POSITION_UNKNOWN("08006"),
        /**
         * The configuration is invalid: a bad key, value, node, URL or file ({@code ConfigException}, whose
         * {@code problems()} name every key; SQLSTATE class F0, configuration file error).
         */
        INVALID_CONFIG("F0000"),
        /**
         * A failover, switchover or rejoin step failed or timed out; what was left as it was is in the message and
         * {@code FailoverException.step()} names the step.
         */
        FAILOVER_FAILED("55000"),
        /** Another failover or switchover of the data source is running ({@code 55006}: object in use). */
        FAILOVER_IN_PROGRESS("55006");

        private final String sqlState;

        Reason(String sqlState) {
            this.sqlState = sqlState;
        }

        /** The SQLSTATE this reason is reported with by default. */
        public String sqlState() {
            return sqlState;
        }
    }

    private final Reason reason;

    public ReadsplitException(Reason reason, String message) {
        this(reason, message, reason.sqlState(), null);
    }

    public ReadsplitException(Reason reason, String message, Throwable cause) {
        this(reason, message, reason.sqlState(), cause);
    }

    /** With an SQLSTATE other than the reason's default (a driver's own, kept for callers that test it). */
    public ReadsplitException(Reason reason, String message, String sqlState, Throwable cause) {
        super(message, sqlState == null ? reason.sqlState() : sqlState, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** What went wrong, for programs. */
    @Override
    public Reason reason() {
        return reason;
    }
}

package dev.readsplit.jdbc;

import java.sql.SQLException;

/** Readsplit's one exception type: the message names the data source and the rule that applied. */
public final class ReadsplitSqlException extends SQLException {

    private static final long serialVersionUID = 1L;

    /** SQLSTATE for "no node can serve this": connection exception class. */
    public static final String NO_ELIGIBLE_NODE = "08001";

    public ReadsplitSqlException(String message, String sqlState) {
        super(message, sqlState);
    }

    public ReadsplitSqlException(String message, String sqlState, Throwable cause) {
        super(message, sqlState, cause);
    }
}

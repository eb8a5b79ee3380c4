package dev.readsplit.jdbc;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The PostgreSQL WAL positions read-your-writes is built on, asked of a server over a physical connection.
 *
 * <p>A session's causal position is {@code pg_current_wal_insert_lsn()} on the primary, read after its commit
 * returned. Its commit record was inserted into WAL before the commit returned, and the insert position only moves
 * forward, so this position is at or past the end of the commit record, whatever {@code synchronous_commit} says.
 * (The write or flush position would not do: with {@code synchronous_commit=off} a commit returns before its
 * record is written, so they can still be before it.)
 */
final class WalPositions {

    private static final String CURRENT_LSN = "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint";
    private static final String REPLAY_LSN = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint";
    private static final String SYSTEM_ID = "SELECT system_identifier FROM pg_control_system()";

    private WalPositions() {
    }

    /** The primary's WAL insert position, as a byte position. */
    static long currentInsertLsn(Connection primary) throws SQLException {
        return single(primary, CURRENT_LSN);
    }

    /** The position a standby has replayed (from the server itself, now), or -1 when it reports none. */
    static long replayLsn(Connection standby) throws SQLException {
        return single(standby, REPLAY_LSN);
    }

    /**
     * The cluster's system identifier ({@code pg_control_system()}), shared by a primary and its standbys, or -1 when the
     * role may not call it (managed services and hardened setups revoke it from PUBLIC). The privilege is asked first,
     * so a refused call never aborts a transaction the session has open on that connection.
     */
    static long systemIdentifier(Connection any) throws SQLException {
        if (single(any, "SELECT CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE') THEN 1 ELSE 0 END") != 1) {
            return -1;
        }
        return single(any, SYSTEM_ID);
    }

    private static long single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            if (!rs.next()) {
                return -1;
            }
            long v = rs.getLong(1);
            return rs.wasNull() ? -1 : v;
        }
    }
}

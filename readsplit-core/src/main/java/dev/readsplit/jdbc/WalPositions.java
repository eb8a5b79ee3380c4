package dev.readsplit.jdbc;

import dev.readsplit.routing.WalPositionQueries;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The PostgreSQL WAL positions read-your-writes is built on ({@link WalPositionQueries}: which positions, and why),
 * asked of a server over a physical connection.
 */
final class WalPositions {

    private static final String SYSTEM_ID = "SELECT system_identifier FROM pg_control_system()";

    private WalPositions() {
    }

    /** The primary's WAL insert position, as a byte position. */
    static long currentInsertLsn(Connection primary) throws SQLException {
        return single(primary, WalPositionQueries.INSERT_POSITION);
    }

    /** The position a standby has replayed (from the server itself, now), or -1 when it reports none. */
    static long replayLsn(Connection standby) throws SQLException {
        return single(standby, WalPositionQueries.REPLAY_POSITION);
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

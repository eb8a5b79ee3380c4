package dev.readsplit.routing;

/**
 * The SQL with which read-your-writes asks a server for the WAL positions it compares, as byte positions (one
 * {@code bigint} column; NULL where the server has none). The JDBC path and the proxy send the same text.
 *
 * <p>A session's causal position is {@code pg_current_wal_insert_lsn()} on the primary, read after its commit
 * returned. Its commit record was inserted into WAL before the commit returned, and the insert position only moves
 * forward, so this position is at or past the end of the commit record, whatever {@code synchronous_commit} says.
 * (The write or flush position would not do: with {@code synchronous_commit=off} a commit returns before its record
 * is written, so they can still be before it.) A standby shows that commit once {@code pg_last_wal_replay_lsn()} is at
 * or past it (docs/consistency.md).
 */
public final class WalPositionQueries {

    /** The primary's WAL insert position (an error on a server in recovery). */
    public static final String INSERT_POSITION = "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint";

    /**
     * {@link #INSERT_POSITION} that cannot fail: NULL on a server in recovery. For a query sent after a client's own
     * statement, where an error would abort the transaction the client left open.
     */
    public static final String INSERT_POSITION_OR_NULL = "SELECT CASE WHEN pg_is_in_recovery() THEN NULL"
            + " ELSE pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint END";

    /** The position a standby has replayed (NULL on a primary that was never a standby). */
    public static final String REPLAY_POSITION = "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint";

    private WalPositionQueries() {
    }
}

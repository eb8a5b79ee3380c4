package dev.readsplit.failover;

import dev.readsplit.cluster.Node;

import java.sql.SQLException;
import java.time.Duration;

/**
 * What a failover does to the servers, each call bounded by its {@code timeout}. The JDBC implementation
 * ({@link JdbcClusterActions}) talks to PostgreSQL; unit tests substitute one that answers, fails or promotes
 * on demand, with no database.
 */
interface ClusterActions {

    /**
     * A node's replication state now.
     *
     * @param inRecovery  {@code pg_is_in_recovery()}
     * @param replayLsn   last replayed position (standby; -1 on a primary)
     * @param receiveLsn  last received and flushed position (standby; -1 on a primary or when not streaming)
     * @param currentLsn  {@code pg_current_wal_lsn()} (primary; -1 on a standby)
     * @param timeline    its timeline
     */
    record Status(boolean inRecovery, long replayLsn, long receiveLsn, long currentLsn, long timeline) {
        /** Where a standby will be once promoted: it replays everything it received first. */
        long promotionPosition() {
            return Math.max(replayLsn, receiveLsn);
        }
    }

    Status status(Node node, Duration timeout) throws SQLException;

    /**
     * Takes the cluster-wide promotion lock on {@code node} (a session advisory lock: works on a standby and
     * survives its promotion), so two instances electing the same node promote it once. Null when another
     * session holds it for the whole {@code timeout}. Closing the returned handle releases it.
     */
    AutoCloseable lockPromotion(Node node, Duration timeout) throws SQLException;

    /** {@code pg_promote(wait => true, wait_seconds => timeout)}; false when it did not finish in time. */
    boolean promote(Node node, Duration timeout) throws SQLException;

    /**
     * Points {@code standby} at {@code primary}: a physical slot for it on the primary, then
     * {@code primary_conninfo} and {@code primary_slot_name} by {@code ALTER SYSTEM} and a reload.
     */
    void repoint(Node standby, Node primary, Duration timeout) throws SQLException;

    /** Whether {@code standby}'s WAL receiver is streaming from {@code primary} ({@code pg_stat_wal_receiver}). */
    boolean streamingFrom(Node standby, Node primary, Duration timeout) throws SQLException;

    /** Sets (or resets) {@code default_transaction_read_only} on a primary being switched over, and reloads. */
    void readOnly(Node node, boolean on, Duration timeout) throws SQLException;

    /**
     * The end of the WAL an old primary had when it stopped serving, asked when it answers again: after a crash its
     * end-of-recovery checkpoint starts exactly there ({@code pg_control_checkpoint().redo_lsn}, a checkpoint taken
     * since the server started); otherwise (a clean restart, or a server that never stopped) its
     * {@code pg_current_wal_lsn()}, which then also counts what it wrote since.
     *
     * @throws SQLException also when the node answers as a standby: rebuilt or rewound before it answered, its WAL
     *                      past the promotion point is gone (a base backup's checkpoint says nothing of it)
     */
    long endOfWal(Node node, Duration timeout) throws SQLException;
}

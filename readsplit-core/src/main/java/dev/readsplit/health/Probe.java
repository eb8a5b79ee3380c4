package dev.readsplit.health;

import dev.readsplit.topology.Node;

import java.sql.SQLException;

/**
 * What one health check asks a node. The JDBC implementation ({@link JdbcProbe}) talks to the server;
 * unit tests substitute one that answers, fails or hangs on demand, with no database.
 */
interface Probe {

    /**
     * What a check saw.
     *
     * @param replication whether the node reports replication facts (PostgreSQL); when false only
     *                    reachability was checked and the other fields are meaningless
     * @param inRecovery  {@code pg_is_in_recovery()}: a standby
     * @param lsn         the replay LSN of a standby, the current WAL LSN of a primary
     * @param timeline    the timeline the node is on
     * @param lagMillis   a standby's time lag (0 when it has replayed everything it received)
     */
    record Observation(boolean replication, boolean inRecovery, long lsn, long timeline, long lagMillis) {
        static Observation reachable() {
            return new Observation(false, false, -1, -1, -1);
        }

        static Observation primary(long lsn, long timeline) {
            return new Observation(true, false, lsn, timeline, 0);
        }

        static Observation standby(long replayLsn, long timeline, long lagMillis) {
            return new Observation(true, true, replayLsn, timeline, lagMillis);
        }
    }

    /** Checks {@code node} on the calling thread; may block up to the driver's own timeouts. */
    Observation check(Node node) throws SQLException;

    /** Drops the node's check connection (called from another thread when a check hangs, and on close). */
    void abort(Node node);
}

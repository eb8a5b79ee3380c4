package dev.readsplit.health;

import dev.readsplit.cluster.Node;

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
     * @param timeline    the timeline the node is on (a standby: its WAL receiver's, -1 when not visible)
     * @param lagMillis   a standby's time lag as it reports it (0 when it has replayed everything it received)
     * @param receiver    a standby's WAL receiver as {@code pg_stat_wal_receiver} shows it
     * @param connectNanos how long this check spent opening its connection (0 when it reused one): not part of
     *                    the node's response time
     */
    record Observation(boolean replication, boolean inRecovery, long lsn, long timeline, long lagMillis,
                       WalReceiver receiver, long connectNanos) {
        static Observation reachable() {
            return new Observation(false, false, -1, -1, -1, WalReceiver.NOT_REPORTED, 0);
        }

        static Observation primary(long lsn, long timeline) {
            return new Observation(true, false, lsn, timeline, 0, WalReceiver.NOT_REPORTED, 0);
        }

        static Observation standby(long replayLsn, long timeline, long lagMillis) {
            return standby(replayLsn, timeline, lagMillis, WalReceiver.NOT_REPORTED);
        }

        static Observation standby(long replayLsn, long timeline, long lagMillis, WalReceiver receiver) {
            return new Observation(true, true, replayLsn, timeline, lagMillis, receiver, 0);
        }

        /** This observation, from a check that first spent {@code nanos} opening its connection. */
        Observation afterConnecting(long nanos) {
            return nanos <= 0 ? this
                    : new Observation(replication, inRecovery, lsn, timeline, lagMillis, receiver, nanos);
        }
    }

    /**
     * A standby's WAL receiver. Its presence is visible to every role; its details (status, sender, timeline)
     * only to members of {@code pg_read_all_stats} (or {@code pg_monitor}, or a superuser): without them
     * {@code status} is null.
     *
     * @param reported   whether the probe asked at all (false: nothing is known, no judgement is made)
     * @param running    a WAL receiver process exists
     * @param status     {@code streaming}, {@code starting}, {@code waiting}..., or null when not visible
     * @param senderHost the host it receives from (as written in its {@code primary_conninfo}), or null
     * @param senderPort the port it receives from, or -1
     * @param timeline   the timeline it receives, or -1
     * @param receivedLsn {@code pg_last_wal_receive_lsn()}: the last WAL position received and flushed (kept after
     *                   the receiver stops), -1 when nothing was streamed since the standby started
     */
    record WalReceiver(boolean reported, boolean running, String status, String senderHost, int senderPort,
                       long timeline, long receivedLsn) {
        static final WalReceiver NOT_REPORTED = new WalReceiver(false, false, null, null, -1, -1, -1);

        static WalReceiver absent(long receivedLsn) {
            return new WalReceiver(true, false, null, null, -1, -1, receivedLsn);
        }

        static WalReceiver hidden(long receivedLsn) {
            return new WalReceiver(true, true, null, null, -1, -1, receivedLsn);
        }

        static WalReceiver of(String status, String senderHost, int senderPort, long timeline, long receivedLsn) {
            return new WalReceiver(true, true, status, senderHost, senderPort, timeline, receivedLsn);
        }

        /** Whether the details are visible (the role may read them). */
        boolean detailsVisible() {
            return running && status != null;
        }
    }

    /** Checks {@code node} on the calling thread; may block up to the driver's own timeouts. */
    Observation check(Node node) throws SQLException;

    /** Drops the node's check connection (called from another thread when a check hangs, and on close). */
    void abort(Node node);
}

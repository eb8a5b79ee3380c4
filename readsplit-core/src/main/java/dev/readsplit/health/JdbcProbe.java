package dev.readsplit.health;

import dev.readsplit.config.ConnectionProperties;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.cluster.Node;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The real check: one dedicated connection per node (not a pool's, so a full pool never blocks a check),
 * with connect, login and socket timeouts at twice {@code healthCheckTimeout} (the checker's watchdog
 * enforces the timeout itself), and one query.
 *
 * <p>Concurrency: {@link #check} runs on one worker per node at a time; {@link #abort} may run on another
 * thread while a check hangs: it removes the connection from the map and aborts it, which makes the
 * blocked read fail; the worker then finds no connection and opens a new one next time.
 */
final class JdbcProbe implements Probe {

    /**
     * Role, position, timeline, time lag and the WAL receiver in one round trip, with nothing a plain login role
     * may not call (no {@code pg_control_*} function: see docs/failover.md, "Least privilege").
     *
     * <p>Timeline: a primary's comes from the name of its current WAL file (it changes at promotion, at
     * once); a standby's is its WAL receiver's ({@code received_tli}), visible only to members of
     * {@code pg_read_all_stats}: -1 otherwise, or when no receiver runs.
     *
     * <p>Time lag: 0 when a standby has replayed everything it received (an idle, caught-up standby: the
     * age of its last replayed transaction grows forever and means nothing); otherwise the age of the last
     * replayed transaction. This is only what the standby knows: a standby that receives nothing (it follows
     * a dead or an old primary) has replayed all it received and reads 0. {@link LagTracker} therefore also
     * measures it against the current primary's positions.
     *
     * <p>WAL receiver: {@code pg_stat_wal_receiver} has a row while a receiver process runs (every role sees
     * the row; status, sender and timeline are null without {@code pg_read_all_stats}).
     */
    static final String CHECK = "SELECT pg_is_in_recovery(),"
            + " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, '0/0')::bigint,"
            + " CASE WHEN pg_is_in_recovery() THEN coalesce(w.tli, -1)"
            + "      ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END,"
            + " CASE WHEN NOT pg_is_in_recovery() THEN 0"
            + "      WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0"
            + "      ELSE greatest(0, coalesce((extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint, 0)) END,"
            + " w.n, w.status, w.sender_host, coalesce(w.sender_port, -1),"
            + " coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')::bigint, -1)"
            + " FROM (SELECT count(*) AS n, max(status) AS status, max(sender_host) AS sender_host,"
            + "       max(sender_port) AS sender_port, max(received_tli)::bigint AS tli FROM pg_stat_wal_receiver) w";

    private final ReadsplitConfig config;
    private final Map<Node, Connection> connections = new ConcurrentHashMap<>();

    JdbcProbe(ReadsplitConfig config) {
        this.config = config;
    }

    @Override
    public Observation check(Node node) throws SQLException {
        long connectNanos = 0;
        Connection c = connections.get(node);
        if (c == null) {
            long start = System.nanoTime();
            c = connection(node);
            connectNanos = System.nanoTime() - start;
        }
        return observe(node, c).afterConnecting(connectNanos);
    }

    private Observation observe(Node node, Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            if (!node.isPostgres()) {
                s.setQueryTimeout((int) Math.max(1, config.health().timeout().toSeconds()));
                try (ResultSet rs = s.executeQuery("SELECT 1")) {
                    rs.next();
                }
                return Observation.reachable();
            }
            try (ResultSet rs = s.executeQuery(CHECK)) {
                rs.next();
                boolean inRecovery = rs.getBoolean(1);
                long lsn = rs.getLong(2);
                long timeline = rs.getLong(3);
                long lagMillis = rs.getLong(4);
                if (!inRecovery) {
                    return Observation.primary(lsn, timeline);
                }
                long received = rs.getLong(9);
                Probe.WalReceiver receiver;
                if (rs.getLong(5) == 0) {
                    receiver = Probe.WalReceiver.absent(received);
                } else if (rs.getString(6) == null) {
                    receiver = Probe.WalReceiver.hidden(received);
                } else {
                    receiver = Probe.WalReceiver.of(rs.getString(6), rs.getString(7), rs.getInt(8), timeline, received);
                }
                return Observation.standby(lsn, timeline, lagMillis, receiver);
            }
        }
    }

    private Connection connection(Node node) throws SQLException {
        Connection c = connections.get(node);
        if (c != null) {
            return c;
        }
        if (node.isPostgres()) {
            // the driver's own timeouts are a backstop; the checker's watchdog fails a check at healthCheckTimeout
            // and aborts the connection
            c = new org.postgresql.Driver().connect(node.config().jdbcUrl(),
                    ConnectionProperties.dedicated(config, node.config(), "health").build());
        } else {
            c = java.sql.DriverManager.getConnection(node.config().jdbcUrl(), ConnectionProperties.of(node.config()).build());
        }
        if (c == null) {
            throw new SQLException("the driver refused the URL of " + node.name(), "08001");
        }
        connections.put(node, c);
        return c;
    }

    @Override
    public void abort(Node node) {
        Connection c = connections.remove(node);
        if (c == null) {
            return;
        }
        try {
            // abort closes the socket without a goodbye: a hung server cannot block it
            c.abort(Runnable::run);
        } catch (SQLException | RuntimeException e) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }
}

package dev.readsplit.failover;

import dev.readsplit.config.ConnectionProperties;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Redactor;
import dev.readsplit.cluster.Node;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * {@link ClusterActions} over JDBC: one short-lived connection per action (not a pool's: a full pool must not
 * block a failover), with connect, login and socket timeouts just above the action's bound and a
 * {@code statement_timeout} at it. Needs a superuser, or a role granted {@code pg_promote},
 * {@code ALTER SYSTEM} on {@code primary_conninfo}/{@code primary_slot_name}/{@code default_transaction_read_only},
 * {@code pg_reload_conf} and {@code pg_create_physical_replication_slot}.
 *
 * <p>Passwords: the {@code primary_conninfo} given to a standby carries the configured password (that is what a
 * standby needs to connect); it is sent in the {@code ALTER SYSTEM} statement and stored by the standby in its
 * {@code postgresql.auto.conf}. It is never logged here, and error messages from those statements are passed on
 * with the password masked and without their cause.
 */
final class JdbcClusterActions implements ClusterActions {

    /** The promotion lock's advisory key ("rsfailov"). */
    static final long LOCK_KEY = 0x7273_6661_696c_6f76L;

    private static final String STATUS = "SELECT pg_is_in_recovery(),"
            + " CASE WHEN pg_is_in_recovery() THEN coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint, -1) ELSE -1 END,"
            + " CASE WHEN pg_is_in_recovery() THEN coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0')::bigint, -1) ELSE -1 END,"
            + " CASE WHEN pg_is_in_recovery() THEN -1 ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint END,"
            + " CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())"
            + "      ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END";

    private final ReadsplitConfig config;

    JdbcClusterActions(ReadsplitConfig config) {
        this.config = config;
    }

    private Connection connect(Node node, Duration timeout) throws SQLException {
        int seconds = (int) Math.max(1, (timeout.toMillis() + 1999) / 1000);
        Properties p = ConnectionProperties.of(node.config())
                .set("connectTimeout", Integer.toString(seconds))
                .set("loginTimeout", Integer.toString(seconds))
                .set("socketTimeout", Integer.toString(seconds + 1))
                .set("ApplicationName", config.name() + "-failover")
                .remove("readOnlyMode")
                .build();
        Connection c = new org.postgresql.Driver().connect(node.config().jdbcUrl(), p);
        if (c == null) {
            throw new SQLException("the driver refused the URL of " + node.name(), "08001");
        }
        try (Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = " + Math.max(1, timeout.toMillis()));
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    @Override
    public Status status(Node node, Duration timeout) throws SQLException {
        try (Connection c = connect(node, timeout); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(STATUS)) {
            rs.next();
            return new Status(rs.getBoolean(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5));
        }
    }

    @Override
    public AutoCloseable lockPromotion(Node node, Duration timeout) throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Connection c = connect(node, timeout);
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, LOCK_KEY);
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        return c::close; // closing the session releases the lock
                    }
                }
                if (System.nanoTime() > deadline) {
                    c.close();
                    return null;
                }
                Thread.sleep(50);
            }
        } catch (SQLException e) {
            c.close();
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            throw new SQLException("interrupted while waiting for the promotion lock on " + node.name(), "57014", e);
        }
    }

    @Override
    public boolean promote(Node node, Duration timeout) throws SQLException {
        int waitSeconds = (int) Math.max(1, timeout.toSeconds());
        try (Connection c = connect(node, timeout.plusSeconds(2)); Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = 0"); // pg_promote's own wait bounds it; the socket timeout is a backstop
            try (ResultSet rs = s.executeQuery("SELECT pg_promote(true, " + waitSeconds + ")")) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    @Override
    public void repoint(Node standby, Node primary, Duration timeout) throws SQLException {
        String host = primary.config().host();
        if (host == null) {
            throw new SQLException("cannot build primary_conninfo for " + primary.name()
                    + ": it is configured by JDBC URL, not host and port", "22023");
        }
        String slot;
        try (Connection c = connect(standby, timeout); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW primary_slot_name")) {
            rs.next();
            slot = rs.getString(1);
        }
        if (slot == null || slot.isBlank()) {
            slot = slotName(standby.name());
        }
        try (Connection c = connect(primary, timeout);
             PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)"
                     + " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
            ps.setString(1, slot);
            ps.setString(2, slot);
            ps.execute();
        }
        String conninfo = conninfo(primary);
        try (Connection c = connect(standby, timeout); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET primary_conninfo = " + literal(conninfo));
            s.execute("ALTER SYSTEM SET primary_slot_name = " + literal(slot));
            s.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw redacted(e, standby, primary);
        }
    }

    /**
     * {@code host port user [password] [sslmode]} of the configured primary node. No {@code application_name}:
     * the standby's walreceiver then uses its {@code cluster_name}, so {@code synchronous_standby_names} keeps
     * matching it.
     */
    String conninfo(Node primary) {
        return ConnectionProperties.libpqConninfo(primary.config());
    }

    @Override
    public boolean streamingFrom(Node standby, Node primary, Duration timeout) throws SQLException {
        try (Connection c = connect(standby, timeout); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver")) {
            if (!rs.next()) {
                return false;
            }
            return "streaming".equals(rs.getString(1)) && rs.getInt(3) == primary.config().port()
                    && sameHost(rs.getString(2), primary.config().host());
        }
    }

    @Override
    public void readOnly(Node node, boolean on, Duration timeout) throws SQLException {
        try (Connection c = connect(node, timeout); Statement s = c.createStatement()) {
            s.execute(on ? "ALTER SYSTEM SET default_transaction_read_only = on"
                    : "ALTER SYSTEM RESET default_transaction_read_only");
            s.execute("SELECT pg_reload_conf()");
        }
    }

    static String slotName(String nodeName) {
        StringBuilder sb = new StringBuilder("readsplit_");
        for (char ch : nodeName.toLowerCase(Locale.ROOT).toCharArray()) {
            sb.append((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ? ch : '_');
        }
        return sb.length() > 63 ? sb.substring(0, 63) : sb.toString();
    }

    private static boolean sameHost(String a, String b) {
        if (a == null || b == null) {
            return false;
        }
        if (a.equalsIgnoreCase(b)) {
            return true;
        }
        try {
            return InetAddress.getByName(a).equals(InetAddress.getByName(b));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private SQLException redacted(SQLException e, Node... nodes) {
        List<NodeConfig> configs = new ArrayList<>();
        for (Node n : nodes) {
            configs.add(n.config());
        }
        return new SQLException(Redactor.of(config).and(configs).redact(String.valueOf(e.getMessage())),
                e.getSQLState());
    }

    private static String literal(String v) {
        return "'" + v.replace("'", "''") + "'";
    }

    /** {@code checkpoint_time} has whole seconds: compared with the start time truncated to the second. */
    @Override
    public long endOfWal(Node node, Duration timeout) throws SQLException {
        try (Connection c = connect(node, timeout); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN NULL"
                     + " WHEN c.checkpoint_time >= date_trunc('second', pg_postmaster_start_time())"
                     + " THEN pg_wal_lsn_diff(c.redo_lsn, '0/0') ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0') END::bigint"
                     + " FROM pg_control_checkpoint() c")) {
            rs.next();
            if (rs.getBoolean(1)) {
                // rebuilt (or rewound) into a standby before it answered: its own WAL past the promotion point is gone,
                // and its checkpoint is the new primary's (a base backup's), not where its WAL ended
                throw new SQLException(node.name() + " answers as a standby (rebuilt or rewound): where its WAL ended as"
                        + " a primary can no longer be measured", "55000");
            }
            return rs.getLong(2);
        }
    }
}

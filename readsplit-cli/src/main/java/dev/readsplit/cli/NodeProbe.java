package dev.readsplit.cli;

import dev.readsplit.config.ConnectionProperties;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.Redactor;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * What one PostgreSQL node says about itself, read over a dedicated connection with connect, login and
 * socket timeouts (a hung node answers nothing: the timeouts end the wait). Never holds a password in any
 * field; error texts are scrubbed of it anyway.
 */
final class NodeProbe {

    /** One row of the primary's {@code pg_stat_replication}. */
    record Replication(String applicationName, String clientAddr, Integer clientPort, String state,
                       String syncState, Long replayLagBytes, Long replayLagMillis) {
    }

    /** The node's answers; {@code error} is set (and the rest null) when it could not be read. */
    record Result(NodeConfig node, String error, Double connectMillis, Double responseMillis,
                  Boolean inRecovery, Long systemIdentifier, String serverVersion, Long walLsn, Long lagMillis,
                  String receiverStatus, String senderHost, Integer senderPort, List<Replication> replication) {

        boolean reachable() {
            return error == null;
        }

        static Result unreachable(NodeConfig node, String error) {
            return new Result(node, error, null, null, null, null, null, null, null, null, null, null, List.of());
        }
    }

    private static final String SELF = "SELECT pg_is_in_recovery(), current_setting('server_version'),"
            + " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
            + "   ELSE pg_current_wal_lsn() END, '0/0')::bigint,"
            // the health checker's time lag: 0 when everything received has been replayed
            + " CASE WHEN NOT pg_is_in_recovery() THEN 0"
            + "      WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0"
            + "      ELSE coalesce((extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint, 0) END";

    private static final String REPLICATION = "SELECT application_name, host(client_addr), client_port, state,"
            + " sync_state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint,"
            + " (extract(epoch FROM replay_lag) * 1000)::bigint"
            + " FROM pg_stat_replication ORDER BY application_name, client_addr, client_port";

    private static final String RECEIVER = "SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver";

    private NodeProbe() {
    }

    static Result probe(NodeConfig node, Duration timeout) {
        int seconds = (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
        Properties p = ConnectionProperties.of(node)
                .set("connectTimeout", Integer.toString(seconds))
                .set("loginTimeout", Integer.toString(seconds))
                .set("socketTimeout", Integer.toString(seconds))
                .set("ApplicationName", "readsplit-check")
                .build();
        long t0 = System.nanoTime();
        try (Connection c = new org.postgresql.Driver().connect(node.jdbcUrl(), p)) {
            if (c == null) {
                return Result.unreachable(node, "pgjdbc does not accept the node's URL");
            }
            double connectMillis = millis(System.nanoTime() - t0);
            long t1 = System.nanoTime();
            boolean inRecovery;
            String version;
            long lsn;
            long lagMillis;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(SELF)) {
                rs.next();
                inRecovery = rs.getBoolean(1);
                version = rs.getString(2);
                lsn = rs.getLong(3);
                lagMillis = rs.getLong(4);
            }
            double responseMillis = millis(System.nanoTime() - t1);
            Long systemId = systemIdentifier(c);
            String status = null;
            String senderHost = null;
            Integer senderPort = null;
            List<Replication> rows = new ArrayList<>();
            if (inRecovery) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(RECEIVER)) {
                    if (rs.next()) {
                        status = rs.getString(1);
                        senderHost = rs.getString(2);
                        int port = rs.getInt(3);
                        senderPort = rs.wasNull() ? null : port;
                    }
                }
            } else {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(REPLICATION)) {
                    while (rs.next()) {
                        int port = rs.getInt(3);
                        Integer clientPort = rs.wasNull() ? null : port;
                        long bytes = rs.getLong(6);
                        Long lagBytes = rs.wasNull() ? null : bytes;
                        long ms = rs.getLong(7);
                        boolean noReplayLag = rs.wasNull();
                        rows.add(new Replication(rs.getString(1), rs.getString(2), clientPort, rs.getString(4),
                                rs.getString(5), lagBytes, replayLagMillis(noReplayLag, ms, lagBytes)));
                    }
                }
            }
            return new Result(node, null, connectMillis, responseMillis, inRecovery, systemId, version, lsn,
                    inRecovery ? lagMillis : null, status, senderHost, senderPort, rows);
        } catch (SQLException | RuntimeException e) {
            return Result.unreachable(node, scrub(node, describe(e)));
        }
    }

    /**
     * A standby's replay lag as the primary reports it: {@code replay_lag} when there is one; when it is NULL,
     * 0 if the standby has replayed everything (an idle, caught-up standby), otherwise unknown. (Written out:
     * {@code null ? ... : ms} with a primitive {@code ms} unboxes the null and throws, which made {@code check}
     * report the primary unreachable while a standby had just started streaming.)
     */
    static Long replayLagMillis(boolean replayLagIsNull, long replayLag, Long lagBytes) {
        if (!replayLagIsNull) {
            return replayLag;
        }
        return lagBytes != null && lagBytes == 0 ? Long.valueOf(0) : null;
    }



    private static Long systemIdentifier(Connection c) {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT system_identifier FROM pg_control_system()")) {
            return rs.next() ? rs.getLong(1) : null;
        } catch (SQLException e) {
            return null; // not allowed for this user: the cluster comparison is skipped
        }
    }

    private static String describe(Exception e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof SQLException se && se.getSQLState() != null) {
            m = m + " [SQLSTATE " + se.getSQLState() + "]";
        }
        return m.replace('\n', ' ');
    }

    /** Belt and braces: pgjdbc does not echo passwords, but no path may print one. */
    static String scrub(NodeConfig node, String text) {
        return Redactor.of(node).redact(text);
    }

    private static double millis(long nanos) {
        return nanos / 1_000_000.0;
    }
}

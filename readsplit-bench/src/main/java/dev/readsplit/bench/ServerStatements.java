package dev.readsplit.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What the servers ran, from their own statistics, snapshotted around a benchmark interval: every statement's calls
 * ({@code pg_stat_statements}, by query id, the workload's own and everything else: health checks, position questions,
 * session resets) and the database's sessions opened and transactions ended ({@code pg_stat_database}). Shows what a
 * setup sends beside the workload, per operation, without trusting the client's own account of it.
 *
 * @param nodes one snapshot per monitored node, in the monitors' order
 */
record ServerStatements(List<Node> nodes) {

    /** One node's counters at one moment. */
    record Node(Map<Long, Statement> statements, long sessions, long transactions) {
    }

    /** One statement's text (as pg_stat_statements normalised it) and calls so far. */
    record Statement(String query, long calls) {
    }

    /** Snapshots every node through its monitor connection. */
    static ServerStatements read(List<Connection> monitors) throws SQLException {
        List<Node> out = new ArrayList<>();
        for (Connection c : monitors) {
            Map<Long, Statement> statements = new HashMap<>();
            long sessions;
            long transactions;
            try (java.sql.Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT queryid, query, calls FROM pg_stat_statements"
                        + " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                        + " AND queryid IS NOT NULL")) {
                    while (rs.next()) {
                        statements.put(rs.getLong(1), new Statement(rs.getString(2), rs.getLong(3)));
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT sessions, xact_commit + xact_rollback FROM pg_stat_database"
                        + " WHERE datname = current_database()")) {
                    rs.next();
                    sessions = rs.getLong(1);
                    transactions = rs.getLong(2);
                }
            }
            out.add(new Node(statements, sessions, transactions));
        }
        return new ServerStatements(out);
    }

    /**
     * Per node, against the snapshot {@code before}: sessions opened and transactions per 1,000 operations, then the
     * {@code top} statements by calls per 1,000 operations (the monitor's own questions left out), one line each.
     */
    String since(ServerStatements before, long operations, int top, List<String> nodeNames) {
        StringBuilder sb = new StringBuilder();
        double per = operations == 0 ? 0 : 1000.0 / operations;
        for (int i = 0; i < nodes.size(); i++) {
            Node now = nodes.get(i);
            Node then = before.nodes.get(i);
            sb.append(String.format(Locale.ROOT, "      %s: %.2f sessions and %.0f transactions per 1,000 ops%n",
                    nodeNames.get(i), (now.sessions - then.sessions) * per, (now.transactions - then.transactions) * per));
            List<Map.Entry<Long, Long>> calls = new ArrayList<>();
            for (Map.Entry<Long, Statement> e : now.statements.entrySet()) {
                Statement old = then.statements.get(e.getKey());
                long delta = e.getValue().calls - (old == null ? 0 : old.calls);
                if (delta > 0 && !monitors(e.getValue().query)) {
                    calls.add(Map.entry(e.getKey(), delta));
                }
            }
            calls.sort(Map.Entry.<Long, Long>comparingByValue().reversed());
            for (Map.Entry<Long, Long> e : calls.subList(0, Math.min(top, calls.size()))) {
                sb.append(String.format(Locale.ROOT, "        %9.2f  %s%n", e.getValue() * per,
                        oneLine(now.statements.get(e.getKey()).query)));
            }
        }
        return sb.toString();
    }

    /** The benchmark's own monitor questions (this class's and MacroBenchmark's). */
    private static boolean monitors(String query) {
        return query.contains("pg_stat_statements") || query.contains("pg_stat_database")
                || query.contains("pg_stat_activity");
    }

    private static String oneLine(String query) {
        String s = query.replaceAll("\\s+", " ").trim();
        return s.length() <= 100 ? s : s.substring(0, 97) + "...";
    }
}

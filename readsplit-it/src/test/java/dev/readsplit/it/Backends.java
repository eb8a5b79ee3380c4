package dev.readsplit.it;

import dev.readsplit.embedded.EmbeddedNode;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Server-side fault injection for one statement: find the backend running a statement that carries a unique marker
 * (on any of the given nodes) and terminate it, as a crash of that node's session would look to the client
 * (SQLSTATE 57P01, the connection is closed). Polls {@code pg_stat_activity}; bounded in time.
 */
final class Backends {

    private Backends() {
    }

    /**
     * Terminates, once, the first backend found running a statement containing {@code marker}; completes with the port
     * of the node it ran on, or -1 if none was seen within {@code within}.
     */
    static CompletableFuture<Integer> terminateOnce(List<EmbeddedNode> nodes, String marker, Duration within) {
        return CompletableFuture.supplyAsync(() -> {
            long deadline = System.nanoTime() + within.toNanos();
            while (System.nanoTime() < deadline) {
                for (EmbeddedNode n : nodes) {
                    if (terminate(n, marker)) {
                        return n.port();
                    }
                }
                sleep();
            }
            return -1;
        });
    }

    /** Waits until a statement containing {@code marker} runs on one of the nodes; returns that node's port or -1. */
    static int awaitRunning(List<EmbeddedNode> nodes, String marker, Duration within) {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            for (EmbeddedNode n : nodes) {
                if (running(n, marker)) {
                    return n.port();
                }
            }
            sleep();
        }
        return -1;
    }

    static boolean terminate(EmbeddedNode node, String marker) {
        return query(node, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE state = 'active'"
                + " AND pid <> pg_backend_pid() AND query LIKE '%" + marker + "%' AND query NOT LIKE '%pg_stat_activity%'") > 0;
    }

    /** Terminates the session whose last statement carries {@code marker}, whatever its state (a suspended cursor is idle). */
    static boolean terminateSession(EmbeddedNode node, String marker) {
        return query(node, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
                + " AND query LIKE '%" + marker + "%' AND query NOT LIKE '%pg_stat_activity%'") > 0;
    }

    static boolean running(EmbeddedNode node, String marker) {
        return query(node, "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()"
                + " AND query LIKE '%" + marker + "%' AND query NOT LIKE '%pg_stat_activity%'") > 0;
    }

    private static long query(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return 0; // the node may be restarting; the caller polls again
        }
    }

    private static void sleep() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}

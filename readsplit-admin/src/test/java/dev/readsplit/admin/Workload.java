package dev.readsplit.admin;

import dev.readsplit.jdbc.ReadsplitDataSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A concurrent read/write workload through a data source, as a pooled application does it: one logical
 * connection per operation. Readers run autocommit reads; the writer inserts a row and reads it back (read
 * your writes). Every failure is kept.
 */
final class Workload implements AutoCloseable {

    final AtomicLong ok = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    Workload(ReadsplitDataSource ds, int readers) {
        for (int i = 0; i < readers; i++) {
            threads.add(new Thread(() -> loop(() -> read(ds)), "workload-reader-" + i));
        }
        threads.add(new Thread(() -> loop(() -> write(ds)), "workload-writer"));
        threads.forEach(Thread::start);
    }

    private interface Op {
        void run() throws SQLException;
    }

    private void loop(Op op) {
        while (running) {
            try {
                op.run();
                ok.incrementAndGet();
            } catch (SQLException | RuntimeException e) {
                failed.incrementAndGet();
                errors.add(e);
            }
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static void read(ReadsplitDataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM items")) {
            rs.next();
        }
    }

    private static void write(ReadsplitDataSource ds) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO items (v) VALUES ('x')");
            try (ResultSet rs = s.executeQuery("SELECT max(id) FROM items")) {
                rs.next();
            }
        }
    }

    @Override
    public void close() {
        running = false;
        for (Thread t : threads) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    String describeErrors() {
        StringBuilder sb = new StringBuilder();
        errors.stream().limit(5).forEach(e -> sb.append('\n').append(e));
        return sb.toString();
    }
}

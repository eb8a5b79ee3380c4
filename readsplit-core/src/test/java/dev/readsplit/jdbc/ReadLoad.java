package dev.readsplit.jdbc;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Reader threads for the fault tests: autocommit {@code SELECT inet_server_port()} through a data source, 50 per
 * logical connection, counted per port the server answered from (placement asked of the server). A failed
 * connection or read is recorded in {@link #errors} and the thread goes on.
 */
public final class ReadLoad implements AutoCloseable {

    /** Reads that failed (client-visible errors), in order. */
    public final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final Map<Integer, LongAdder> byPort = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final DataSource ds;

    public ReadLoad(DataSource ds, int threads, String name) {
        this.ds = ds;
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(this::run, name + "-" + i);
            t.setDaemon(true);
            this.threads.add(t);
            t.start();
        }
    }

    private void run() {
        while (running.get()) {
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT inet_server_port()")) {
                for (int i = 0; i < 50 && running.get(); i++) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        byPort.computeIfAbsent(rs.getInt(1), k -> new LongAdder()).increment();
                    }
                }
            } catch (SQLException e) {
                errors.add(e);
            }
        }
    }

    /** Reads the server on {@code port} has answered so far. */
    public long reads(int port) {
        LongAdder a = byPort.get(port);
        return a == null ? 0 : a.sum();
    }

    /** Reads answered so far, on every server. */
    public long total() {
        return byPort.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** Stops the readers and waits for them (each for at most 30 s); idempotent. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(30_000);
        }
    }
}

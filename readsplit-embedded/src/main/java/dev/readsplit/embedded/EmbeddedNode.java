package dev.readsplit.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * One PostgreSQL server of an {@link EmbeddedCluster}: its address, its files, and the fault controls
 * tests use on it (stop, kill, pause, resume, restart, promote, apply delay).
 *
 * <p>Concurrency: the control methods are {@code synchronized}, so a test thread and the cluster's
 * shutdown hook never signal the same server at once. Reading the address never blocks.
 */
public final class EmbeddedNode {

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

    private final EmbeddedCluster cluster;
    private final String name;
    private final int port;
    private final Path directory;
    private Process process;
    private boolean paused;

    EmbeddedNode(EmbeddedCluster cluster, String name, int port, Path directory) {
        this.cluster = cluster;
        this.name = name;
        this.port = port;
        this.directory = directory;
    }

    /** The node's name: {@code primary}, {@code standby1}, ... (the standby's {@code application_name}). */
    public String name() {
        return name;
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return port;
    }

    public String database() {
        return cluster.database();
    }

    /** {@code jdbc:postgresql://127.0.0.1:PORT/DATABASE}, with no credentials in it. */
    public String jdbcUrl() {
        return jdbcUrl(cluster.database());
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port + "/" + database;
    }

    public Path dataDirectory() {
        return directory.resolve("data");
    }

    public Path logFile() {
        return directory.resolve("server.log");
    }

    Path directory() {
        return directory;
    }

    /** The postmaster's process id, or -1 when the server is not running. */
    public synchronized long pid() {
        return process != null && process.isAlive() ? process.pid() : -1;
    }

    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    public synchronized boolean isPaused() {
        return paused;
    }

    /** The role the server reports right now ({@code pg_is_in_recovery()}). */
    public NodeRole role() {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            return rs.getBoolean(1) ? NodeRole.STANDBY : NodeRole.PRIMARY;
        } catch (SQLException e) {
            throw failure("cannot read the role", e);
        }
    }

    /** A new JDBC connection to this node's database with the cluster's credentials. */
    public Connection connect() throws SQLException {
        return connect(cluster.database());
    }

    public Connection connect(String database) throws SQLException {
        Properties props = cluster.credentials();
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "60");
        props.setProperty("ApplicationName", "readsplit-embedded-control");
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /** Starts a stopped or killed server and waits until it accepts connections. */
    public synchronized void start() {
        if (isRunning()) {
            return;
        }
        waitForOrphans();
        List<String> command = cluster.serverUser().command(List.of(
                cluster.binaries().bin("postgres").toString(), "-D", dataDirectory().toString()));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile().toFile()));
        pb.environment().put("LC_ALL", "C");
        try {
            process = pb.start();
        } catch (IOException e) {
            throw failure("cannot start postgres", e);
        }
        paused = false;
        awaitReady();
    }

    /** Fast shutdown (SIGINT): running transactions are rolled back, clients disconnected. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        if (paused) {
            resume();
        }
        signal("INT", List.of(process.pid()));
        if (!awaitExit(process, STOP_TIMEOUT)) {
            kill();
            return;
        }
        awaitChildrenGone(List.of());
        process = null;
    }

    /**
     * SIGKILL of the postmaster and every process it started: the node vanishes as if its host died.
     * Open connections see their sockets reset.
     */
    public synchronized void kill() {
        if (process == null) {
            return;
        }
        List<ProcessHandle> all = processTree();
        List<Long> pids = all.stream().map(ProcessHandle::pid).toList();
        signal("KILL", pids);
        awaitExit(process, STOP_TIMEOUT);
        awaitChildrenGone(all);
        process = null;
        paused = false;
    }

    /** SIGSTOP of the whole server: it stays up but answers nothing, like a hung host. */
    public synchronized void pause() {
        requireRunning("pause");
        if (paused) {
            return;
        }
        // the postmaster first, so that it forks no new backend; then its children, again until no new one appears
        // (a backend forked between listing the children and stopping the postmaster kept answering: HedgedReadsIT
        // saw thousands of reads served by a "paused" standby)
        java.util.Set<Long> stopped = new java.util.LinkedHashSet<>();
        stopped.add(process.pid());
        signal("STOP", new ArrayList<>(stopped));
        for (int round = 0; round < 20; round++) {
            List<Long> fresh = new ArrayList<>();
            process.descendants().forEach(p -> {
                if (stopped.add(p.pid())) {
                    fresh.add(p.pid());
                }
            });
            if (fresh.isEmpty()) {
                break;
            }
            signal("STOP", fresh);
        }
        paused = true;
    }

    /** SIGCONT after {@link #pause()}. */
    public synchronized void resume() {
        if (!paused || process == null) {
            return;
        }
        List<Long> pids = new ArrayList<>();
        process.descendants().forEach(p -> pids.add(p.pid()));
        pids.add(process.pid());
        signal("CONT", pids);
        paused = false;
    }

    /** Fast stop, then start. */
    public synchronized void restart() {
        stop();
        start();
    }

    /** Promotes a standby ({@code pg_promote(wait => true)}) and waits until it accepts writes. */
    public void promote() {
        try (Connection c = connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_promote(true, 60)")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw failure("pg_promote returned false", null);
            }
        } catch (SQLException e) {
            throw failure("promotion failed", e);
        }
    }

    /**
     * Sets {@code recovery_min_apply_delay} on this standby at run time (injected replication lag);
     * {@link Duration#ZERO} removes it.
     */
    public void setApplyDelay(Duration delay) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("apply delay cannot be negative: " + delay);
        }
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET recovery_min_apply_delay = '" + delay.toMillis() + "ms'");
            s.execute("SELECT pg_reload_conf()");
        } catch (SQLException e) {
            throw failure("cannot set recovery_min_apply_delay", e);
        }
    }

    /** The last {@code lines} lines of the server log (for failure messages). */
    public String logTail(int lines) {
        try {
            if (!Files.exists(logFile())) {
                return "(no server log)";
            }
            List<String> all = Files.readAllLines(logFile(), StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(server log unreadable: " + e.getMessage() + ")";
        }
    }

    EmbeddedClusterException failure(String what, Throwable cause) {
        return new EmbeddedClusterException(name + " (127.0.0.1:" + port + "): " + what
                + (cause != null ? ": " + cause.getMessage() : "")
                + "\n--- last lines of " + logFile() + " ---\n" + logTail(30), cause);
    }

    private void requireRunning(String action) {
        if (!isRunning()) {
            throw new EmbeddedClusterException(name + ": cannot " + action + " a node that is not running");
        }
    }

    private void awaitReady() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        SQLException last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw failure("postgres exited with code " + process.exitValue() + " during start-up", last);
            }
            try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
                s.execute("SELECT 1");
                return;
            } catch (SQLException e) {
                last = e;
            }
            sleep(50);
        }
        throw failure("not accepting connections after " + READY_TIMEOUT.toSeconds() + " s", last);
    }

    private List<ProcessHandle> processTree() {
        List<ProcessHandle> all = new ArrayList<>();
        all.add(process.toHandle());
        process.descendants().forEach(all::add);
        return all;
    }

    /**
     * After a SIGKILL the backends notice their postmaster's death and exit on their own, but a new
     * postmaster refuses to start while they still hold the shared memory: wait for them (and SIGKILL
     * any that linger).
     */
    private void awaitChildrenGone(List<ProcessHandle> known) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (ProcessHandle h : known) {
            while (h.isAlive() && System.nanoTime() < deadline) {
                sleep(10);
            }
            if (h.isAlive()) {
                signal("KILL", List.of(h.pid()));
            }
        }
    }

    /** A restart after {@link #kill()} must not race the dying backends of the previous server. */
    private void waitForOrphans() {
        Path pidFile = dataDirectory().resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        try {
            String first = Files.readAllLines(pidFile, StandardCharsets.UTF_8).get(0).trim();
            long old = Long.parseLong(first);
            ProcessHandle.of(old).ifPresent(h -> {
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (h.isAlive() && System.nanoTime() < deadline) {
                    sleep(10);
                }
            });
        } catch (IOException | RuntimeException ignored) {
            // unreadable pid file: postgres itself will say what is wrong
        }
    }

    private static boolean awaitExit(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static void signal(String signal, List<Long> pids) {
        if (pids.isEmpty()) {
            return;
        }
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(p -> command.add(Long.toString(p)));
        try {
            Process kill = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            kill.waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot send SIG" + signal, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddedClusterException("interrupted", e);
        }
    }

    @Override
    public String toString() {
        return name + "@127.0.0.1:" + port;
    }
}

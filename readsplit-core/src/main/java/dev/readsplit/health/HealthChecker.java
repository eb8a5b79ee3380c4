package dev.readsplit.health;

import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.Node;
import dev.readsplit.topology.SqlStates;
import dev.readsplit.topology.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Checks every node every {@code healthCheckInterval}: reachable within {@code healthCheckTimeout}, its
 * role ({@code pg_is_in_recovery()}), its WAL position, and for replicas their lag. Results go through
 * the {@link Topology}'s funnel, which owns the state machine.
 *
 * <p>Threads: one scheduler thread ({@code readsplit-health-<name>}) ticks; each node's check runs on a
 * worker from a small cached pool ({@code readsplit-check-<name>-N}), and a node whose previous check is
 * still running is skipped, so a hung node (SIGSTOP) never delays the checks of the others. Each check uses
 * its own dedicated connection (not a pool's) with connect and socket timeouts equal to the check timeout:
 * a hung server makes the read time out instead of blocking. {@link #close()} stops both executors.
 */
public final class HealthChecker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    private static final String CHECK = "SELECT pg_is_in_recovery(),"
            + " pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END, '0/0')::bigint,"
            + " CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())"
            + "      ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END,"
            // time lag: 0 when everything received has been replayed (an idle, caught-up replica),
            // otherwise the age of the last replayed transaction
            + " CASE WHEN NOT pg_is_in_recovery() THEN 0"
            + "      WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0"
            + "      ELSE coalesce((extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::bigint, 0) END";

    private final Topology topology;
    private final ReadsplitConfig config;
    private final Clock clock;
    private final ScheduledExecutorService scheduler;
    private final ExecutorService workers;
    private final Map<Node, AtomicBoolean> running = new ConcurrentHashMap<>();
    private final Map<Node, Connection> checkConnections = new ConcurrentHashMap<>();
    private final LagTracker lag;
    private volatile boolean closed;

    public HealthChecker(Topology topology, Clock clock) {
        this.topology = topology;
        this.config = topology.config();
        this.clock = clock;
        this.lag = new LagTracker(topology);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(named("readsplit-health-" + config.name()));
        this.workers = Executors.newCachedThreadPool(named("readsplit-check-" + config.name()));
        topology.urgentCheck(this::checkAllNow);
    }

    public void start() {
        long interval = config.healthCheckInterval().toMillis();
        scheduler.scheduleWithFixedDelay(this::checkAllNow, 0, interval, TimeUnit.MILLISECONDS);
    }

    /** Runs a check of every node whose previous check has finished (asynchronously). */
    public void checkAllNow() {
        if (closed) {
            return;
        }
        for (Node n : topology.nodes()) {
            AtomicBoolean busy = running.computeIfAbsent(n, k -> new AtomicBoolean());
            if (busy.compareAndSet(false, true)) {
                try {
                    workers.execute(() -> {
                        try {
                            check(n);
                        } finally {
                            busy.set(false);
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException shuttingDown) {
                    busy.set(false);
                    return;
                }
            }
        }
    }

    /** One check of one node, on the calling thread. */
    void check(Node node) {
        long start = System.nanoTime();
        if (!node.isPostgres()) {
            checkGeneric(node, start);
            return;
        }
        try {
            Connection c = connection(node);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(CHECK)) {
                rs.next();
                boolean inRecovery = rs.getBoolean(1);
                long lsn = rs.getLong(2);
                long timeline = rs.getLong(3);
                long lagMillis = rs.getLong(4);
                long elapsed = System.nanoTime() - start;
                Role role = inRecovery ? Role.REPLICA : Role.PRIMARY;
                topology.observeRole(node, role, timeline);
                if (inRecovery) {
                    node.observeReplayLsn(lsn);
                    lag.replicaObserved(node, lsn, lagMillis);
                } else {
                    lag.primaryObserved(node, lsn);
                }
                topology.checkSucceeded(node, elapsed, clock.millis());
            }
        } catch (SQLException e) {
            dropConnection(node);
            topology.checkFailed(node, SqlStates.describe(e), clock.millis());
        } catch (RuntimeException e) {
            dropConnection(node);
            log.warn("{}: health check of {} failed unexpectedly", config.name(), node.name(), e);
            topology.checkFailed(node, e.toString(), clock.millis());
        }
    }

    /** Databases without replication introspection: reachable and answering {@code SELECT 1}; role as configured. */
    private void checkGeneric(Node node, long start) {
        try {
            Connection c = connection(node);
            try (Statement s = c.createStatement()) {
                s.setQueryTimeout((int) Math.max(1, config.healthCheckTimeout().toSeconds()));
                try (ResultSet rs = s.executeQuery("SELECT 1")) {
                    rs.next();
                }
            }
            topology.checkSucceeded(node, System.nanoTime() - start, clock.millis());
        } catch (SQLException | RuntimeException e) {
            dropConnection(node);
            topology.checkFailed(node, e instanceof SQLException se ? SqlStates.describe(se) : e.toString(), clock.millis());
        }
    }

    private Connection connection(Node node) throws SQLException {
        Connection c = checkConnections.get(node);
        if (c != null) {
            return c;
        }
        Properties p = new Properties();
        node.config().jdbcProperties().forEach(p::setProperty);
        if (node.config().user() != null) {
            p.setProperty("user", node.config().user());
        }
        if (node.config().password() != null) {
            p.setProperty("password", node.config().password().reveal());
        }
        int timeoutSeconds = (int) Math.max(1, (config.healthCheckTimeout().toMillis() + 999) / 1000);
        p.setProperty("connectTimeout", Integer.toString(timeoutSeconds));
        p.setProperty("loginTimeout", Integer.toString(timeoutSeconds));
        p.setProperty("socketTimeout", Integer.toString(timeoutSeconds));
        p.setProperty("ApplicationName", config.name() + "-health");
        if (node.isPostgres()) {
            c = new org.postgresql.Driver().connect(node.config().jdbcUrl(), p);
        } else {
            p.remove("connectTimeout");
            p.remove("loginTimeout");
            p.remove("socketTimeout");
            p.remove("ApplicationName");
            c = java.sql.DriverManager.getConnection(node.config().jdbcUrl(), p);
        }
        if (c == null) {
            throw new SQLException("pgjdbc refused the URL of " + node.name(), "08001");
        }
        checkConnections.put(node, c);
        return c;
    }

    private void dropConnection(Node node) {
        Connection c = checkConnections.remove(node);
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        scheduler.shutdownNow();
        workers.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Node n : topology.nodes()) {
            dropConnection(n);
        }
        for (Node n : checkConnections.keySet()) {
            dropConnection(n); // nodes removed while their check was running
        }
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** Forgets a node removed from the topology: closes its check connection. */
    public void forget(Node node) {
        running.remove(node);
        dropConnection(node);
    }
}

package dev.readsplit.cluster;

import dev.readsplit.topology.LagLevel;
import dev.readsplit.topology.LagWindow;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.PoolStats;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import com.zaxxer.hikari.util.DriverDataSource;
import dev.readsplit.Role;
import dev.readsplit.balance.Candidate;
import dev.readsplit.config.ConnectionProperties;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;

import org.HdrHistogram.Histogram;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One database server behind a {@code ReadsplitDataSource}: its configuration, its own HikariCP pool,
 * and what Readsplit currently knows about it (observed role, health state, latency, replay position).
 * Internal: applications get its read-only {@link #view()}.
 *
 * <p>Concurrency: the observed fields are single-writer (the health/lag monitor thread, or the failure
 * funnel through {@link Topology}) and many-reader (routing threads), so they are plain
 * {@code volatile}s; counters are atomics. Routing reads them without locks and tolerates a value that
 * is one check old.
 */
public final class Node implements Candidate {

    private final NodeConfig config;
    /** {@link NodeConfig#isPostgres()}, asked on every statement: a prefix test of the URL, taken once. */
    private final boolean postgres;
    private final HikariDataSource pool;
    /** Running and ended statements, their durations: written by every statement, in per-thread stripes. */
    private final StatementStats statements = new StatementStats();
    private final AtomicLong replayLsn = new AtomicLong(-1);
    private volatile long walLsn = -1;
    private volatile long walLsnMillis;
    /** How long a borrower waits in one slice while the node is not UP (see {@link #borrowWhileUnhealthy}). */
    private static final long BORROW_SLICE_MILLIS = 200;
    private final long connectionTimeoutMillis;

    private volatile Role role;
    private volatile NodeState state = NodeState.UP;
    private volatile long lastCheckMillis;
    private volatile int consecutiveFailures;
    private volatile int consecutiveSuccesses;
    private volatile long suspectedAtMillis;
    private volatile long checkLatencyEwmaNanos;
    /** Bumped whenever physical connections opened earlier must not be reused (role change, fencing, DOWN). */
    private volatile int epoch;
    private volatile LagLevel lagLevel = LagLevel.NONE;
    private final LagWindow lagWindow = new LagWindow();
    private volatile String lastError;
    private volatile long timeline = -1;
    private volatile long lagBytes = -1;
    private volatile long lagMillis = -1;
    private volatile boolean lagExcluded;
    private final LongAdder checkFailures = new LongAdder();

    Node(ReadsplitConfig ds, NodeConfig config, Role configuredRole) {
        this.config = config;
        this.postgres = config.isPostgres();
        this.role = configuredRole;
        this.pool = new HikariDataSource(poolConfig(ds, config, configuredRole));
        this.connectionTimeoutMillis = Math.max(250, ds.pool().connectionTimeout().toMillis());
        this.replicaBorrowMillis = boundedWaitMillis(ds);
    }

    /** How long a replica's pool may take to hand out (and validate) a connection: the check timeout, 250 ms at least. */
    private final long replicaBorrowMillis;

    static long boundedWaitMillis(ReadsplitConfig ds) {
        return Math.max(250, Math.min(ds.pool().connectionTimeout().toMillis(), ds.health().timeout().toMillis()));
    }

    private static HikariConfig poolConfig(ReadsplitConfig ds, NodeConfig node, Role role) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(ds.name() + "-" + node.name());
        ConnectionProperties.Builder props = ConnectionProperties.of(node);
        hc.setMaximumPoolSize(ds.pool().maxPoolSize(node, role == Role.PRIMARY));
        hc.setMinimumIdle(ds.pool().minPoolSize(node, role == Role.PRIMARY));
        hc.setConnectionTimeout(Math.max(250, ds.pool().connectionTimeout().toMillis()));
        // HikariCP validates a connection idle for over 500 ms before handing it out, for up to validationTimeout
        // (default 5 s): on a hung (SIGSTOPped) server every borrower waited those 5 s, whatever socketTimeout says.
        // A check answers within healthCheckTimeout or the node is not well: the same bound for validation.
        hc.setValidationTimeout(boundedWaitMillis(ds));
        hc.setIdleTimeout(ds.pool().idleTimeout().toMillis());
        hc.setMaxLifetime(ds.pool().maxLifetime().toMillis());
        // Start even when the node is unreachable: the data source serves what it can (degraded start).
        hc.setInitializationFailTimeout(-1);
        if (node.isPostgres()) { // generic JDBC: no pgjdbc properties
            props.set("connectTimeout", Long.toString(Math.max(1, ds.pool().connectionTimeout().toSeconds())));
            props.set("ApplicationName", ds.name());
            // setReadOnly(true) must hold in auto-commit too (a read-only session that fell back to the
            // primary must fail a write as a replica would), not only inside transactions
            props.setIfAbsent("readOnlyMode", "always");
        }
        // The driver data source HikariCP would build from a jdbcUrl and dataSourceProperties, built here: HikariCP
        // logs its configuration at DEBUG with only the "password" property masked, so a secret-named jdbc
        // property (sslpassword, a token...) would be printed; its own DataSource is logged as an object only.
        hc.setDataSource(new DriverDataSource(node.jdbcUrl(), null, props.build(), null, null));
        return hc;
    }

    /**
     * A physical connection from this node's pool. A {@link NodeState#FENCED} node refuses: it gets no
     * traffic at all, not even from a transaction or a logical connection that chose it earlier. A
     * {@link NodeState#DOWN} node fails at once instead of letting the caller wait the pool's whole
     * {@code connectionTimeout} for a server the health checks already found dead (writes while the primary
     * is down fail fast); connections already held are not affected.
     */
    public Connection borrow() throws SQLException {
        return borrow(Long.MAX_VALUE);
    }

    /**
     * {@link #borrow()}, waiting at most {@code maxWaitMillis} (at least 1 ms) for the pool: a read routed again after
     * its first node gave no connection has only what is left of its budget.
     */
    public Connection borrow(long maxWaitMillis) throws SQLException {
        long cap = Math.max(1, maxWaitMillis);
        NodeState now = state;
        if (now == NodeState.FENCED) {
            throw new SQLException("node " + name() + " is fenced (a second primary on an older timeline);"
                    + " no statement is sent to it until an operator unfences it", "08004");
        }
        if (now == NodeState.DOWN) {
            throw new SQLTransientConnectionException("node " + name() + " (" + role + ") is DOWN: " + lastError,
                    "08001");
        }
        try {
            if (state == NodeState.UP) {
                if (role != Role.PRIMARY && pool.getHikariPoolMXBean() instanceof com.zaxxer.hikari.pool.HikariPool hikari) {
                    // a replica that cannot hand out a connection within the check timeout is hung or swamped: the
                    // statement (nothing was sent) fails with a connection-level error, so a read is retried elsewhere
                    // instead of waiting out connectionTimeout; writes have nowhere else to go and keep the full wait
                    return hikari.getConnection(Math.min(replicaBorrowMillis, cap));
                }
                if (cap < connectionTimeoutMillis && pool.getHikariPoolMXBean() instanceof com.zaxxer.hikari.pool.HikariPool hikari) {
                    return hikari.getConnection(cap);
                }
                return pool.getConnection();
            }
            return borrowWhileUnhealthy(cap);
        } catch (SQLException e) {
            if (pool.isClosed()) {
                // drained or removed at runtime between routing and borrowing: a connection-level state, so
                // an autocommit read is retried on another node instead of failing
                throw new SQLException("node " + name() + " has been drained or removed", "08003", e);
            }
            throw e;
        }
    }

    /**
     * Borrowing from a node that is not UP: its pool may wait the whole {@code connectionTimeout} for a server that
     * is gone. So the wait is taken in slices, and the borrower gives up as soon as the node is fenced or stops
     * being what the statement was routed to (its {@link #epoch()} changed: a failover moved the primary), so the
     * caller's next statement is routed to the new primary instead of waiting out the timeout. Nothing was sent.
     */
    private Connection borrowWhileUnhealthy(long capMillis) throws SQLException {
        if (!(pool.getHikariPoolMXBean() instanceof com.zaxxer.hikari.pool.HikariPool hikari)) {
            return pool.getConnection();
        }
        int routedEpoch = epoch;
        long deadline = System.nanoTime() + Math.min(connectionTimeoutMillis, capMillis) * 1_000_000L;
        while (true) {
            long leftMillis = (deadline - System.nanoTime()) / 1_000_000L;
            try {
                return hikari.getConnection(Math.max(1, Math.min(BORROW_SLICE_MILLIS, leftMillis)));
            } catch (java.sql.SQLTransientConnectionException e) {
                if (state == NodeState.FENCED || epoch != routedEpoch) {
                    throw new SQLException("node " + name() + " was fenced or changed role while this statement"
                            + " waited for a connection to it; the statement was not sent", "08003", e);
                }
                if (System.nanoTime() - deadline >= 0) {
                    throw e;
                }
            }
        }
    }

    /**
     * A number that changes whenever physical connections borrowed from this node earlier must be dropped
     * rather than reused: the node changed role, was fenced or promoted, or lost its primary role. (Not
     * when it goes DOWN: a transaction on a connection that still works is not aborted on a suspicion.) A logical connection
     * records it when it borrows and discards its physical connection when it no longer matches.
     */
    public int epoch() {
        return epoch;
    }

    /**
     * Invalidates earlier physical connections (the node is no longer what they were opened for): logical
     * connections drop theirs on next use, the pool evicts its own.
     */
    void invalidateConnections() {
        epoch++;
        evictPool();
    }

    /** The pool's idle connections close now, borrowed ones when returned; running queries finish. */
    void evictPool() {
        HikariPoolMXBean mx = pool.getHikariPoolMXBean();
        if (mx != null) {
            // idle connections close now; borrowed ones close when returned (running queries finish)
            mx.softEvictConnections();
        }
    }

    public HikariDataSource pool() {
        return pool;
    }

    public NodeConfig config() {
        return config;
    }

    /**
     * Physical connections of this node currently held by logical connections (and hedges): what {@link #abortInFlight}
     * aborts when the node goes DOWN. Added and removed once per borrow, on the operation path: no allocation, no lock.
     */
    private final dev.readsplit.concurrent.HeldSet<Connection> inUse = new dev.readsplit.concurrent.HeldSet<>();

    /** A logical connection holds {@code c} (borrowed from this node) until {@link #untrack}. */
    public void track(Connection c) {
        inUse.add(c);
    }

    public void untrack(Connection c) {
        inUse.remove(c);
    }

    /**
     * Aborts (closes the socket of) every physical connection held on this node. Called when the node goes
     * DOWN: statements already running on a server that has stopped answering (a hung host) would otherwise
     * block until it comes back; aborted, they fail with a connection error at once, and an autocommit read
     * among them is retried on another node. Nothing is sent to the server.
     */
    public int abortInFlight() {
        int aborted = 0;
        for (Connection c : inUse) {
            try {
                c.abort(Runnable::run);
                aborted++;
            } catch (SQLException | RuntimeException ignored) {
                // already closed or broken: nothing to abort
            }
        }
        return aborted;
    }

    /** PostgreSQL (with replication introspection) rather than a generic JDBC database. */
    public boolean isPostgres() {
        return postgres;
    }

    @Override
    public String name() {
        return config.name();
    }

    @Override
    public int weight() {
        return config.weight();
    }

    @Override
    public String zone() {
        return config.zone();
    }

    @Override
    public int inFlight() {
        return statements.running();
    }

    @Override
    public long latencyEwmaNanos() {
        return statements.ewmaNanos();
    }

    /**
     * Connections idle in this node's pool at this moment (none it could still open), 0 when the pool does not say: a
     * borrower finds one without waiting.
     */
    public int idleNow() {
        HikariPoolMXBean mx = pool.getHikariPoolMXBean();
        return mx == null ? 0 : mx.getIdleConnections();
    }

    /**
     * Connections this node's pool can give without a wait (HikariCP's pool MXBean): the idle ones plus the room
     * left under its maximum, since a pool that has not opened all its connections yet (a node just added, a pool
     * with {@code minIdle} 0) opens one instead of making the borrower wait; -1 while the pool is closed.
     * Counting only idle connections starved such a pool: another replica always had an idle one.
     */
    @Override
    public int idleConnections() {
        HikariPoolMXBean mx = pool.getHikariPoolMXBean();
        if (mx == null) {
            return -1;
        }
        int room = Math.max(0, pool.getMaximumPoolSize() - mx.getTotalConnections());
        return mx.getIdleConnections() + room;
    }

    /**
     * Whether this node has statements running past their latency budget while it finished none for as long (a hung or
     * swamped server, seen before its checks fail): new reads go to other replicas while there are any. Set by the
     * data source's hedger each tick.
     */
    public boolean stalled() {
        return stalled;
    }

    public void stalled(boolean stalled) {
        this.stalled = stalled;
    }

    private volatile boolean stalled;

    /** A statement starts on this node; returns the token its {@link #endStatement(int, long, boolean)} takes. */
    public int beginStatement() {
        return statements.begin();
    }

    /**
     * A statement that took {@code elapsedNanos} ended: counted as a read or a write, its duration recorded in
     * {@link #statementLatency()} and, for one statement in {@value StatementStats#EWMA_SAMPLE} per thread (and the
     * first), in {@link #latencyEwmaNanos()}.
     *
     * @param begun what {@link #beginStatement()} returned for it
     */
    public void endStatement(int begun, long elapsedNanos, boolean read) {
        statements.end(begun, elapsedNanos, read);
    }

    /**
     * A copy of the distribution of statement durations on this node, in microseconds, since it joined
     * (cumulative: a reader that wants the last interval subtracts its previous copy, so any number of readers
     * can sample it). Every statement is in it, 1 µs to 1 h with 2 significant digits; recording is lock-free
     * (per-thread stripes of {@code ConcurrentHistogram}s); a copy taken while statements end may miss the last few.
     */
    public Histogram statementLatency() {
        return statements.latency();
    }

    public long readsServed() {
        return statements.reads();
    }

    public long writesServed() {
        return statements.writes();
    }

    public Role role() {
        return role;
    }

    void role(Role role) {
        this.role = role;
    }

    public NodeState state() {
        return state;
    }

    void state(NodeState state) {
        this.state = state;
    }

    public int consecutiveFailures() {
        return consecutiveFailures;
    }

    void consecutiveFailures(int n) {
        this.consecutiveFailures = n;
    }

    /** Successful checks in a row (reset by a failure); a DOWN node needs {@code recoveryThreshold} of them. */
    public int consecutiveSuccesses() {
        return consecutiveSuccesses;
    }

    void consecutiveSuccesses(int n) {
        this.consecutiveSuccesses = n;
    }

    /** When live traffic last marked this node SUSPECT (clock millis); a check started earlier cannot clear it. */
    long suspectedAtMillis() {
        return suspectedAtMillis;
    }

    void suspectedAtMillis(long millis) {
        this.suspectedAtMillis = millis;
    }

    /** Health-check response time, EWMA (alpha 1/8), in nanoseconds; 0 before the first successful check. */
    public long checkLatencyEwmaNanos() {
        return checkLatencyEwmaNanos;
    }

    /**
     * A successful check's round trip. It also keeps {@link #latencyEwmaNanos()} fresh on a node that gets few
     * statements, but only once a statement has seeded it: a check's query is not a statement, and the first
     * check runs on a cold connection and a cold JVM (a node seeded by it looked many times slower than one seeded
     * by statements, and the latency-aware balancer starved it; the balancer explores an unsampled node instead).
     */
    void recordCheckLatency(long nanos) {
        long old = checkLatencyEwmaNanos;
        checkLatencyEwmaNanos = old == 0 ? Math.max(1, nanos) : old + ((nanos - old) >> 3);
        statements.nudgeEwma(nanos);
    }

    /** The current lag alert level (time lag against the {@code lagAlert*} thresholds). */
    public LagLevel lagLevel() {
        return lagLevel;
    }

    void lagLevel(LagLevel level) {
        this.lagLevel = level;
    }

    /** Rolling time-lag percentiles over the last minute. */
    public LagWindow.Snapshot lagPercentiles(long nowMillis) {
        return lagWindow.snapshot(nowMillis);
    }

    LagWindow lagWindow() {
        return lagWindow;
    }

    public long lastCheckMillis() {
        return lastCheckMillis;
    }

    void lastCheckMillis(long millis) {
        this.lastCheckMillis = millis;
    }

    public String lastError() {
        return lastError;
    }

    void lastError(String error) {
        this.lastError = error;
    }

    public long timeline() {
        return timeline;
    }

    void timeline(long timeline) {
        this.timeline = timeline;
    }

    /**
     * The highest WAL position this node is known to have replayed (-1 unknown). Grows with each observation; reset
     * to unknown when the node stops being UP (a standby that restarted, crashed or was rebuilt may come back behind
     * what it replayed before), so it is re-learned from the server before it serves a read that needs a position.
     */
    public long replayLsn() {
        return replayLsn.get();
    }

    /** Bumped by each reset of the replay position: an observation begun before a reset is dropped. */
    private int replayGeneration;

    /** The generation to pass to {@link #observeReplayLsn(long, int)}, read before asking the server. */
    public synchronized int replayGeneration() {
        return replayGeneration;
    }

    /**
     * Records a replay position the server reported, asked when the position's generation was {@code generation}:
     * ignored if it was reset since (the answer may be from before a restart).
     */
    public synchronized void observeReplayLsn(long lsn, int generation) {
        if (generation == replayGeneration) {
            replayLsn.accumulateAndGet(lsn, Math::max);
        }
    }

    /**
     * The last WAL position this node reported while it was primary ({@code pg_current_wal_lsn()}), -1
     * unknown. After a failover it is what the old primary had written, for the data-loss report.
     */
    public long walLsn() {
        return walLsn;
    }

    /** When {@link #walLsn()} was observed (clock millis; 0 never). */
    public long walLsnMillis() {
        return walLsnMillis;
    }

    public void observeWalLsn(long lsn, long atMillis) {
        this.walLsn = lsn;
        this.walLsnMillis = atMillis;
    }

    /** Forget the replay position (a node that changed timeline, was rebuilt, restarted or stopped answering). */
    synchronized void resetReplayLsn() {
        replayGeneration++;
        replayLsn.set(-1);
    }

    public long lagBytes() {
        return lagBytes;
    }

    public long lagMillis() {
        return lagMillis;
    }

    void lag(long bytes, long millis) {
        this.lagBytes = bytes;
        this.lagMillis = millis;
    }

    /**
     * Excluded from new reads for its lag against the current primary: over {@code maxLag}/{@code maxLagBytes}, or not
     * streaming from the current primary (receiver down, older timeline, following the old primary), which is lag
     * that cannot shrink. See {@link #exclusionReason()}.
     */
    public boolean lagExcluded() {
        return lagExcluded;
    }

    void lagExcluded(boolean excluded) {
        this.lagExcluded = excluded;
        if (!excluded) {
            exclusionReason = null;
        }
    }

    private volatile String exclusionReason;
    private volatile String externalExclusion;
    private volatile String patroniView;

    /**
     * Why an HA manager (Patroni) keeps this node out of the reads ({@code noloadbalance}, not running, lagging), or
     * null. The lag tracker excludes the node while it is set (see {@link #exclusionReason()}).
     */
    public String externalExclusion() {
        return externalExclusion;
    }

    void externalExclusion(String why) {
        this.externalExclusion = why;
    }

    /** Patroni's last word on this node ("replica, streaming, timeline 3, lag 0 bytes"), or null without Patroni. */
    public String patroniView() {
        return patroniView;
    }

    void patroniView(String view) {
        this.patroniView = view;
    }

    /**
     * Why this replica is excluded from new reads ({@link #lagExcluded()}): over the lag limits, or not streaming
     * from the current primary; null when it is not excluded.
     */
    public String exclusionReason() {
        return exclusionReason;
    }

    void exclusionReason(String why) {
        this.exclusionReason = why;
    }

    /** Pool counters as HikariCP reports them (0 when the pool has not started). */
    public PoolStats poolStats() {
        HikariPoolMXBean mx = pool.getHikariPoolMXBean();
        if (mx == null) {
            return new PoolStats(0, 0, 0, 0, pool.getMaximumPoolSize());
        }
        return new PoolStats(mx.getActiveConnections(), mx.getIdleConnections(), mx.getTotalConnections(),
                mx.getThreadsAwaitingConnection(), pool.getMaximumPoolSize());
    }

    void close() {
        pool.close();
    }

    @Override
    public String toString() {
        return name() + "(" + role + ", " + state + ")";
    }

    /** Failed health checks of this node since it joined the topology. */
    public long healthCheckFailures() {
        return checkFailures.sum();
    }

    void countCheckFailure() {
        checkFailures.increment();
    }

    private final NodeView view = new NodeReadView(this);

    /** This node as applications see it: read-only, the same object for the node's lifetime. */
    public NodeView view() {
        return view;
    }
}

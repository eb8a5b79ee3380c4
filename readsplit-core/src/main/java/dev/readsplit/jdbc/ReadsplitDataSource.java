package dev.readsplit.jdbc;

import dev.readsplit.Consistency;
import dev.readsplit.Role;
import dev.readsplit.balance.Balancer;
import dev.readsplit.balance.Balancers;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.health.HealthChecker;
import dev.readsplit.sql.SqlClassifier;
import dev.readsplit.topology.Node;
import dev.readsplit.topology.Topology;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Logger;

/**
 * A {@link DataSource} over a PostgreSQL primary and its streaming replicas: writes go to the primary,
 * reads to healthy, fresh-enough replicas, and a session never reads older data than it wrote.
 *
 * <p>{@link #getConnection()} returns a logical connection ({@link ReadsplitConnection}) that opens
 * physical connections lazily, at most one per node, each from that node's own HikariCP pool, and returns
 * them all on {@code close()}. The routing rules are in {@code docs/routing.md}.
 *
 * <p>Each data source owns its topology, pools and threads (the health checker's); {@link #close()} stops
 * them all. There is no JVM-wide state: two data sources on the same cluster know nothing of each other.
 */
public final class ReadsplitDataSource implements DataSource, AutoCloseable {

    /** How many topology events {@link #recentEvents()} keeps. */
    public static final int RECENT_EVENTS = 100;

    private final ReadsplitConfig config;
    private final Topology topology;
    private final Balancer balancer;
    private final HealthChecker healthChecker;
    private final dev.readsplit.failover.FailoverManager failover;
    private final FunctionVolatility volatility;
    private final MisrouteMemory misroutes = new MisrouteMemory(10_000);
    private final ReplicaSelector selector;
    private final ThreadLocal<int[]> primaryScopeDepth = ThreadLocal.withInitial(() -> new int[1]);
    private final ThreadLocal<Consistency> consistencyScope = new ThreadLocal<>();
    /**
     * Scopes open on any thread. Routing reads the thread-locals only when this is non-zero: a volatile read
     * instead of two thread-local lookups per statement for the applications that never open a scope.
     */
    private final java.util.concurrent.atomic.AtomicInteger openScopes = new java.util.concurrent.atomic.AtomicInteger();
    private final ClassificationCache classifications;
    private final Map<RouteReason, LongAdder> routeCounts = new EnumMap<>(RouteReason.class);
    private final Map<RouteReason, LongAdder> shadowCounts = new EnumMap<>(RouteReason.class);
    private final LongAdder readRetries = new LongAdder();
    private final LongAdder misrouteCount = new LongAdder();
    private final LongAdder consistencyWaits = new LongAdder();
    private final LongAdder consistencyWaitNanos = new LongAdder();
    private final RecentEvents events = new RecentEvents(RECENT_EVENTS);
    private final LongAdder retiredReads = new LongAdder();
    private final LongAdder retiredWrites = new LongAdder();
    private final LongAdder retiredCheckFailures = new LongAdder();
    private volatile boolean shadowMode;
    private volatile boolean closed;
    private volatile long systemIdentifier;
    private int loginTimeout;

    public ReadsplitDataSource(ReadsplitConfig config) {
        this(config, Clock.systemUTC());
    }

    ReadsplitDataSource(ReadsplitConfig config, Clock clock) {
        this.config = config;
        for (RouteReason r : RouteReason.values()) {
            routeCounts.put(r, new LongAdder());
            shadowCounts.put(r, new LongAdder());
        }
        SqlClassifier classifier = SqlClassifier.builder()
                .writeFunctions(config.writeFunctions().toArray(String[]::new))
                .readFunctions(config.readFunctions().toArray(String[]::new))
                .build();
        this.classifications = new ClassificationCache(classifier, 4096);
        this.balancer = Balancers.create(config.balancer(), config.localZone());
        this.shadowMode = config.shadowMode();
        this.topology = new Topology(config, clock);
        topology.addListener(events);
        this.volatility = new FunctionVolatility(topology);
        this.selector = new ReplicaSelector(this);
        this.healthChecker = new HealthChecker(topology, clock);
        this.failover = new dev.readsplit.failover.FailoverManager(topology, new dev.readsplit.failover.WriteGate());
        healthChecker.start();
    }

    // ---------------------------------------------------------------------------------------------
    // acquisition

    /** A logical connection that routes each statement (design rules 1-7). */
    @Override
    public ReadsplitConnection getConnection() throws SQLException {
        return open(null);
    }

    /**
     * A logical connection bound to one role: {@link Role#PRIMARY} sends everything to the primary,
     * {@link Role#REPLICA} everything to a replica (with fallback to the primary if none is eligible and
     * fallback is on).
     */
    public ReadsplitConnection getConnection(Role role) throws SQLException {
        if (role == null) {
            throw new ReadsplitSqlException(config.name() + ": role must not be null", "22004");
        }
        return open(role);
    }

    /** Seed 001's name for {@code getConnection(Role.REPLICA)}. */
    public ReadsplitConnection acquireForRead() throws SQLException {
        return getConnection(Role.REPLICA);
    }

    /** Seed 001's name for {@code getConnection(Role.PRIMARY)}. */
    public ReadsplitConnection acquireForWrite() throws SQLException {
        return getConnection(Role.PRIMARY);
    }

    /** Seed 001's backward-compatible {@code acquire()}: always the primary, as {@link #acquireForWrite()}. */
    public ReadsplitConnection acquire() throws SQLException {
        return getConnection(Role.PRIMARY);
    }

    /** Not supported: credentials are per node, in the configuration. */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLFeatureNotSupportedException(config.name()
                + ": getConnection(user, password) is not supported; credentials are configured per node");
    }

    private ReadsplitConnection open(Role role) throws SQLException {
        if (closed) {
            throw new ReadsplitSqlException(config.name() + ": data source is closed", "08003");
        }
        return new LogicalConnection(this, role);
    }

    /**
     * Forces every statement of the current thread onto the primary until the returned scope is closed
     * (scopes nest). For a block of code that must see the primary's latest state:
     * <pre>{@code try (var scope = ds.forcePrimary()) { ... } }</pre>
     */
    public PrimaryScope forcePrimary() {
        int[] depth = primaryScopeDepth.get();
        depth[0]++;
        openScopes.incrementAndGet();
        return new PrimaryScope(this, depth);
    }

    /** Runs {@code work} with every statement of this thread on the primary. */
    public <T> T onPrimary(Callable<T> work) throws Exception {
        try (PrimaryScope ignored = forcePrimary()) {
            return work.call();
        }
    }

    /**
     * Sets the consistency level of every read on the current thread until the returned scope is closed
     * (restoring the previous one). A connection's own {@code setConsistency} still wins over a scope; a
     * scope wins over the data source's default.
     * <pre>{@code try (var scope = ds.withConsistency(Consistency.strong())) { ... } }</pre>
     */
    public ConsistencyScope withConsistency(Consistency consistency) {
        java.util.Objects.requireNonNull(consistency, "consistency");
        Consistency previous = consistencyScope.get();
        consistencyScope.set(consistency);
        openScopes.incrementAndGet();
        return new ConsistencyScope(this, previous);
    }

    /** The consistency in force for a connection without its own override, on the current thread. */
    Consistency effectiveDefaultConsistency() {
        if (openScopes.get() == 0) {
            return config.consistency();
        }
        Consistency scoped = consistencyScope.get();
        return scoped != null ? scoped : config.consistency();
    }

    boolean primaryScopeActive() {
        return openScopes.get() != 0 && primaryScopeDepth.get()[0] > 0;
    }

    /** The classification of {@code sql}, from the cache when this text was seen before. */
    dev.readsplit.sql.Classification classify(String sql) {
        return classifications.classify(sql);
    }

    // ---------------------------------------------------------------------------------------------
    // operations and observation

    public ReadsplitConfig config() {
        return config;
    }

    public Topology topology() {
        return topology;
    }

    /**
     * Supervised failover ({@code failoverPolicy=SUPERVISED}), planned switchover and rejoining a rebuilt old
     * primary. See {@code docs/failover.md}.
     */
    public dev.readsplit.failover.FailoverManager failover() {
        return failover;
    }

    public String name() {
        return config.name();
    }

    /** Shadow mode: everything runs on the primary; decisions are only recorded ({@link #shadowRouteCounts()}). */
    public void setShadowMode(boolean on) {
        this.shadowMode = on;
    }

    public boolean shadowMode() {
        return shadowMode;
    }

    /** Statements routed so far, by reason (the reason actually applied). */
    public Map<RouteReason, Long> routeCounts() {
        return snapshot(routeCounts);
    }

    /** In shadow mode: where statements would have gone, by reason. */
    public Map<RouteReason, Long> shadowRouteCounts() {
        return snapshot(shadowCounts);
    }

    public long readRetries() {
        return readRetries.sum();
    }

    public long misroutes() {
        return misrouteCount.sum();
    }

    /** Reads that waited for a replica to replay the session's causal token (whatever the outcome). */
    public long consistencyWaits() {
        return consistencyWaits.sum();
    }

    /** Total time reads spent waiting for a replay, in nanoseconds. */
    public long consistencyWaitNanos() {
        return consistencyWaitNanos.sum();
    }

    void countConsistencyWait(long nanos) {
        consistencyWaits.increment();
        consistencyWaitNanos.add(nanos);
    }

    private static Map<RouteReason, Long> snapshot(Map<RouteReason, LongAdder> counts) {
        Map<RouteReason, Long> out = new EnumMap<>(RouteReason.class);
        counts.forEach((k, v) -> {
            long n = v.sum();
            if (n > 0) {
                out.put(k, n);
            }
        });
        return out;
    }

    void countRoute(RouteReason reason) {
        routeCounts.get(reason).increment();
    }

    void countShadow(RouteReason reason) {
        shadowCounts.get(reason).increment();
    }

    void countRetry() {
        readRetries.increment();
    }

    void countMisroute() {
        misrouteCount.increment();
    }

    Balancer balancer() {
        return balancer;
    }

    FunctionVolatility volatility() {
        return volatility;
    }

    MisrouteMemory misrouteMemory() {
        return misroutes;
    }

    ReplicaSelector selector() {
        return selector;
    }

    HealthChecker healthChecker() {
        return healthChecker;
    }

    long systemIdentifier() {
        return systemIdentifier;
    }

    void systemIdentifier(long id) {
        this.systemIdentifier = id;
    }

    boolean isClosed() {
        return closed;
    }

    /** Stops the health checker and closes every pool. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        failover.close();
        healthChecker.close();
        topology.close();
    }

    // ---------------------------------------------------------------------------------------------
    // DataSource boilerplate

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {
        // SLF4J is the log; nothing is written to a log writer
    }

    @Override
    public void setLoginTimeout(int seconds) {
        this.loginTimeout = seconds;
    }

    @Override
    public int getLoginTimeout() {
        return loginTimeout;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("SLF4J is used, not java.util.logging");
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        throw new SQLException(config.name() + ": not a wrapper for " + iface.getName());
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return iface.isInstance(this);
    }

    @Override
    public String toString() {
        return "ReadsplitDataSource[" + config.name() + ", primary=" + topology.primary().name()
                + ", replicas=" + topology.replicas().size() + "]";
    }

    /** A consistency scope; see {@link ReadsplitDataSource#withConsistency(Consistency)}. */
    public static final class ConsistencyScope implements AutoCloseable {
        private final ReadsplitDataSource owner;
        private final Consistency previous;
        private boolean closed;

        private ConsistencyScope(ReadsplitDataSource owner, Consistency previous) {
            this.owner = owner;
            this.previous = previous;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                if (previous == null) {
                    owner.consistencyScope.remove();
                } else {
                    owner.consistencyScope.set(previous);
                }
                owner.openScopes.decrementAndGet();
            }
        }
    }

    /** A forced-primary scope; see {@link ReadsplitDataSource#forcePrimary()}. */
    public static final class PrimaryScope implements AutoCloseable {
        private final ReadsplitDataSource owner;
        private final int[] depth;
        private boolean closed;

        private PrimaryScope(ReadsplitDataSource owner, int[] depth) {
            this.owner = owner;
            this.depth = depth;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                depth[0]--;
                if (depth[0] == 0) {
                    owner.primaryScopeDepth.remove();
                }
                owner.openScopes.decrementAndGet();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // observation totals and runtime topology changes (operator API, also behind the admin endpoint)

    /** The last {@value #RECENT_EVENTS} topology events, oldest first. */
    public java.util.List<dev.readsplit.topology.TopologyEvent> recentEvents() {
        return events.snapshot();
    }

    /** How many times writes moved to another node (failovers and switchovers seen). */
    public long primaryChanges() {
        return events.primaryChanges();
    }

    /** Statements classified as reads executed so far, on any node (nodes removed since included). */
    public long readsServed() {
        long n = retiredReads.sum();
        for (Node node : topology.nodes()) {
            n += node.readsServed();
        }
        return n;
    }

    /** Statements not classified as reads executed so far, on any node (nodes removed since included). */
    public long writesServed() {
        long n = retiredWrites.sum();
        for (Node node : topology.nodes()) {
            n += node.writesServed();
        }
        return n;
    }

    /** Failed health checks so far, of every node (nodes removed since included). */
    public long healthCheckFailures() {
        long n = retiredCheckFailures.sum();
        for (Node node : topology.nodes()) {
            n += node.healthCheckFailures();
        }
        return n;
    }

    /**
     * Adds a replica at runtime. It gets its own pool at once but takes no reads until the health checker
     * has seen it answer ({@code recoveryThreshold} successful checks; a check starts now). Database, user,
     * password and pgjdbc properties the node does not set are taken from the configured primary.
     *
     * @return the node's name
     * @throws IllegalArgumentException if a node with that name or address is already present
     */
    public String addReplica(dev.readsplit.config.NodeConfig replica) {
        java.util.Objects.requireNonNull(replica, "replica");
        checkNotClosed();
        dev.readsplit.config.NodeConfig p = config.primary();
        dev.readsplit.config.NodeConfig.Builder b = replica.toBuilder();
        if (replica.database() == null && p.database() != null) {
            b.database(p.database());
        }
        if (replica.user() == null && p.user() != null) {
            b.user(p.user());
        }
        if (replica.password() == null && p.password() != null) {
            b.password(p.password());
        }
        if (replica.jdbcProperties().isEmpty() && replica.isPostgres() && p.isPostgres()) {
            b.jdbcProperties(p.jdbcProperties());
        }
        Node node = topology.addReplica(b.build());
        healthChecker.checkAllNow();
        return node.name();
    }

    /**
     * Drains a replica: no new statement is routed to it from now on; statements and read-only transactions
     * already running there finish; once none is left (or {@code timeout} passed) its pool is closed. Its
     * state stays {@code DRAINING} until it is removed. A logical connection that keeps a physical
     * connection to the node open (idle) holds the drain until the timeout; HikariCP then aborts it.
     *
     * @return whether the node went quiet within the timeout (false: the pool was closed with work borrowed)
     * @throws IllegalArgumentException if no node has that name
     * @throws IllegalStateException    if the node is the primary
     */
    public boolean drainReplica(String name, java.time.Duration timeout) {
        Node node = replicaNamed(name);
        topology.drain(node, "drained by operator");
        boolean quiet = awaitQuiet(node, timeout);
        topology.closePool(node);
        return quiet;
    }

    /**
     * Removes a replica at runtime: drains it first (see {@link #drainReplica}) unless already drained, then
     * takes it out of the topology and stops checking it.
     *
     * @return whether the drain finished within the timeout
     * @throws IllegalArgumentException if no node has that name
     * @throws IllegalStateException    if the node is the primary
     */
    public boolean removeReplica(String name, java.time.Duration drainTimeout) {
        Node node = replicaNamed(name);
        boolean quiet = true;
        if (node.state() != dev.readsplit.topology.NodeState.DRAINING || !node.pool().isClosed()) {
            quiet = drainReplica(name, drainTimeout);
        }
        synchronized (this) {
            if (topology.node(name) == node) {
                retiredReads.add(node.readsServed());
                retiredWrites.add(node.writesServed());
                retiredCheckFailures.add(node.healthCheckFailures());
                topology.remove(node, "removed by operator");
            }
        }
        healthChecker.forget(node);
        return quiet;
    }

    private Node replicaNamed(String name) {
        checkNotClosed();
        Node node = name == null ? null : topology.node(name);
        if (node == null) {
            throw new IllegalArgumentException(config.name() + ": no node named '" + name + "'");
        }
        if (node == topology.primary()) {
            throw new IllegalStateException(config.name() + ": " + name + " is the primary; only replicas can be"
                    + " drained or removed");
        }
        return node;
    }

    /**
     * Waits until nothing runs on {@code node} and none of its pool's connections is borrowed, seen twice in a
     * row 50 ms apart: a statement routed there just before the drain may not have borrowed yet at the first
     * look. (If one borrows after the pool closed, it gets 08003 and an autocommit read is retried elsewhere.)
     */
    private static boolean awaitQuiet(Node node, java.time.Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int quietLooks = 0;
        while (System.nanoTime() < deadline) {
            boolean quiet = node.inFlight() == 0 && node.poolStats().active() == 0;
            quietLooks = quiet ? quietLooks + 1 : 0;
            if (quietLooks >= 2) {
                return true;
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    private void checkNotClosed() {
        if (closed) {
            throw new IllegalStateException(config.name() + ": data source is closed");
        }
    }
}

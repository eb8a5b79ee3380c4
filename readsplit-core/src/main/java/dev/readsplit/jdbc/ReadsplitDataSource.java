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

    private final ReadsplitConfig config;
    private final Topology topology;
    private final SqlClassifier classifier;
    private final Balancer balancer;
    private final HealthChecker healthChecker;
    private final FunctionVolatility volatility;
    private final MisrouteMemory misroutes = new MisrouteMemory(10_000);
    private final ReplicaSelector selector;
    private final ThreadLocal<int[]> primaryScopeDepth = ThreadLocal.withInitial(() -> new int[1]);
    private final ThreadLocal<Consistency> consistencyScope = new ThreadLocal<>();
    private final Map<RouteReason, LongAdder> routeCounts = new EnumMap<>(RouteReason.class);
    private final Map<RouteReason, LongAdder> shadowCounts = new EnumMap<>(RouteReason.class);
    private final LongAdder readRetries = new LongAdder();
    private final LongAdder misrouteCount = new LongAdder();
    private final LongAdder consistencyWaits = new LongAdder();
    private final LongAdder consistencyWaitNanos = new LongAdder();
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
        this.classifier = SqlClassifier.builder()
                .writeFunctions(config.writeFunctions().toArray(String[]::new))
                .readFunctions(config.readFunctions().toArray(String[]::new))
                .build();
        this.balancer = Balancers.create(config.balancer(), config.localZone());
        this.shadowMode = config.shadowMode();
        this.topology = new Topology(config, clock);
        this.volatility = new FunctionVolatility(topology);
        this.selector = new ReplicaSelector(this);
        this.healthChecker = new HealthChecker(topology, clock);
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
        return new ConsistencyScope(this, previous);
    }

    /** The consistency in force for a connection without its own override, on the current thread. */
    Consistency effectiveDefaultConsistency() {
        Consistency scoped = consistencyScope.get();
        return scoped != null ? scoped : config.consistency();
    }

    boolean primaryScopeActive() {
        return primaryScopeDepth.get()[0] > 0;
    }

    // ---------------------------------------------------------------------------------------------
    // operations and observation

    public ReadsplitConfig config() {
        return config;
    }

    public Topology topology() {
        return topology;
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

    SqlClassifier classifier() {
        return classifier;
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
            }
        }
    }
}

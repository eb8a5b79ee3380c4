package dev.readsplit.jdbc;

import dev.readsplit.Consistency;
import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitException.Reason;
import dev.readsplit.Role;
import dev.readsplit.RouteReason;
import dev.readsplit.balance.Balancers;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.health.HealthChecker;
import dev.readsplit.routing.MisrouteMemory;
import dev.readsplit.routing.ReplicaSelector;
import dev.readsplit.routing.RouteCounters;
import dev.readsplit.routing.ReplayWait;
import dev.readsplit.routing.Router;
import dev.readsplit.routing.RoutingScopes;
import dev.readsplit.sql.SqlClassifier;
import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;
import dev.readsplit.topology.TopologyView;

import javax.sql.DataSource;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Clock;
import java.util.List;
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
    private final HealthChecker healthChecker;
    private final dev.readsplit.failover.FailoverManager failover;
    private final FunctionVolatility volatility;
    private final RoutingScopes scopes;
    private final RouteCounters counters = new RouteCounters();
    private final Router router;
    private final FailureFunnel funnel;
    private final ReplayWait replayWait;
    private final PositionChannels positionChannels;
    private final CausalScopes causalScopes;
    private final ClassificationCache classifications;
    /** Primary changes seen (the events themselves are in the topology's one ring). */
    private final LongAdder primaryChanges = new LongAdder();
    private final Operations operations;
    /** Hedged reads and in-flight stall detection; null when {@code hedgeReads} is off. */
    private final Hedger hedger;
    private volatile boolean closed;
    private volatile long systemIdentifier;
    private int loginTimeout;

    public ReadsplitDataSource(ReadsplitConfig config) {
        this(config, Clock.systemUTC());
    }

    ReadsplitDataSource(ReadsplitConfig config, Clock clock) {
        this(config, clock, HedgeSettings.of(config), System::nanoTime, true);
    }

    /**
     * @param hedging       how reads are hedged (from the configuration, or a test's own)
     * @param hedgeTicker   the hedger's nanosecond clock
     * @param scheduleHedge whether the hedger scans on its own thread (tests of the hedging rules call its scan)
     */
    ReadsplitDataSource(ReadsplitConfig config, Clock clock, HedgeSettings hedging,
                        java.util.function.LongSupplier hedgeTicker, boolean scheduleHedge) {
        this.config = config;
        SqlClassifier classifier = SqlClassifier.builder()
                .writeFunctions(config.routing().writeFunctions().toArray(String[]::new))
                .readFunctions(config.routing().readFunctions().toArray(String[]::new))
                .build();
        this.classifications = new ClassificationCache(classifier, 4096);
        this.topology = new Topology(config, clock);
        topology.addListener(e -> {
            if (e.kind() == dev.readsplit.topology.TopologyEvent.Kind.PRIMARY_CHANGE) {
                primaryChanges.increment();
            }
        });
        this.volatility = new FunctionVolatility(topology);
        this.scopes = new RoutingScopes(config.routing().consistency());
        this.healthChecker = new HealthChecker(topology, clock);
        this.failover = new dev.readsplit.failover.FailoverManager(topology, new dev.readsplit.failover.WriteGate());
        ReplicaSelector selector = new ReplicaSelector(topology,
                Balancers.create(config.routing().balancer(), config.routing().localZone()));
        this.router = new Router(config.name(), topology, selector, new MisrouteMemory(10_000), volatility::anyVolatile,
                scopes, counters, () -> failover.writeGate().paused(), config.routing().fallbackToPrimary(),
                config.routing().shadowMode());
        this.funnel = new FailureFunnel(topology);
        this.replayWait = new ReplayWait(selector, config.routing().readYourWritesWait().toNanos());
        this.positionChannels = new PositionChannels(config);
        this.causalScopes = new CausalScopes(config.routing().causalScope());
        this.operations = new Operations(this);
        this.hedger = hedging.enabled() ? new Hedger(this, hedging, hedgeTicker, scheduleHedge) : null;
        healthChecker.start();
    }

    /** The hedger, or null when hedged reads are off. */
    Hedger hedger() {
        return hedger;
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
            throw new ReadsplitException(Reason.NULL_ARGUMENT, config.name() + ": role must not be null");
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
            throw new ReadsplitException(Reason.CLOSED, config.name() + ": data source is closed");
        }
        return new LogicalConnection(this, role);
    }

    /**
     * Forces every statement of the current thread onto the primary until the returned scope is closed
     * (scopes nest). For a block of code that must see the primary's latest state:
     * <pre>{@code try (var scope = ds.forcePrimary()) { ... } }</pre>
     */
    public PrimaryScope forcePrimary() {
        return new PrimaryScope(scopes.openPrimaryScope());
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
        return new ConsistencyScope(scopes.openConsistencyScope(consistency));
    }

    /**
     * Opens an explicit causal context attached to the current thread: every logical connection opened on a thread
     * it is attached to shares its causal position (see {@link CausalContext}, {@code docs/consistency.md}).
     */
    public CausalContext causalContext() {
        return new CausalContext(this, new CausalPosition());
    }

    /**
     * {@link #causalContext()} starting from a token exported elsewhere (another process, a cookie).
     *
     * @throws SQLException (SQLSTATE 22023) if the token belongs to a different cluster
     * @throws IllegalArgumentException if {@code token} is null (use {@link #causalContext()})
     */
    public CausalContext causalContext(CausalToken token) throws SQLException {
        CausalContext ctx = new CausalContext(this, new CausalPosition());
        try {
            ctx.observe(token);
        } catch (SQLException | RuntimeException e) {
            ctx.close();
            throw e;
        }
        return ctx;
    }

    /** The causal scope connections of this data source share positions by. */
    public CausalScope causalScope() {
        return causalScopes.scope();
    }

    /**
     * The classification of {@code sql}, from the cache when this text was seen before. Public for Readsplit's
     * wire-protocol proxy, the second adapter over the same router (see {@code docs/proxy.md}); not the supported API.
     */
    public dev.readsplit.sql.Classification classify(String sql) {
        return classifications.classify(sql);
    }

    // ---------------------------------------------------------------------------------------------
    // operations and observation

    public ReadsplitConfig config() {
        return config;
    }

    /**
     * The nodes as Readsplit sees them now, read-only and live: roles, states, lag, pools, served counters, the primary,
     * the recent events and a listener subscription. Operator actions are {@link #operations()}; a consistent copy of
     * everything is {@code StatusSnapshot.of(ds)}.
     */
    public TopologyView topology() {
        return topology.view();
    }

    /** The state machine itself, for the adapter's classes. */
    Topology cluster() {
        return topology;
    }

    /**
     * Supervised failover ({@code failoverPolicy=SUPERVISED}), planned switchover and rejoining a rebuilt old primary
     * (see {@code docs/failover.md}); applications act through {@link #operations()}, Readsplit's own modules and
     * white-box tests may take it with {@code unwrap(FailoverManager.class)}.
     */
    dev.readsplit.failover.FailoverManager failover() {
        return failover;
    }

    public String name() {
        return config.name();
    }

    /** Shadow mode: everything runs on the primary; decisions are only recorded ({@link #shadowRouteCounts()}). */
    public void setShadowMode(boolean on) {
        router.shadowMode(on);
    }

    public boolean shadowMode() {
        return router.shadowMode();
    }

    /** Statements routed so far, by reason (the reason actually applied). */
    public Map<RouteReason, Long> routeCounts() {
        return counters.routes();
    }

    /** In shadow mode: where statements would have gone, by reason. */
    public Map<RouteReason, Long> shadowRouteCounts() {
        return counters.shadowRoutes();
    }

    public long readRetries() {
        return counters.retries();
    }

    public long misroutes() {
        return counters.misroutes();
    }

    /** Reads hedged on another node after running past their latency budget (docs/failover.md, "Hedged reads"). */
    public long hedgesStarted() {
        return counters.hedgesStarted();
    }

    /** Hedges that answered before the read they hedged (the slow node turned SUSPECT). */
    public long hedgesWon() {
        return counters.hedgesWon();
    }

    /** Hedges whose read answered first (the hedge was aborted). */
    public long hedgesLost() {
        return counters.hedgesLost();
    }

    /** Hedges that failed or were dropped (their own node failed, or the read ended while the hedge prepared). */
    public long hedgesFailed() {
        return counters.hedgesFailed();
    }

    /** Reads past their budget that were not hedged because hedges had used up their share ({@code hedgeMaxShare}). */
    public long hedgesDenied() {
        return counters.hedgesDenied();
    }

    /** Reads that waited for a replica to replay the session's causal token (whatever the outcome). */
    public long consistencyWaits() {
        return counters.consistencyWaits();
    }

    /** Total time reads spent waiting for a replay, in nanoseconds. */
    public long consistencyWaitNanos() {
        return counters.consistencyWaitNanos();
    }

    /**
     * Drain, add, remove and switch over nodes, fence and unfence: the operator's actions on this data source
     * (also behind the admin endpoint). Read-only status is {@code StatusSnapshot.of(ds)}.
     */
    public Operations operations() {
        return operations;
    }

    // ---------------------------------------------------------------------------------------------
    // the adapter's parts (package-private)

    /**
     * The router every session of this data source is routed by; Readsplit's wire-protocol proxy, the second adapter
     * over the same rules ({@code docs/proxy.md}), takes it with {@code unwrap(Router.class)}.
     */
    Router router() {
        return router;
    }

    FailureFunnel funnel() {
        return funnel;
    }

    ReplayWait replayWait() {
        return replayWait;
    }

    /** The connections WAL-position questions share (docs/consistency.md). */
    PositionChannels positionChannels() {
        return positionChannels;
    }

    CausalScopes causalScopes() {
        return causalScopes;
    }

    FunctionVolatility volatility() {
        return volatility;
    }

    MisrouteMemory misrouteMemory() {
        return router.misroutes();
    }

    HealthChecker healthChecker() {
        return healthChecker;
    }

    /**
     * The cluster's system identifier, asked once of the primary: over {@code session}'s connection to it, or (null)
     * a connection borrowed for the purpose.
     */
    long systemIdentifier(LogicalConnection session) throws SQLException {
        long id = systemIdentifier;
        if (id == 0) {
            Node primary = topology.primary();
            if (session != null) {
                id = WalPositions.systemIdentifier(session.physical(primary));
            } else {
                try (Connection c = primary.borrow()) {
                    id = WalPositions.systemIdentifier(c);
                }
            }
            if (id < 0) {
                // -1 marks "not available": asked once, one WARN naming the grant (docs/failover.md, "Least privilege")
                org.slf4j.LoggerFactory.getLogger(ReadsplitDataSource.class).warn("{}: causal tokens carry no cluster"
                        + " identity: the role {} may not call pg_control_system(); GRANT EXECUTE ON FUNCTION"
                        + " pg_control_system() TO {} lets a token from another cluster be refused (docs/failover.md,"
                        + " \"Least privilege\")", name(), primary.config().user(), primary.config().user());
            }
            systemIdentifier = id;
        }
        return Math.max(0, id);
    }

    /** Rejects a token of another cluster, or any token with the generic dialect (no WAL positions). Null passes. */
    public void checkToken(CausalToken token) throws SQLException {
        if (token == null) {
            return;
        }
        if (!topology.primary().isPostgres()) {
            throw new ReadsplitException(Reason.NOT_SUPPORTED, config.name() + ": causal tokens need PostgreSQL WAL"
                    + " positions; this data source uses the generic JDBC dialect");
        }
        long mine = systemIdentifier(null);
        if (token.systemIdentifier() != 0 && mine != 0 && token.systemIdentifier() != mine) {
            throw new ReadsplitException(Reason.INVALID_ARGUMENT, config.name() + ": causal token " + token.export()
                    + " belongs to a different cluster (system identifier " + Long.toHexString(token.systemIdentifier())
                    + ", this cluster is " + Long.toHexString(mine) + ")");
        }
    }

    /**
     * {@code position} as a token, taking it from the primary (over a borrowed connection) if a write is pending;
     * null when the position is empty or the dialect has none.
     */
    CausalToken tokenOf(CausalPosition position) throws SQLException {
        if (position.isEmpty() || !topology.primary().isPostgres()) {
            return null;
        }
        if (position.pending()) {
            long ticket = position.beginResolve();
            Node primary = topology.primary();
            long lsn;
            try (Connection c = primary.borrow()) {
                lsn = WalPositions.currentInsertLsn(c);
            } catch (SQLException e) {
                topology.onTrafficError(primary, e);
                throw new ReadsplitException(Reason.CAUSAL_POSITION_UNKNOWN, config.name() + ": the causal position"
                        + " cannot be taken from the primary " + primary.name() + ": " + e.getMessage(), e);
            }
            if (lsn < 0) {
                throw new ReadsplitException(Reason.CAUSAL_POSITION_UNKNOWN, config.name() + ": the primary "
                        + primary.name() + " reported no WAL insert position");
            }
            position.resolved(ticket, lsn);
        }
        return new CausalToken(systemIdentifier(null), position.lsn());
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
        if (hedger != null) {
            hedger.close();
        }
        failover.close();
        healthChecker.close();
        positionChannels.close();
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
        if (iface == Topology.class || iface == Router.class) {
            // for Readsplit's own modules (the proxy) and white-box tests; neither package is exported to applications
            return iface.cast(iface == Router.class ? router : topology);
        }
        if (iface == ReplayWait.class) {
            return iface.cast(replayWait); // the proxy's client sessions wait through the same one
        }
        if (iface == dev.readsplit.failover.FailoverManager.class) {
            return iface.cast(failover); // its switchover, rejoin and close are the operations facade's to call
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
        private final Runnable closer;

        private ConsistencyScope(Runnable closer) {
            this.closer = closer;
        }

        @Override
        public void close() {
            closer.run();
        }
    }

    /** A forced-primary scope; see {@link ReadsplitDataSource#forcePrimary()}. */
    public static final class PrimaryScope implements AutoCloseable {
        private final Runnable closer;

        private PrimaryScope(Runnable closer) {
            this.closer = closer;
        }

        @Override
        public void close() {
            closer.run();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // observation totals and runtime topology changes (operator API, also behind the admin endpoint)

    /** The last {@value #RECENT_EVENTS} topology events, oldest first. */
    public java.util.List<dev.readsplit.topology.TopologyEvent> recentEvents() {
        java.util.List<dev.readsplit.topology.TopologyEvent> all = topology.recentEvents();
        return all.size() <= RECENT_EVENTS ? all : List.copyOf(all.subList(all.size() - RECENT_EVENTS, all.size()));
    }

    /** How many times writes moved to another node (failovers and switchovers seen). */
    public long primaryChanges() {
        return primaryChanges.sum();
    }

    /** Statements classified as reads executed so far, on any node (nodes removed since included). */
    public long readsServed() {
        return operations.readsServed();
    }

    /** Statements not classified as reads executed so far, on any node (nodes removed since included). */
    public long writesServed() {
        return operations.writesServed();
    }

    /** Failed health checks so far, of every node (nodes removed since included). */
    public long healthCheckFailures() {
        return operations.healthCheckFailures();
    }

    /** See {@link Operations#addReplica}. */
    public String addReplica(dev.readsplit.config.NodeConfig replica) {
        return operations.addReplica(replica);
    }

    /** See {@link Operations#drainReplica}. */
    public boolean drainReplica(String name, java.time.Duration timeout) {
        return operations.drainReplica(name, timeout);
    }

    /** See {@link Operations#removeReplica}. */
    public boolean removeReplica(String name, java.time.Duration drainTimeout) {
        return operations.removeReplica(name, drainTimeout);
    }
}

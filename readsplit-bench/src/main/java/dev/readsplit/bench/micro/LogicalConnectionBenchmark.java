package dev.readsplit.bench.micro;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.readsplit.Consistency;
import dev.readsplit.balance.BalancerKind;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Readsplit's own cost per operation, with no I/O: a {@link ReadsplitDataSource} over generic-JDBC nodes
 * ({@code jdbc:stub:} URLs served by {@link StubDriver}, through Readsplit's real HikariCP pools), doing
 * what one web request does: {@code getConnection()} → {@code prepareStatement} → execute → close.
 * {@code hikari*} does the same through one plain HikariCP pool over the same stub driver: the difference
 * is Readsplit (classifier, routing, balancer, logical connection and statement wrappers). The data sources use the
 * default balancer but {@code readsplitRoundRobinSelect}'s and {@code readsplitLeastOutstandingSelect}'s.
 *
 * <p>With generic nodes Readsplit uses its generic dialect (no WAL positions), so the read-your-writes
 * read after a write in the same logical connection is not what PostgreSQL does (it asks the primary for
 * its WAL position, a round trip); {@code readsplitWriteThenRead} shows the generic path only.
 *
 * <p>Run: {@code java -jar readsplit-bench/target/benchmarks.jar LogicalConnectionBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class LogicalConnectionBenchmark {

    static final String SELECT = "SELECT abalance FROM accounts WHERE aid = ?";
    static final String UPDATE = "UPDATE accounts SET abalance = abalance + ? WHERE aid = ?";

    private ReadsplitDataSource readsplit;
    private ReadsplitDataSource eventual;
    private ReadsplitDataSource roundRobin;
    private ReadsplitDataSource leastOutstanding;
    private ReadsplitDataSource threadScope;
    private HikariDataSource hikari;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        StubDriver.register();
        readsplit = dataSource("rs", Consistency.readYourWrites(), null);
        eventual = dataSource("rs-eventual", Consistency.eventual(), null);
        roundRobin = dataSource("rs-round-robin", Consistency.readYourWrites(), BalancerKind.ROUND_ROBIN);
        leastOutstanding = dataSource("rs-least-outstanding", Consistency.readYourWrites(),
                BalancerKind.LEAST_OUTSTANDING);
        threadScope = dataSource("rs-thread", Consistency.readYourWrites(), null, CausalScope.THREAD);
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl("jdbc:stub:plain");
        hc.setMaximumPoolSize(4);
        hc.setMinimumIdle(4);
        hikari = new HikariDataSource(hc);
    }

    /** @param balancer null for the default */
    static ReadsplitDataSource dataSource(String name, Consistency consistency, BalancerKind balancer)
            throws InterruptedException {
        return dataSource(name, consistency, balancer, CausalScope.CONNECTION);
    }

    /**
     * @param balancer null for the default
     * @param scope    each operation is one web request: with the generic dialect a thread that wrote would read the
     *                 primary for good under the thread scope (the default), and every later benchmark would measure
     *                 that; so only a data source that never writes gets {@code THREAD}
     */
    static ReadsplitDataSource dataSource(String name, Consistency consistency, BalancerKind balancer,
                                                  CausalScope scope) throws InterruptedException {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name(name);
        if (balancer != null) {
            b.balancer(balancer);
        }
        ReadsplitConfig config = b
                .primary(NodeConfig.ofUrl("jdbc:stub:primary"))
                .addReplica(NodeConfig.ofUrl("jdbc:stub:replica1"))
                .addReplica(NodeConfig.ofUrl("jdbc:stub:replica2"))
                .primaryPoolSize(4).replicaPoolSize(4).minIdle(4)
                .consistency(consistency)
                .causalScope(scope)
                .healthCheckInterval(Duration.ofSeconds(1))
                .build();
        ReadsplitDataSource ds = new ReadsplitDataSource(config);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline && !ds.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0)) {
            Thread.sleep(20);
        }
        return ds;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        readsplit.close();
        eventual.close();
        roundRobin.close();
        leastOutstanding.close();
        threadScope.close();
        hikari.close();
    }

    static int select(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT)) {
            ps.setInt(1, 42);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    static int update(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(UPDATE)) {
            ps.setInt(1, 5);
            ps.setInt(2, 42);
            return ps.executeUpdate();
        }
    }

    @Benchmark
    public int hikariSelect() throws SQLException {
        try (Connection c = hikari.getConnection()) {
            return select(c);
        }
    }

    @Benchmark
    public int readsplitSelect() throws SQLException {
        try (Connection c = readsplit.getConnection()) {
            return select(c);
        }
    }

    /** {@link #readsplitSelect} with {@code ROUND_ROBIN} named (the default is {@code AFFINITY}): a node switch per read. */
    @Benchmark
    public int readsplitRoundRobinSelect() throws SQLException {
        try (Connection c = roundRobin.getConnection()) {
            return select(c);
        }
    }

    /**
     * {@link #readsplitSelect} with {@code LEAST_OUTSTANDING} named: the balancer that reads every candidate's count of
     * running statements on every read.
     */
    @Benchmark
    public int readsplitLeastOutstandingSelect() throws SQLException {
        try (Connection c = leastOutstanding.getConnection()) {
            return select(c);
        }
    }

    /**
     * {@link #readsplitSelect} under the default causal scope, {@code thread} (a data source no benchmark writes
     * through): what a read pays for looking up its thread's position.
     */
    @Benchmark
    public int readsplitThreadScopeSelect() throws SQLException {
        try (Connection c = threadScope.getConnection()) {
            return select(c);
        }
    }

    @Benchmark
    public int readsplitEventualSelect() throws SQLException {
        try (Connection c = eventual.getConnection()) {
            return select(c);
        }
    }

    @Benchmark
    public int hikariUpdate() throws SQLException {
        try (Connection c = hikari.getConnection()) {
            return update(c);
        }
    }

    @Benchmark
    public int readsplitUpdate() throws SQLException {
        try (Connection c = readsplit.getConnection()) {
            return update(c);
        }
    }

    @Benchmark
    public int readsplitWriteThenRead() throws SQLException {
        try (Connection c = readsplit.getConnection()) {
            return update(c) + select(c);
        }
    }

    @Benchmark
    public int hikariReadOnlyTransaction() throws SQLException {
        try (Connection c = hikari.getConnection()) {
            return readOnlyTransaction(c);
        }
    }

    @Benchmark
    public int readsplitReadOnlyTransaction() throws SQLException {
        try (Connection c = readsplit.getConnection()) {
            return readOnlyTransaction(c);
        }
    }

    private static int readOnlyTransaction(Connection c) throws SQLException {
        c.setReadOnly(true);
        c.setAutoCommit(false);
        int sum = 0;
        for (int i = 0; i < 5; i++) {
            sum += select(c);
        }
        c.commit();
        c.setAutoCommit(true);
        c.setReadOnly(false);
        return sum;
    }
}

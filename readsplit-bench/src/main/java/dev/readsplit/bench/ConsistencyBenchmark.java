package dev.readsplit.bench;

import dev.readsplit.Consistency;
import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitConnection;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;
import org.HdrHistogram.Recorder;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Read-your-writes strategies side by side on one embedded cluster whose replicas apply WAL 200 ms late:
 * Readsplit's causal tokens (READ_YOUR_WRITES), seed 004's "primary for 5 s after a write" window, STRONG
 * (everything on the primary) and EVENTUAL (no protection, the baseline that shows violations).
 *
 * <p>Workload: many web-style sessions; each request opens a logical connection, carries the session's
 * "cookie" (the exported token, or the time of the last write), and does a 90/10 mix: read the session's
 * latest row by id (a violation if it is missing) or insert a new one; think time between requests.
 *
 * <p>Run: {@code mvn -q install -DskipTests && java -cp readsplit-bench/target/benchmarks.jar
 * dev.readsplit.bench.ConsistencyBenchmark [seconds-per-strategy] [sessions]} (defaults 20 and 64)
 *
 * <p>The causal scopes side by side ({@code docs/consistency.md}): {@code ... ConsistencyBenchmark scopes
 * [seconds-per-run] [sessions]} runs read-your-writes with each {@code causalScope} at replay delays of 0, 1 and
 * 200 ms. Each session runs on its own thread: the connection scope carries its position in the session's cookie
 * (the exported token), the thread and data-source scopes carry nothing but the scope itself.
 */
public final class ConsistencyBenchmark {

    private static final Duration APPLY_DELAY = Duration.ofMillis(200);
    private static final long THINK_MILLIS = 50;

    record Result(String strategy, long ops, double seconds, long reads, long replicaReads, long violations,
                  double p50Ms, double p99Ms, long errors) {
        double opsPerSecond() {
            return ops / seconds;
        }

        double replicaShare() {
            return reads == 0 ? 0 : 100.0 * replicaReads / reads;
        }
    }

    interface Strategy extends AutoCloseable {
        String name();

        /** The data source behind the strategy, closed after its run (before the cluster stops). */
        ReadsplitDataSource dataSource();

        @Override
        default void close() {
            dataSource().close();
        }

        Connection open(Session s) throws SQLException;

        void afterWrite(Session s, Connection c) throws SQLException;
    }

    static final class Session {
        long lastId = -1;
        String cookieToken;
        long lastWriteNanos = Long.MIN_VALUE / 2;
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("scopes")) {
            scopes(args.length > 1 ? Integer.parseInt(args[1]) : 10, args.length > 2 ? Integer.parseInt(args[2]) : 64);
            return;
        }
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int sessions = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        System.out.printf(Locale.ROOT, "Consistency benchmark: %d sessions, %d s per strategy, think time %d ms, apply delay %d ms, %d cores%n",
                sessions, seconds, THINK_MILLIS, APPLY_DELAY.toMillis(), Runtime.getRuntime().availableProcessors());
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(2)
                .setting("max_connections", "400").start()) {
            try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE rows (id bigserial PRIMARY KEY, session int NOT NULL, payload text)");
                s.execute("INSERT INTO rows(session, payload) SELECT -1, md5(g::text) FROM generate_series(1, 10000) g");
            }
            for (EmbeddedNode n : cluster.standbys()) {
                n.setApplyDelay(APPLY_DELAY);
            }
            List<Result> results = new ArrayList<>();
            results.add(run(cluster, tokens(cluster, sessions, Duration.ofMillis(250)), sessions, seconds));
            results.add(run(cluster, tokens(cluster, sessions, Duration.ZERO), sessions, seconds));
            results.add(run(cluster, window(cluster, sessions), sessions, seconds));
            results.add(run(cluster, consistency(cluster, sessions, Consistency.strong(), "strong"), sessions, seconds));
            results.add(run(cluster, consistency(cluster, sessions, Consistency.eventual(), "eventual (no protection)"), sessions, seconds));
            System.out.println();
            System.out.println("| strategy | ops/s | reads on replicas | RYW violations | p50 ms | p99 ms | errors |");
            System.out.println("|---|---:|---:|---:|---:|---:|---:|");
            for (Result r : results) {
                System.out.printf(Locale.ROOT, "| %s | %.0f | %.1f %% | %d | %.2f | %.2f | %d |%n", r.strategy(), r.opsPerSecond(),
                        r.replicaShare(), r.violations(), r.p50Ms(), r.p99Ms(), r.errors());
            }
        }
    }

    /** Read-your-writes in each causal scope, at replay delays of 0, 1 and 200 ms. */
    static void scopes(int seconds, int sessions) throws Exception {
        System.out.printf(Locale.ROOT, "Causal scopes: %d sessions, %d s per run, think time %d ms, %d cores%n",
                sessions, seconds, THINK_MILLIS, Runtime.getRuntime().availableProcessors());
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(2)
                .setting("max_connections", "400").start()) {
            try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE rows (id bigserial PRIMARY KEY, session int NOT NULL, payload text)");
                s.execute("INSERT INTO rows(session, payload) SELECT -1, md5(g::text) FROM generate_series(1, 10000) g");
            }
            List<String> lines = new ArrayList<>();
            for (Duration delay : List.of(Duration.ZERO, Duration.ofMillis(1), APPLY_DELAY)) {
                for (EmbeddedNode n : cluster.standbys()) {
                    n.setApplyDelay(delay);
                }
                for (CausalScope scope : CausalScope.values()) {
                    Result r = run(cluster, scoped(cluster, sessions, scope), sessions, seconds);
                    lines.add(String.format(Locale.ROOT, "| %d ms | %s | %.0f | %.1f %% | %d | %.2f | %.2f | %d |",
                            delay.toMillis(), scope, r.opsPerSecond(), r.replicaShare(), r.violations(), r.p50Ms(),
                            r.p99Ms(), r.errors()));
                }
            }
            System.out.println();
            System.out.println("| replay delay | causalScope | ops/s | reads on replicas | RYW violations | p50 ms | p99 ms | errors |");
            System.out.println("|---:|---|---:|---:|---:|---:|---:|---:|");
            lines.forEach(System.out::println);
        }
    }

    /** Read-your-writes in {@code scope}: only the connection scope needs the cookie to carry the position. */
    static Strategy scoped(EmbeddedCluster cluster, int sessions, CausalScope scope) {
        ReadsplitDataSource ds = dataSource(cluster, sessions, Consistency.readYourWrites(), Duration.ofMillis(100), scope);
        return new Strategy() {
            public String name() {
                return "read_your_writes, causalScope " + scope;
            }

            public ReadsplitDataSource dataSource() {
                return ds;
            }

            public Connection open(Session s) throws SQLException {
                ReadsplitConnection c = ds.getConnection();
                if (scope == CausalScope.CONNECTION && s.cookieToken != null) {
                    c.observe(CausalToken.parse(s.cookieToken));
                }
                return c;
            }

            public void afterWrite(Session s, Connection c) throws SQLException {
                if (scope == CausalScope.CONNECTION) {
                    s.cookieToken = ((ReadsplitConnection) c).causalToken().export();
                }
            }
        };
    }

    private static ReadsplitDataSource dataSource(EmbeddedCluster cluster, int sessions, Consistency consistency,
                                                  Duration rywWait) {
        // the strategies compared before the scopes existed: one connection's position, carried by the cookie
        return dataSource(cluster, sessions, consistency, rywWait, CausalScope.CONNECTION);
    }

    private static ReadsplitDataSource dataSource(EmbeddedCluster cluster, int sessions, Consistency consistency,
                                                  Duration rywWait, CausalScope scope) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("bench").causalScope(scope)
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database()).user(cluster.user())
                .primaryPoolSize(Math.min(sessions, 64)).replicaPoolSize(Math.min(sessions, 64))
                .consistency(consistency).readYourWritesWait(rywWait)
                .healthCheckInterval(Duration.ofMillis(500));
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(s.host(), s.port());
        }
        ReadsplitDataSource ds = new ReadsplitDataSource(b.build());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && !ds.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0)) {
            sleep(50);
        }
        return ds;
    }

    /** Readsplit: the session's causal token travels in its cookie; reads wait up to 250 ms for a replay. */
    static Strategy tokens(EmbeddedCluster cluster, int sessions, Duration wait) {
        ReadsplitDataSource ds = dataSource(cluster, sessions, Consistency.readYourWrites(), wait);
        return new Strategy() {
            public String name() {
                return "read_your_writes, token, wait " + wait.toMillis() + " ms";
            }

            public ReadsplitDataSource dataSource() {
                return ds;
            }

            public Connection open(Session s) throws SQLException {
                ReadsplitConnection c = ds.getConnection();
                if (s.cookieToken != null) {
                    c.observe(CausalToken.parse(s.cookieToken));
                }
                return c;
            }

            public void afterWrite(Session s, Connection c) throws SQLException {
                s.cookieToken = ((ReadsplitConnection) c).causalToken().export();
            }

            @Override
            public String toString() {
                return ds.toString();
            }
        };
    }

    /** Seed 004: a session that wrote in the last 5 s reads the primary; otherwise any replica. */
    static Strategy window(EmbeddedCluster cluster, int sessions) {
        ReadsplitDataSource ds = dataSource(cluster, sessions, Consistency.eventual(), Duration.ZERO);
        long window = TimeUnit.SECONDS.toNanos(5);
        return new Strategy() {
            public String name() {
                return "primary for 5 s after a write";
            }

            public ReadsplitDataSource dataSource() {
                return ds;
            }

            public Connection open(Session s) throws SQLException {
                return System.nanoTime() - s.lastWriteNanos < window ? ds.getConnection(Role.PRIMARY) : ds.getConnection();
            }

            public void afterWrite(Session s, Connection c) {
                s.lastWriteNanos = System.nanoTime();
            }
        };
    }

    static Strategy consistency(EmbeddedCluster cluster, int sessions, Consistency level, String name) {
        ReadsplitDataSource ds = dataSource(cluster, sessions, level, Duration.ZERO);
        return new Strategy() {
            public String name() {
                return name;
            }

            public ReadsplitDataSource dataSource() {
                return ds;
            }

            public Connection open(Session s) throws SQLException {
                return ds.getConnection();
            }

            public void afterWrite(Session s, Connection c) {
            }
        };
    }

    static Result run(EmbeddedCluster cluster, Strategy strategy, int sessions, int seconds) throws Exception {
        try (strategy) {
            return measure(cluster, strategy, sessions, seconds);
        }
    }

    private static Result measure(EmbeddedCluster cluster, Strategy strategy, int sessions, int seconds) throws Exception {
        System.out.printf("running %-36s ", strategy.name());
        System.out.flush();
        Recorder latency = new Recorder(3);
        LongAdder ops = new LongAdder();
        LongAdder reads = new LongAdder();
        LongAdder replicaReads = new LongAdder();
        LongAdder violations = new LongAdder();
        LongAdder errors = new LongAdder();
        int primaryPort = cluster.primary().port();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        List<Future<?>> futures = new ArrayList<>();
        long started = System.nanoTime();
        for (int i = 0; i < sessions; i++) {
            int id = i;
            futures.add(pool.submit(() -> {
                Session session = new Session();
                SplittableRandom random = new SplittableRandom(id);
                while (System.nanoTime() < end) {
                    boolean write = session.lastId < 0 || random.nextInt(10) == 0;
                    long t0 = System.nanoTime();
                    try (Connection c = strategy.open(session)) {
                        if (write) {
                            try (PreparedStatement ps = c.prepareStatement("INSERT INTO rows(session, payload) VALUES (?, 'x') RETURNING id")) {
                                ps.setInt(1, id);
                                try (ResultSet rs = ps.executeQuery()) {
                                    rs.next();
                                    session.lastId = rs.getLong(1);
                                }
                            }
                            strategy.afterWrite(session, c);
                        } else {
                            try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT count(*) FROM rows WHERE id = ?), inet_server_port()")) {
                                ps.setLong(1, session.lastId);
                                try (ResultSet rs = ps.executeQuery()) {
                                    rs.next();
                                    reads.increment();
                                    if (rs.getLong(1) != 1) {
                                        violations.increment();
                                    }
                                    if (rs.getInt(2) != primaryPort) {
                                        replicaReads.increment();
                                    }
                                }
                            }
                        }
                        ops.increment();
                        latency.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                    } catch (SQLException e) {
                        errors.increment();
                    }
                    sleep(THINK_MILLIS);
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        double elapsed = (System.nanoTime() - started) / 1e9;
        pool.shutdown();
        var h = latency.getIntervalHistogram();
        Result r = new Result(strategy.name(), ops.sum(), elapsed, reads.sum(), replicaReads.sum(), violations.sum(),
                h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, errors.sum());
        System.out.printf(Locale.ROOT, "%.0f ops/s, %.1f %% reads on replicas, %d violations%n", r.opsPerSecond(),
                r.replicaShare(), r.violations());
        return r;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

}

package dev.readsplit.bench;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The macro benchmark of issue 8: Readsplit side by side with hand-routed pools and with its peers, on one
 * embedded cluster (a primary and two streaming standbys) and a pgbench-like {@code accounts} table.
 *
 * <p>For each workload, every setup first runs a warm-up interval (not reported), then the setups take
 * turns over the rounds, the order rotated by one each round (A B C, B C A, C A B …) so that no setup always
 * runs first or right after the same one, each for the same number of seconds with the same client
 * threads. Every setup holds the same number of server connections (default 2 on the primary and 3 on each
 * replica: 8 in all). Each operation is what a web request does: take a connection, run, close it.
 * Which node ran each statement is counted on the servers themselves ({@code pg_stat_statements} calls of
 * statements on {@code accounts}, snapshotted around each measured interval).
 *
 * <p>Run: {@code mvn -B -q -pl readsplit-embedded,readsplit-core,readsplit-bench -am package -DskipTests &&
 * java -cp readsplit-bench/target/benchmarks.jar dev.readsplit.bench.MacroBenchmark --json macro.json
 * --markdown macro.md} (add {@code --quick} for a run of a few minutes; {@code --help} for every option).
 */
public final class MacroBenchmark {

    static final String POINT_SELECT = "SELECT abalance FROM accounts WHERE aid = ?";
    static final String UPDATE = "UPDATE accounts SET abalance = abalance + ? WHERE aid = ?";

    enum Workload {
        POINT_SELECT("point-select", "autocommit point select by random primary key (PreparedStatement)"),
        MIX_90_10("mix-90-10", "90 % point selects, 10 % single-row updates, autocommit"),
        READ_ONLY_TX("ro-tx-5", "read-only transaction of 5 point selects (setReadOnly(true), autoCommit off)");

        final String label;
        final String description;

        Workload(String label, String description) {
            this.label = label;
            this.description = description;
        }
    }

    static final class Options {
        boolean quick;
        int rounds = 5;
        int threads = 8;
        int seconds = 20;
        int warmupSeconds = 10;
        int rows = 1_000_000;
        int primaryConns = 2;
        int replicaConns = 3;
        /** Set by --connections-per-node: every node (and every one-pool setup) gets this many. */
        int perNode;
        List<String> setups = Setups.ALL;
        List<Workload> workloads = List.of(Workload.values());
        Path json;
        Path markdown;
        /** Set by --thread-cpu: each round also prints this JVM's CPU per operation by thread group. */
        boolean threadCpu;
        /** Set by --server-statements: each round also prints what the servers ran per operation. */
        boolean serverStatements;

        static Options parse(String[] args) {
            Options o = new Options();
            boolean roundsSet = false;
            boolean secondsSet = false;
            boolean warmupSet = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--quick" -> o.quick = true;
                    case "--rounds" -> { o.rounds = positive(a, args, ++i, 1_000); roundsSet = true; }
                    case "--threads" -> o.threads = positive(a, args, ++i, 1_024);
                    case "--seconds" -> { o.seconds = positive(a, args, ++i, 86_400); secondsSet = true; }
                    case "--warmup" -> { o.warmupSeconds = positive(a, args, ++i, 3_600); warmupSet = true; }
                    case "--rows" -> o.rows = positive(a, args, ++i, 100_000_000);
                    case "--primary-connections" -> o.primaryConns = positive(a, args, ++i, MAX_CONNECTIONS);
                    case "--replica-connections" -> o.replicaConns = positive(a, args, ++i, MAX_CONNECTIONS);
                    case "--connections-per-node" -> {
                        o.perNode = positive(a, args, ++i, MAX_CONNECTIONS);
                        o.primaryConns = o.perNode;
                        o.replicaConns = o.perNode;
                    }
                    case "--setups" -> o.setups = List.of(value(a, args, ++i).split(","));
                    case "--workloads" -> {
                        List<Workload> ws = new ArrayList<>();
                        for (String w : value(a, args, ++i).split(",")) {
                            ws.add(Arrays.stream(Workload.values()).filter(x -> x.label.equals(w)).findFirst()
                                    .orElseThrow(() -> new IllegalArgumentException("unknown workload: " + w)));
                        }
                        o.workloads = ws;
                    }
                    case "--json" -> o.json = Path.of(value(a, args, ++i));
                    case "--markdown" -> o.markdown = Path.of(value(a, args, ++i));
                    case "--thread-cpu" -> o.threadCpu = true;
                    case "--server-statements" -> o.serverStatements = true;
                    case "--help", "-h" -> {
                        System.out.println(usage());
                        return null;
                    }
                    default -> throw new IllegalArgumentException("unknown option: " + a + "\n" + usage());
                }
            }
            for (String s : o.setups) {
                if (!Setups.ALL.contains(s)) {
                    throw new IllegalArgumentException("unknown setup: " + s + " (known: " + Setups.ALL + ")");
                }
            }
            if (o.quick) {
                o.rounds = roundsSet ? o.rounds : 2;
                o.seconds = secondsSet ? o.seconds : 5;
                o.warmupSeconds = warmupSet ? o.warmupSeconds : 3;
            }
            return o;
        }

        /** Connections of the setups that read from one pool on one node. */
        int singlePool() {
            return perNode > 0 ? perNode : primaryConns + 2 * replicaConns;
        }

        static String usage() {
            return """
                    MacroBenchmark [options]
                      --quick                 2 rounds of 5 s, 3-s warm-up (a few minutes in all)
                      --rounds N              measured rounds per workload (default 5)
                      --seconds S             seconds per setup per round (default 20)
                      --warmup S              warm-up seconds per setup per workload, not reported (default 10)
                      --threads N             client threads (default 8)
                      --rows N                rows in accounts (default 1000000)
                      --primary-connections N server connections on the primary in every setup (default 2)
                      --replica-connections N server connections on each replica in every setup (default 3)
                      --connections-per-node N  N on every node in every setup, and N in the one-pool setups
                                              (primary-pool, replica-pool); without it those get what the
                                              splitters hold in all (primary + each replica's)
                      --setups a,b,...        subset of %s
                      --workloads a,b,...     subset of point-select,mix-90-10,ro-tx-5
                      --json FILE             write every figure as JSON
                      --markdown FILE         write the report as Markdown
                      --thread-cpu            print each round's client CPU per operation by thread group
                                              (workers, GC, compiler, Readsplit's background threads)
                      --server-statements     print each round's sessions, transactions and top statements
                                              per 1,000 operations on every node, from the servers' own
                                              pg_stat_statements and pg_stat_database""".formatted(Setups.ALL);
        }

        private static String value(String option, String[] args, int i) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return args[i];
        }

        /** Server connections per node at most: the embedded servers' max_connections leaves room for checks. */
        private static final int MAX_CONNECTIONS = 80;

        /** A whole number from 1 to {@code max}; anything else is a usage error naming the option (exit 2). */
        private static int positive(String option, String[] args, int i, int max) {
            String text = value(option, args, i);
            long v;
            try {
                v = Long.parseLong(text.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " must be a whole number from 1 to " + max + ": '" + text + "'");
            }
            if (v < 1 || v > max) {
                throw new IllegalArgumentException(option + " must be from 1 to " + max + ": " + v);
            }
            return (int) v;
        }
    }

    /**
     * One measured interval of one setup.
     *
     * @param clientCpuMicros CPU microseconds per operation of this JVM (the client: the setup's code, the driver, the
     *                        other setups' idle background threads), -1 when unknown
     * @param serverCpuMicros the same of the three PostgreSQL servers (their process trees), -1 when unknown
     * @param threadTicks     this JVM's CPU ticks in the interval by thread group, most first ({@link ThreadCpu})
     */
    record Interval(String setup, Workload workload, int round, long ops, double seconds, long errors,
                    Histogram latency, long[] statementsPerNode, int[] backendsPerNode, double clientCpuMicros,
                    double serverCpuMicros, Map<String, Long> threadTicks) {
        double opsPerSecond() {
            return ops / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        System.exit(execute(args));
    }

    /**
     * Runs the benchmark in this JVM and returns an exit code: 0 done, 2 bad options. The entry point of
     * {@code readsplit bench}.
     */
    public static int execute(String... args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        if (o == null) {
            return 0;
        }
        return run(o);
    }

    static int run(Options o) throws Exception {
        String machine = machine();
        System.out.println("Readsplit macro benchmark");
        System.out.println(machine);
        System.out.printf(Locale.ROOT, "rounds %d x %d s per setup, warm-up %d s, %d client threads, %,d rows; "
                        + "server connections in every setup: primary %d + %d per replica = %d%n",
                o.rounds, o.seconds, o.warmupSeconds, o.threads, o.rows, o.primaryConns, o.replicaConns,
                o.primaryConns + 2 * o.replicaConns);
        long t0 = System.nanoTime();
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(2)
                .setting("max_connections", "300")
                .setting("shared_buffers", "256MB")
                .setting("shared_preload_libraries", "pg_stat_statements")
                .setting("pg_stat_statements.track", "top")
                .start()) {
            load(cluster, o.rows);
            System.out.printf(Locale.ROOT, "cluster up and %,d rows loaded and replayed in %.0f s%n", o.rows,
                    (System.nanoTime() - t0) / 1e9);
            List<EmbeddedNode> nodes = cluster.nodes();
            List<Connection> monitors = new ArrayList<>();
            for (EmbeddedNode n : nodes) {
                monitors.add(n.connect());
            }
            List<Long> serverPids = nodes.stream().map(EmbeddedNode::pid).toList();
            Map<String, Setups.Setup> setups = new LinkedHashMap<>();
            Map<String, String> failedSetups = new LinkedHashMap<>();
            for (String name : o.setups) {
                try {
                    Setups.Setup s = Setups.create(name, cluster, o.primaryConns, o.replicaConns, o.singlePool());
                    smokeTest(s);
                    setups.put(name, s);
                    System.out.println("setup " + name + ": " + s.connections());
                } catch (Throwable e) {
                    String why = describe(e);
                    failedSetups.put(name, why);
                    System.out.println("setup " + name + " FAILED to start: " + why);
                }
            }
            List<Interval> intervals = new ArrayList<>();
            Map<String, String> firstErrors = new ConcurrentHashMap<>();
            try {
                for (Workload w : o.workloads) {
                    System.out.println();
                    System.out.println("workload " + w.label + ": " + w.description);
                    for (Setups.Setup s : setups.values()) {
                        Interval warm = measure(s, w, -1, o.warmupSeconds, o.threads, o.rows, monitors, serverPids, firstErrors);
                        System.out.printf(Locale.ROOT, "  warm-up %-20s %8.0f ops/s%n", s.name(), warm.opsPerSecond());
                    }
                    List<Setups.Setup> order = new ArrayList<>(setups.values());
                    for (int r = 1; r <= o.rounds; r++) {
                        for (Setups.Setup s : order) {
                            ServerStatements statementsBefore = o.serverStatements ? ServerStatements.read(monitors) : null;
                            Interval iv = measure(s, w, r, o.seconds, o.threads, o.rows, monitors, serverPids, firstErrors);
                            intervals.add(iv);
                            System.out.printf(Locale.ROOT, "  round %d %-20s %8.0f ops/s  p50 %.3f ms  p99 %.3f ms  errors %d  nodes %s  backends %s  cpu/op client %.1f servers %.1f us%n",
                                    r, s.name(), iv.opsPerSecond(), iv.latency().getValueAtPercentile(50) / 1000.0,
                                    iv.latency().getValueAtPercentile(99) / 1000.0, iv.errors(),
                                    shares(iv.statementsPerNode()), Arrays.toString(iv.backendsPerNode()),
                                    iv.clientCpuMicros(), iv.serverCpuMicros());
                            if (o.threadCpu) {
                                System.out.println("      client threads: " + ThreadCpu.perOperation(iv.threadTicks(), iv.ops(), 8));
                            }
                            if (statementsBefore != null) {
                                System.out.print(ServerStatements.read(monitors).since(statementsBefore, iv.ops(), 6,
                                        nodes.stream().map(EmbeddedNode::name).toList()));
                            }
                        }
                        java.util.Collections.rotate(order, -1); // the next round starts with the next setup
                    }
                }
            } finally {
                for (Setups.Setup s : setups.values()) {
                    try {
                        s.close();
                    } catch (RuntimeException e) {
                        System.err.println("closing " + s.name() + ": " + e);
                    }
                }
                for (Connection c : monitors) {
                    c.close();
                }
            }
            Report report = new Report(o, machine, nodes.stream().map(EmbeddedNode::name).toList(), setups, failedSetups,
                    intervals, firstErrors);
            String md = report.markdown();
            System.out.println();
            System.out.println(md);
            if (o.markdown != null) {
                Files.writeString(o.markdown, md, StandardCharsets.UTF_8);
                System.out.println("Markdown written to " + o.markdown);
            }
            if (o.json != null) {
                Files.writeString(o.json, report.json(), StandardCharsets.UTF_8);
                System.out.println("JSON written to " + o.json);
            }
            System.out.printf(Locale.ROOT, "total %.0f s%n", (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }

    /** Creates and fills accounts the fast way, then waits until both standbys have replayed it. */
    static void load(EmbeddedCluster cluster, int rows) throws SQLException {
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            s.execute("CREATE TABLE accounts (aid int NOT NULL, bid int NOT NULL, abalance int NOT NULL, filler char(84))");
            s.execute("INSERT INTO accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, " + rows + ") g");
            s.execute("ALTER TABLE accounts ADD PRIMARY KEY (aid)");
            // VACUUM too, as pgbench -i does: otherwise autovacuum of the fresh table streams WAL with no
            // commit record during the read-only workloads, which Readsplit's health check (0.1.0) reads as
            // time lag (now - last replayed commit) and may exclude a caught-up replica for
            s.execute("VACUUM ANALYZE accounts");
            s.execute("CHECKPOINT");
            long target;
            try (ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint")) {
                rs.next();
                target = rs.getLong(1);
            }
            for (EmbeddedNode standby : cluster.standbys()) {
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
                try (Connection sc = standby.connect(); Statement ss = sc.createStatement()) {
                    while (true) {
                        long replayed;
                        try (ResultSet rs = ss.executeQuery("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint")) {
                            rs.next();
                            replayed = rs.getLong(1);
                        }
                        if (replayed >= target) {
                            break;
                        }
                        if (System.nanoTime() > deadline) {
                            throw new SQLException(standby.name() + " has not replayed the load after 5 minutes");
                        }
                        sleep(100);
                    }
                    // warm the standby's cache with the table and its index
                    ss.executeQuery("SELECT count(*) FROM accounts WHERE aid > 0").close();
                }
            }
        }
    }

    /** One operation of each kind, so that a setup that cannot run the workload is known before measuring. */
    static void smokeTest(Setups.Setup s) throws SQLException {
        SplittableRandom random = new SplittableRandom(1);
        for (Workload w : Workload.values()) {
            runOne(s, w, random, 1000, true);
        }
    }

    /** This JVM's CPU time in nanoseconds (all its threads), -1 when the platform does not say. */
    static long processCpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }

    /** @param serverPids the servers' postmaster pids, for their CPU time ({@link CpuMeter}) */
    static Interval measure(Setups.Setup setup, Workload w, int round, int seconds, int threads, int rows,
                            List<Connection> monitors, List<Long> serverPids, Map<String, String> firstErrors)
            throws Exception {
        long[] before = statementCounts(monitors);
        long clientBefore = processCpuNanos();
        ThreadCpu threadsBefore = ThreadCpu.read();
        CpuMeter serversBefore = CpuMeter.read();
        Recorder recorder = new Recorder(3);
        LongAdder ops = new LongAdder();
        LongAdder errors = new LongAdder();
        CountDownLatch start = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(threads);
        // the workers stay alive until their threads' CPU is read (an ended thread's time leaves /proc/self/task)
        CountDownLatch read = new CountDownLatch(1);
        long[] window = new long[2];
        int[] backends = new int[monitors.size()];
        List<Thread> workers = new ArrayList<>();
        long durationNanos = TimeUnit.SECONDS.toNanos(seconds);
        long[] endAt = new long[1];
        for (int t = 0; t < threads; t++) {
            long seed = (round + 7L) * 1_000_003L + t;
            Thread th = new Thread(() -> {
                SplittableRandom random = new SplittableRandom(seed);
                try {
                    start.await();
                    long end = endAt[0];
                    long now = System.nanoTime();
                    while (now < end) {
                        try {
                            runOne(setup, w, random, rows, false);
                            long after = System.nanoTime();
                            recorder.recordValue(Math.max(1, (after - now) / 1000));
                            ops.increment();
                            now = after;
                        } catch (SQLException | RuntimeException e) {
                            errors.increment();
                            firstErrors.putIfAbsent(setup.name() + "/" + w.label, describe(e));
                            sleep(1); // a failing setup must not spin
                            now = System.nanoTime();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
                try {
                    read.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-" + setup.name() + "-" + t);
            th.setDaemon(true);
            workers.add(th);
            th.start();
        }
        window[0] = System.nanoTime();
        endAt[0] = window[0] + durationNanos;
        recorder.reset();
        start.countDown();
        // the backends each node has for this setup's work, sampled in the middle of the interval
        sleepNanos(durationNanos / 2);
        for (int i = 0; i < monitors.size(); i++) {
            backends[i] = backends(monitors.get(i));
        }
        if (!done.await(seconds + 120L, TimeUnit.SECONDS)) {
            System.err.println("  " + setup.name() + ": workers still running 120 s after the interval; abandoning them");
        }
        window[1] = System.nanoTime();
        long clientAfter = processCpuNanos();
        Map<String, Long> threadTicks = ThreadCpu.read().since(threadsBefore);
        read.countDown();
        CpuMeter serversAfter = CpuMeter.read();
        long[] after = statementCounts(monitors);
        long[] perNode = new long[after.length];
        for (int i = 0; i < after.length; i++) {
            perNode[i] = after[i] - before[i];
        }
        long n = ops.sum();
        double client = clientBefore < 0 || clientAfter < clientBefore || n == 0 ? -1
                : (clientAfter - clientBefore) / 1000.0 / n;
        double servers = serverPids.isEmpty() ? -1 : ProxyBenchmark.perTransaction(serversBefore.ticks(serverPids),
                serversAfter.ticks(serverPids), n);
        return new Interval(setup.name(), w, round, n, (window[1] - window[0]) / 1e9, errors.sum(),
                recorder.getIntervalHistogram(), perNode, backends, client, servers, threadTicks);
    }

    static void runOne(Setups.Setup s, Workload w, SplittableRandom random, int rows, boolean check) throws SQLException {
        switch (w) {
            case POINT_SELECT -> {
                try (Connection c = s.read()) {
                    pointSelect(c, random.nextInt(rows) + 1, check);
                }
            }
            case MIX_90_10 -> {
                if (random.nextInt(10) == 0) {
                    try (Connection c = s.write(); PreparedStatement ps = c.prepareStatement(UPDATE)) {
                        ps.setInt(1, random.nextInt(-5000, 5000));
                        ps.setInt(2, random.nextInt(rows) + 1);
                        int n = ps.executeUpdate();
                        if (check && n != 1) {
                            throw new SQLException("update changed " + n + " rows");
                        }
                    }
                } else {
                    try (Connection c = s.read()) {
                        pointSelect(c, random.nextInt(rows) + 1, check);
                    }
                }
            }
            case READ_ONLY_TX -> {
                try (Connection c = s.readOnlyTransaction()) {
                    c.setReadOnly(true);
                    c.setAutoCommit(false);
                    try (PreparedStatement ps = c.prepareStatement(POINT_SELECT)) {
                        for (int i = 0; i < 5; i++) {
                            ps.setInt(1, random.nextInt(rows) + 1);
                            try (ResultSet rs = ps.executeQuery()) {
                                if (!rs.next() && check) {
                                    throw new SQLException("no row");
                                }
                            }
                        }
                    }
                    c.commit();
                    c.setAutoCommit(true);
                    c.setReadOnly(false);
                }
            }
            default -> throw new IllegalStateException(w.name());
        }
    }

    private static void pointSelect(Connection c, int aid, boolean check) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(POINT_SELECT)) {
            ps.setInt(1, aid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next() && check) {
                    throw new SQLException("no row for aid " + aid);
                }
            }
        }
    }

    /** Calls of statements on accounts (the benchmark's own, whoever sent them) per node, from pg_stat_statements. */
    static long[] statementCounts(List<Connection> monitors) throws SQLException {
        long[] out = new long[monitors.size()];
        for (int i = 0; i < out.length; i++) {
            try (Statement s = monitors.get(i).createStatement();
                 ResultSet rs = s.executeQuery("SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements"
                         + " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                         + " AND query ~* '^\\s*(select abalance|update accounts)'")) {
                rs.next();
                out[i] = rs.getLong(1);
            }
        }
        return out;
    }

    /**
     * Client backends of this database that ran something in the last second (every setup's pools stay open
     * for the whole run, so the idle setups' connections are left out), other than this monitor and the
     * health checks.
     */
    static int backends(Connection monitor) throws SQLException {
        try (Statement s = monitor.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                     + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                     + " AND application_name NOT LIKE '%-health'"
                     + " AND (state = 'active' OR state_change > now() - interval '1 second')")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static String shares(long[] perNode) {
        long total = Arrays.stream(perNode).sum();
        StringBuilder sb = new StringBuilder();
        for (long n : perNode) {
            sb.append(sb.length() == 0 ? "" : "/").append(total == 0 ? "-" : String.format(Locale.ROOT, "%.0f", 100.0 * n / total));
        }
        return sb + " %";
    }

    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getClass().getSimpleName() + ": " + e.getMessage());
        Throwable c = e.getCause();
        for (int i = 0; i < 3 && c != null && c != e; i++, c = c.getCause()) {
            sb.append(" <- ").append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
        }
        String s = sb.toString().replace('\n', ' ');
        return s.length() > 400 ? s.substring(0, 400) + "…" : s;
    }

    static String machine() {
        String cpu = "unknown CPU";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(cpu);
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return String.format(Locale.ROOT, "machine: %d cores (nproc), %s, Java %s (%s), %s %s",
                Runtime.getRuntime().availableProcessors(), cpu, System.getProperty("java.version"),
                System.getProperty("java.vm.name"), System.getProperty("os.name"), System.getProperty("os.arch"));
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepNanos(long nanos) {
        sleep(TimeUnit.NANOSECONDS.toMillis(nanos));
    }

    private MacroBenchmark() {
    }
}

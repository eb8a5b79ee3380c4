package dev.readsplit.bench;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.TopologyListener;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * Failure detection on a real embedded cluster (primary + 2 streaming standbys), over several runs:
 * replica kill → its last routed read, lag injection → exclusion, promotion → first successful write on
 * the new primary, and the client-visible errors of each.
 *
 * Also one of the two replicas SIGSTOPped for 3 s: reads per second during the pause against before, failed reads,
 * read latency during the pause, hedges; with hedged reads on (the default), then side by side in the same run with
 * {@code hedgeReads=false}. {@code pause} as second argument runs only that scenario.
 *
 * <p>Run: {@code mvn -B -pl readsplit-embedded,readsplit-core,readsplit-bench -am package -DskipTests && java -cp readsplit-bench/target/benchmarks.jar dev.readsplit.bench.FailureBenchmark [runs] [pause]}
 */
public final class FailureBenchmark {

    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final Duration TIMEOUT = Duration.ofMillis(1000);
    private static final Duration MAX_LAG = Duration.ofSeconds(1);

    private FailureBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        boolean pauseOnly = args.length > 1 && args[1].equals("pause");
        System.out.printf("Failure benchmark: %d runs; healthCheckInterval=%d ms, healthCheckTimeout=%d ms,"
                + " failureThreshold=3, maxLag=%d ms, 4 reader threads%n", runs, INTERVAL.toMillis(), TIMEOUT.toMillis(),
                MAX_LAG.toMillis());
        List<String> rows = new ArrayList<>();
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(2).start()) {
            exec(cluster.primary(), "CREATE TABLE ticks (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())");
            try (ReadsplitDataSource ds = new ReadsplitDataSource(config(cluster))) {
                awaitTrue(Duration.ofSeconds(30), () -> allUp(ds));
                for (int run = 1; run <= runs && !pauseOnly; run++) {
                    rows.add(replicaKill(cluster, ds, run));
                }
                for (int run = 1; run <= runs && !pauseOnly; run++) {
                    rows.add(lagInjection(cluster, ds, run));
                }
                for (int run = 1; run <= runs; run++) {
                    rows.add(replicaPause(cluster, ds, run, "hedged reads on (default)"));
                }
            }
            // the same scenario side by side without hedging (hedgeReads=false): what a pause costs without it
            try (ReadsplitDataSource ds = new ReadsplitDataSource(config(cluster).toBuilder().hedgeReads(false)
                    .build())) {
                awaitTrue(Duration.ofSeconds(30), () -> allUp(ds));
                for (int run = 1; run <= runs; run++) {
                    rows.add(replicaPause(cluster, ds, run, "hedgeReads=false"));
                }
            }
        }
        for (int run = 1; run <= runs && !pauseOnly; run++) {
            rows.add(promotion(run));
        }
        System.out.println();
        System.out.println("| scenario | run | measured | ms | client-visible errors |");
        System.out.println("|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    static ReadsplitConfig config(EmbeddedCluster cluster) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("bench")
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database()).user(cluster.user())
                .healthCheckInterval(INTERVAL).healthCheckTimeout(TIMEOUT)
                .connectionTimeout(Duration.ofMillis(1000))
                .maxLag(MAX_LAG)
                .primaryPoolSize(8).replicaPoolSize(8);
        if (cluster.password() != null) {
            b.password(cluster.password());
        }
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(s.host(), s.port());
        }
        return b.build();
    }

    // ---------------------------------------------------------------------------------------------

    private static String replicaKill(EmbeddedCluster cluster, ReadsplitDataSource ds, int run) throws Exception {
        EmbeddedNode victim = cluster.standby(0);
        NodeView node = node(ds, victim);
        try (Readers readers = new Readers(ds, 4); CounterWatch watch = new CounterWatch(node)) {
            awaitTrue(Duration.ofSeconds(10), () -> readers.reads.sum() > 500);
            AtomicLong excludedAt = new AtomicLong();
            TopologyListener l = e -> {
                if (e.node().equals(node.name()) && "UP".equals(e.from())) {
                    excludedAt.compareAndSet(0, System.nanoTime());
                }
            };
            ds.topology().addListener(l);
            long t0 = System.nanoTime();
            victim.kill(); // returns once every server process is gone (can take a second or two)
            awaitTrue(Duration.ofSeconds(10), () -> excludedAt.get() != 0);
            ds.topology().removeListener(l);
            long excluded = excludedAt.get();
            awaitTrue(Duration.ofSeconds(10), () -> node.state() == NodeState.DOWN);
            long readsAfter = readers.reads.sum();
            awaitTrue(Duration.ofSeconds(10), () -> readers.reads.sum() > readsAfter + 500);
            long lastRouted = watch.lastChangeNanos.get();
            victim.start();
            awaitTrue(Duration.ofSeconds(30), () -> node.state() == NodeState.UP);
            readers.close();
            System.out.printf("kill run %d: routing stopped after %.0f ms, last routed read %.0f ms after the kill,"
                            + " %d read errors, %d retries so far%n", run, ms(excluded - t0), ms(lastRouted - t0),
                    readers.errors.sum(), ds.readRetries());
            return String.format(Locale.ROOT, "| replica kill → last routed read | %d | kill → last read routed to it"
                            + " (kill → excluded: %.0f) | %.0f | %d failed reads |", run, ms(excluded - t0), ms(lastRouted - t0),
                    readers.errors.sum());
        }
    }

    /**
     * One of the two replicas SIGSTOPped for 3 s under the 4 readers: reads per second during the pause against the
     * 3 s before it (counts over equal windows in one run), the failed reads, and the read latency during the pause.
     */
    private static String replicaPause(EmbeddedCluster cluster, ReadsplitDataSource ds, int run, String variant)
            throws Exception {
        EmbeddedNode victim = cluster.standby(1);
        NodeView node = node(ds, victim);
        awaitTrue(Duration.ofSeconds(30), () -> allUp(ds) && !node.lagExcluded());
        try (Readers readers = new Readers(ds, 4)) {
            awaitTrue(Duration.ofSeconds(10), () -> readers.reads.sum() > 500);
            readers.latency.getIntervalHistogram(); // start the window now
            long r0 = readers.reads.sum();
            Thread.sleep(3000);
            long before = readers.reads.sum() - r0;
            readers.latency.getIntervalHistogram();
            long e0 = readers.errors.sum();
            long r1 = readers.reads.sum();
            long hedged0 = ds.hedgesStarted();
            long won0 = ds.hedgesWon();
            victim.pause();
            org.HdrHistogram.Histogram during;
            long inPause;
            try {
                Thread.sleep(3000);
                inPause = readers.reads.sum() - r1;
                during = readers.latency.getIntervalHistogram();
            } finally {
                victim.resume();
            }
            awaitTrue(Duration.ofSeconds(30), () -> node.state() == NodeState.UP);
            readers.close();
            long errors = readers.errors.sum() - e0;
            double ratio = before == 0 ? 0 : (double) inPause / before;
            double p99 = during.getValueAtPercentile(99) / 1000.0;
            double max = during.getMaxValue() / 1000.0;
            long hedged = ds.hedgesStarted() - hedged0;
            long won = ds.hedgesWon() - won0;
            System.out.printf("pause run %d (%s): reads in 3 s before %d, during the pause %d (ratio %.2f), read latency during"
                    + " the pause p99 %.1f ms, max %.1f ms, %d failed reads, %d hedges (%d won)%n", run, variant, before, inPause,
                    ratio, p99, max, errors, hedged, won);
            return String.format(Locale.ROOT, "| replica SIGSTOP 3 s (1 of 2), %s | %d | reads during the pause / before: %.2f"
                    + " (%d / %d in 3 s); read latency during the pause p99 %.1f ms, max (the ms column); %d hedges, %d won"
                    + " | %.0f | %d failed reads |", variant, run, ratio, inPause, before, p99, hedged, won, max, errors);
        }
    }

    private static String lagInjection(EmbeddedCluster cluster, ReadsplitDataSource ds, int run) throws Exception {
        EmbeddedNode lagging = cluster.standby(0);
        NodeView node = node(ds, lagging);
        awaitTrue(Duration.ofSeconds(30), () -> allUp(ds) && !node.lagExcluded());
        try (Writer writer = new Writer(ds, 20); Readers readers = new Readers(ds, 4)) {
            awaitTrue(Duration.ofSeconds(10), () -> writer.writes.sum() > 20);
            long t0 = System.nanoTime();
            lagging.setApplyDelay(Duration.ofSeconds(3));
            awaitTrue(Duration.ofSeconds(15), node::lagExcluded);
            long excluded = System.nanoTime();
            lagging.setApplyDelay(Duration.ZERO);
            awaitTrue(Duration.ofSeconds(15), () -> !node.lagExcluded());
            long readmitted = System.nanoTime();
            readers.close();
            writer.close();
            double afterCrossing = ms(excluded - t0) - MAX_LAG.toMillis();
            System.out.printf("lag run %d: excluded %.0f ms after injection (%.0f ms after the lag could first exceed"
                            + " maxLag), readmitted %.0f ms after the delay was removed; %d read errors, %d write errors%n",
                    run, ms(excluded - t0), afterCrossing, ms(readmitted - excluded), readers.errors.sum(), writer.errors.sum());
            return String.format(Locale.ROOT, "| lag injection (3 s apply delay) → exclusion | %d | injection → excluded"
                            + " (of which lag building up to maxLag: %d) | %.0f | %d failed reads, %d failed writes |", run,
                    MAX_LAG.toMillis(), ms(excluded - t0), readers.errors.sum(), writer.errors.sum());
        }
    }

    private static String promotion(int run) throws Exception {
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(2).start()) {
            exec(cluster.primary(), "CREATE TABLE ticks (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())");
            try (ReadsplitDataSource ds = new ReadsplitDataSource(config(cluster))) {
                awaitTrue(Duration.ofSeconds(30), () -> allUp(ds));
                EmbeddedNode promoted = cluster.standby(0);
                try (Writer writer = new Writer(ds, 5); Readers readers = new Readers(ds, 4)) {
                    awaitTrue(Duration.ofSeconds(10), () -> writer.writes.sum() > 20);
                    cluster.primary().stop();
                    long stopped = System.nanoTime();
                    long writeErrorsBefore = writer.errors.sum();
                    promoted.promote();
                    long t0 = System.nanoTime();
                    awaitTrue(Duration.ofSeconds(20), () -> writer.firstOnPort(promoted.port()) > 0);
                    long first = writer.firstOnPort(promoted.port());
                    readers.close();
                    writer.close();
                    System.out.printf("promotion run %d: first write on the new primary %.0f ms after pg_promote returned"
                                    + " (%.0f ms after the old primary stopped); %d failed writes, %d failed reads%n", run,
                            ms(first - t0), ms(first - stopped), writer.errors.sum() - writeErrorsBefore, readers.errors.sum());
                    return String.format(Locale.ROOT, "| promotion → first write on the new primary | %d | promotion →"
                                    + " first successful write (primary stop → first write: %.0f) | %.0f | %d failed writes"
                                    + " (old primary gone, writes are never retried), %d failed reads |", run,
                            ms(first - stopped), ms(first - t0), writer.errors.sum() - writeErrorsBefore, readers.errors.sum());
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static NodeView node(ReadsplitDataSource ds, EmbeddedNode n) {
        return ds.topology().nodes().stream().filter(x -> x.config().port() == n.port()).findFirst().orElseThrow();
    }

    private static boolean allUp(ReadsplitDataSource ds) {
        return ds.topology().nodes().stream().allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0);
    }

    private static void exec(EmbeddedNode node, String sql) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static void awaitTrue(Duration max, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("condition not met within " + max);
            }
            Thread.sleep(1);
        }
    }

    /** Polls a node's routed-statement counter and remembers when it last moved. */
    private static final class CounterWatch implements AutoCloseable {
        final AtomicLong lastChangeNanos = new AtomicLong(System.nanoTime());
        final AtomicBoolean running = new AtomicBoolean(true);
        final Thread thread;

        CounterWatch(NodeView node) {
            thread = new Thread(() -> {
                long last = node.readsServed() + node.inFlight();
                while (running.get()) {
                    long now = node.readsServed() + node.inFlight();
                    if (now != last) {
                        last = now;
                        lastChangeNanos.set(System.nanoTime());
                    }
                    try {
                        Thread.sleep(1); // 1 ms resolution; a spinning thread would take one of the two cores
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "counter-watch");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join();
        }
    }

    private static final class Readers implements AutoCloseable {
        final LongAdder reads = new LongAdder();
        final LongAdder errors = new LongAdder();
        /** Each read's latency in microseconds. */
        final org.HdrHistogram.Recorder latency = new org.HdrHistogram.Recorder(3);
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Thread> threads = new ArrayList<>();

        Readers(ReadsplitDataSource ds, int n) {
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(() -> {
                    while (running.get()) {
                        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT inet_server_port()")) {
                            for (int k = 0; k < 100 && running.get(); k++) {
                                long start = System.nanoTime();
                                try (ResultSet rs = ps.executeQuery()) {
                                    rs.next();
                                    reads.increment();
                                }
                                latency.recordValue(Math.max(1, (System.nanoTime() - start) / 1000));
                            }
                        } catch (SQLException e) {
                            errors.increment();
                        }
                    }
                }, "reader-" + i);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(10_000);
            }
        }
    }

    /** One long-lived logical connection writing every {@code pauseMillis}; remembers the first write per port. */
    private static final class Writer implements AutoCloseable {
        final LongAdder writes = new LongAdder();
        final LongAdder errors = new LongAdder();
        final AtomicBoolean running = new AtomicBoolean(true);
        final java.util.Map<Integer, Long> firstByPort = new java.util.concurrent.ConcurrentHashMap<>();
        final Thread thread;

        Writer(ReadsplitDataSource ds, long pauseMillis) {
            thread = new Thread(() -> {
                try (Connection c = ds.getConnection();
                     PreparedStatement ps = c.prepareStatement("INSERT INTO ticks DEFAULT VALUES RETURNING inet_server_port()")) {
                    while (running.get()) {
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            firstByPort.putIfAbsent(rs.getInt(1), System.nanoTime());
                            writes.increment();
                        } catch (SQLException e) {
                            errors.increment();
                        }
                        Thread.sleep(pauseMillis);
                    }
                } catch (SQLException | InterruptedException e) {
                    errors.increment();
                }
            }, "writer");
            thread.setDaemon(true);
            thread.start();
        }

        long firstOnPort(int port) {
            Long t = firstByPort.get(port);
            return t == null ? -1 : t;
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }
    }
}

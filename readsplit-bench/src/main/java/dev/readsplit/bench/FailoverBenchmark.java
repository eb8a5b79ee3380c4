package dev.readsplit.bench;

import dev.readsplit.config.FailoverPolicy;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.failover.FailoverReport;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.TopologyEvent;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * Supervised failover on a real embedded cluster (primary + 2 streaming standbys), at the default settings
 * ({@code healthCheckInterval=1s, healthCheckTimeout=1s, failureThreshold=3, failoverStepTimeout=10s}): the
 * primary is SIGKILLed after 3 s of a write workload of 4 autocommit-insert threads; measured are the time from the
 * kill to the first successful write on the new primary (and its parts: detection, the failover procedure), the
 * writes that failed in the gap, and the acknowledged writes missing on the new primary afterwards, with
 * synchronous ({@code ANY 1 (standby1, standby2)}, {@code remote_apply}) and asynchronous replication; then the old
 * primary is started again (crash recovery; it is fenced) and the exact WAL it had past the promotion point, as it
 * reports it, is read from the failover report. One new cluster per run.
 *
 * <p>Run: {@code mvn -B -q -pl readsplit-embedded,readsplit-core,readsplit-bench -am package -DskipTests && java -cp readsplit-bench/target/benchmarks.jar dev.readsplit.bench.FailoverBenchmark [runs per mode, default 2]}
 */
public final class FailoverBenchmark {

    private static final int WRITERS = 4;

    private FailoverBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        ReadsplitConfig defaults = ReadsplitConfig.builder().primary("x", 1).build();
        System.out.printf("Supervised failover benchmark: %d runs per mode; healthCheckInterval=%d ms,"
                        + " healthCheckTimeout=%d ms, failureThreshold=%d, failoverStepTimeout=%d ms (defaults),"
                        + " %d writer threads%n", runs, defaults.health().interval().toMillis(),
                defaults.health().timeout().toMillis(), defaults.health().failureThreshold(),
                defaults.failover().stepTimeout().toMillis(), WRITERS);
        List<String> rows = new ArrayList<>();
        for (boolean sync : new boolean[] {true, false}) {
            for (int run = 1; run <= runs; run++) {
                rows.add(run(sync, run));
            }
        }
        System.out.println();
        System.out.println("| replication | run | kill → first write on new primary (ms) | detection (ms) | failover"
                + " procedure (ms) | failed writes in the gap | acknowledged writes | acknowledged writes lost |"
                + " WAL past promotion (bytes, first report: lower bound) | WAL past promotion (bytes, measured on the"
                + " old primary when it returned) |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    private static String run(boolean sync, int run) throws Exception {
        EmbeddedCluster.Builder cb = EmbeddedCluster.builder().standbys(2);
        if (sync) {
            cb.synchronousStandbyNames("ANY 1 (standby1, standby2)").setting("synchronous_commit", "remote_apply");
        }
        try (EmbeddedCluster cluster = cb.start()) {
            EmbeddedNode old = cluster.primary();
            exec(old, "CREATE TABLE acks (id bigint PRIMARY KEY, at timestamptz DEFAULT now())");
            ReadsplitConfig.Builder cfg = ReadsplitConfig.builder().name("bench")
                    .primary(named(old)).database(cluster.database()).user(cluster.user())
                    .failoverPolicy(FailoverPolicy.SUPERVISED).primaryPoolSize(8).replicaPoolSize(8);
            for (EmbeddedNode s : cluster.standbys()) {
                cfg.addReplica(named(s));
            }
            try (ReadsplitDataSource ds = new ReadsplitDataSource(cfg.build())) {
                AtomicLong downAt = new AtomicLong();
                AtomicLong startedAt = new AtomicLong();
                AtomicLong completedAt = new AtomicLong();
                ds.topology().addListener(e -> {
                    if (e.kind() == TopologyEvent.Kind.STATE_CHANGE && "DOWN".equals(e.to()) && e.node().equals("primary")) {
                        downAt.compareAndSet(0, System.nanoTime());
                    } else if (e.kind() == TopologyEvent.Kind.FAILOVER_STARTED) {
                        startedAt.compareAndSet(0, System.nanoTime());
                    } else if (e.kind() == TopologyEvent.Kind.FAILOVER_COMPLETED) {
                        completedAt.compareAndSet(0, System.nanoTime());
                    }
                });
                awaitTrue(Duration.ofSeconds(30), () -> ds.topology().nodes().stream()
                        .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
                Writers w = new Writers(ds, old.port());
                w.start();
                awaitTrue(Duration.ofSeconds(20), () -> w.acked.size() > 500);
                Thread.sleep(3000); // a few health checks see the primary's WAL position move under the workload
                long killAt = System.nanoTime();
                w.killAt = killAt;
                old.kill();
                awaitTrue(Duration.ofSeconds(60), () -> w.firstNewPrimaryWrite.get() != 0);
                long firstWrite = w.firstNewPrimaryWrite.get();
                Thread.sleep(2000);
                w.stop();
                FailoverReport report = ds.operations().lastFailover();
                EmbeddedNode np = cluster.node(ds.topology().primary().name());
                long lost = missing(np, w.acked);
                // the old primary comes back (crash recovery, fenced): it says where its WAL ended
                old.start();
                String exact = "?";
                try {
                    awaitTrue(Duration.ofSeconds(30), () -> ds.operations().lastFailover() != null
                            && ds.operations().lastFailover().exactWalBytesPastPromotion() >= 0);
                    exact = Long.toString(ds.operations().lastFailover().exactWalBytesPastPromotion());
                } catch (IllegalStateException notMeasured) {
                    // reported as "?"
                }
                String row = String.format(Locale.ROOT, "| %s | %d | %.0f | %.0f | %.0f | %d | %d | %d | %s | %s |",
                        sync ? "sync (ANY 1, remote_apply)" : "async", run, ms(firstWrite - killAt),
                        ms(downAt.get() - killAt), ms(completedAt.get() - startedAt.get()), w.failedAfterKill.sum(),
                        w.acked.size(), lost, report == null ? "?" : Long.toString(report.walBytesPastPromotion()), exact);
                System.out.println(row);
                return row;
            }
        }
    }

    /** Autocommit inserts; each remembers its id once acknowledged and where it ran. */
    private static final class Writers {
        final ConcurrentLinkedQueue<Long> acked = new ConcurrentLinkedQueue<>();
        final LongAdder failedAfterKill = new LongAdder();
        final AtomicLong firstNewPrimaryWrite = new AtomicLong();
        final AtomicLong ids = new AtomicLong();
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Thread> threads = new ArrayList<>();
        final ReadsplitDataSource ds;
        final int oldPort;
        volatile long killAt;

        Writers(ReadsplitDataSource ds, int oldPort) {
            this.ds = ds;
            this.oldPort = oldPort;
        }

        void start() {
            for (int i = 0; i < WRITERS; i++) {
                Thread t = new Thread(this::loop, "writer-" + i);
                t.start();
                threads.add(t);
            }
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(10_000);
            }
        }

        private void loop() {
            while (running.get()) {
                long id = ids.incrementAndGet();
                try (Connection c = ds.getConnection();
                     PreparedStatement ps = c.prepareStatement("INSERT INTO acks (id) VALUES (?) RETURNING inet_server_port()")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        int port = rs.getInt(1);
                        acked.add(id);
                        if (port != oldPort) {
                            firstNewPrimaryWrite.compareAndSet(0, System.nanoTime());
                        }
                    }
                } catch (SQLException e) {
                    if (killAt != 0) {
                        failedAfterKill.increment();
                    }
                    sleep(10);
                }
            }
        }
    }

    private static NodeConfig named(EmbeddedNode n) {
        return NodeConfig.builder().name(n.name()).host(n.host()).port(n.port()).build();
    }

    private static long missing(EmbeddedNode node, java.util.Collection<Long> ids) throws SQLException {
        try (Connection c = node.connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT count(*) FROM unnest(?::bigint[]) AS x WHERE NOT EXISTS (SELECT 1 FROM acks WHERE id = x)")) {
            Array arr = c.createArrayOf("bigint", ids.toArray());
            ps.setArray(1, arr);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static void exec(EmbeddedNode node, String sql) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitTrue(Duration max, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("condition not met within " + max);
            }
            Thread.sleep(5);
        }
    }
}

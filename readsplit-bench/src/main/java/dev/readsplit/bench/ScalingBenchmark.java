package dev.readsplit.bench;

import dev.readsplit.Consistency;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;
import org.HdrHistogram.Recorder;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The measurement behind docs/scaling.md: read throughput against the number of replicas when each node's
 * capacity is capped by its pool (a fixed number of server connections) and the query is latency-bound,
 * not CPU-bound (a point select plus {@code pg_sleep(0.002)}), so that two cores do not cap it first.
 * Readsplit (EVENTUAL, round-robin) over 1, 2, then 3 replicas; the same client threads throughout.
 *
 * <p>Run: {@code java -cp readsplit-bench/target/benchmarks.jar dev.readsplit.bench.ScalingBenchmark
 * [seconds] [threads] [connections-per-replica]} (defaults 10, 24, 2)
 */
public final class ScalingBenchmark {

    static final String QUERY = "SELECT abalance, pg_sleep(0.002) FROM accounts WHERE aid = ?";

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 24;
        int perReplica = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        int rows = 10_000;
        System.out.println(MacroBenchmark.machine());
        System.out.printf(Locale.ROOT, "scaling: %s; %d threads, %d connections per replica, %d s per step%n",
                QUERY, threads, perReplica, seconds);
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(3).setting("max_connections", "100").start()) {
            try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE accounts (aid int PRIMARY KEY, abalance int NOT NULL)");
                s.execute("INSERT INTO accounts SELECT g, 0 FROM generate_series(1, " + rows + ") g");
                s.execute("VACUUM ANALYZE accounts");
            }
            for (EmbeddedNode n : cluster.standbys()) {
                cluster.awaitStreaming(cluster.primary(), n);
            }
            MacroBenchmark.sleep(2000);
            System.out.println();
            System.out.println("| replicas | ops/s | x 1 replica | model k x C1 | p50 ms | p99 ms |");
            System.out.println("|---:|---:|---:|---:|---:|---:|");
            double c1 = 0;
            for (int k = 1; k <= cluster.standbys().size(); k++) {
                ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("scale-" + k)
                        .primary(cluster.primary().host(), cluster.primary().port())
                        .database(cluster.database()).user(cluster.user())
                        .primaryPoolSize(2).replicaPoolSize(perReplica).minIdle(Math.min(2, perReplica))
                        .consistency(Consistency.eventual())
                        // round-robin, as docs/scaling.md's figures were measured (the default is AFFINITY since issue 16)
                        .balancer(dev.readsplit.balance.BalancerKind.ROUND_ROBIN);
                for (int i = 0; i < k; i++) {
                    b.addReplica(cluster.standby(i).host(), cluster.standby(i).port());
                }
                try (ReadsplitDataSource ds = new ReadsplitDataSource(b.build())) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (System.nanoTime() < deadline && !ds.topology().nodes().stream()
                            .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0)) {
                        MacroBenchmark.sleep(50);
                    }
                    run(ds, threads, 2, rows, null); // warm-up
                    Recorder rec = new Recorder(3);
                    double ops = run(ds, threads, seconds, rows, rec);
                    var h = rec.getIntervalHistogram();
                    double p50 = h.getValueAtPercentile(50) / 1000.0;
                    if (k == 1) {
                        c1 = ops; // per-replica capacity C1: the 1-replica step, where the replica is the bottleneck
                    }
                    System.out.printf(Locale.ROOT, "| %d | %.0f | %.2f | %.0f | %.2f | %.2f |%n", k, ops, ops / c1, k * c1,
                            p50, h.getValueAtPercentile(99) / 1000.0);
                }
            }
        }
    }

    static double run(ReadsplitDataSource ds, int threads, int seconds, int rows, Recorder rec) throws InterruptedException {
        LongAdder ops = new LongAdder();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> ts = new ArrayList<>();
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(id);
                while (System.nanoTime() < end) {
                    long t0 = System.nanoTime();
                    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(QUERY)) {
                        ps.setInt(1, r.nextInt(rows) + 1);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                        }
                        ops.increment();
                        if (rec != null) {
                            rec.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
                        }
                    } catch (SQLException e) {
                        MacroBenchmark.sleep(1);
                    }
                }
            });
            th.start();
            ts.add(th);
        }
        for (Thread th : ts) {
            th.join(TimeUnit.SECONDS.toMillis(seconds + 60L));
        }
        return ops.sum() / ((System.nanoTime() - start) / 1e9);
    }

    private ScalingBenchmark() {
    }
}

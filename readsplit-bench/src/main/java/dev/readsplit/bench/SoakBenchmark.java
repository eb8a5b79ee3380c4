package dev.readsplit.bench;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.NodeState;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Soak: N minutes (default 10) of mixed load (4 readers, 2 writers, each writer remembering every
 * acknowledged id) through one {@code ReadsplitDataSource} on an embedded primary + 2 standbys, with a fault
 * every 30 s in rotation: SIGKILL + restart of a replica, SIGSTOP past the health timeout + SIGCONT, a lag
 * spike past {@code maxLag} (apply delay) and back, a fast restart. Reports error counts by kind, acknowledged
 * writes missing from the database, heap after GC at start and end, pool counts and thread counts.
 *
 * <p>Run: {@code mvn -B -q -pl readsplit-embedded,readsplit-core,readsplit-bench -am package -DskipTests && java -cp readsplit-bench/target/benchmarks.jar dev.readsplit.bench.SoakBenchmark [minutes]}
 */
public final class SoakBenchmark {

    private static final Duration FAULT_EVERY = Duration.ofSeconds(30);

    private SoakBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        double minutes = args.length > 0 ? Double.parseDouble(args[0]) : 10;
        long endAt = System.nanoTime() + (long) (minutes * 60e9);
        System.out.printf(Locale.ROOT, "Soak: %.1f min, 4 readers + 2 writers, a fault every %d s; %d cores, Java %s%n",
                minutes, FAULT_EVERY.toSeconds(), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"));
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(2).start()) {
            try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE soak (id bigserial PRIMARY KEY, writer int, payload text)");
            }
            ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("soak")
                    .primary(cluster.primary().host(), cluster.primary().port())
                    .database(cluster.database()).user(cluster.user())
                    .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000))
                    .connectionTimeout(Duration.ofMillis(2000)).maxLag(Duration.ofSeconds(1))
                    .primaryPoolSize(6).replicaPoolSize(6);
            for (EmbeddedNode s : cluster.standbys()) {
                b.addReplica(s.host(), s.port());
            }
            ReadsplitDataSource ds = new ReadsplitDataSource(b.build());
            awaitUp(ds);
            int threadsBefore = Thread.activeCount();
            long heapStart = heapAfterGc();
            Load load = new Load(ds);
            List<String> faults = new ArrayList<>();
            int round = 0;
            long started = System.nanoTime();
            long maxThreads = 0;
            while (System.nanoTime() < endAt) {
                sleepUntil(Math.min(endAt, System.nanoTime() + FAULT_EVERY.toNanos()));
                maxThreads = Math.max(maxThreads, Thread.activeCount());
                if (System.nanoTime() >= endAt) {
                    break;
                }
                EmbeddedNode victim = cluster.standby(round % 2);
                String fault = switch (round % 4) {
                    case 0 -> {
                        victim.kill();
                        Thread.sleep(3000);
                        victim.start();
                        yield "SIGKILL+restart " + victim.name();
                    }
                    case 1 -> {
                        victim.pause();
                        Thread.sleep(3000);
                        victim.resume();
                        yield "SIGSTOP 3s+SIGCONT " + victim.name();
                    }
                    case 2 -> {
                        victim.setApplyDelay(Duration.ofSeconds(3));
                        Thread.sleep(8000);
                        victim.setApplyDelay(Duration.ZERO);
                        yield "lag spike 3s " + victim.name();
                    }
                    default -> {
                        victim.restart();
                        yield "restart " + victim.name();
                    }
                };
                faults.add(String.format(Locale.ROOT, "%4ds %s", (System.nanoTime() - started) / 1_000_000_000L, fault));
                round++;
            }
            load.stop();
            awaitUp(ds);
            long lost = load.lostWrites(cluster.primary());
            Map<String, String> pools = new TreeMap<>();
            for (NodeView n : ds.topology().nodes()) {
                pools.put(n.name(), n.poolStats().toString());
            }
            int threadsLoaded = Thread.activeCount();
            ds.close();
            Thread.sleep(500);
            long heapEnd = heapAfterGc();
            long leftover = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("readsplit-") && !t.getName().startsWith("readsplit-embedded")
                            || t.getName().startsWith("soak-"))
                    .count();
            double secs = (System.nanoTime() - started) / 1e9;
            System.out.println();
            System.out.println("faults:");
            faults.forEach(f -> System.out.println("  " + f));
            System.out.println();
            System.out.println("| measure | value |");
            System.out.println("|---|---|");
            row("duration", String.format(Locale.ROOT, "%.0f s, %d faults", secs, faults.size()));
            row("reads ok", String.format(Locale.ROOT, "%d (%.0f/s)", load.reads.sum(), load.reads.sum() / secs));
            row("writes acknowledged", String.format(Locale.ROOT, "%d (%.0f/s)", load.writes.sum(), load.writes.sum() / secs));
            row("read errors", load.readErrors.sum() + " " + new TreeMap<>(load.errorKinds("read")));
            row("write errors", load.writeErrors.sum() + " " + new TreeMap<>(load.errorKinds("write")));
            row("acknowledged writes missing", Long.toString(lost));
            row("read retries / misroutes", ds.readRetries() + " / " + ds.misroutes());
            row("heap after GC, start", mib(heapStart));
            row("heap after GC, end (data source closed)", mib(heapEnd));
            row("pools after the load", pools.toString());
            row("JVM threads: before / peak / loaded / readsplit threads after close",
                    threadsBefore + " / " + maxThreads + " / " + threadsLoaded + " / " + leftover);
        }
    }

    private static void row(String k, String v) {
        System.out.println("| " + k + " | " + v + " |");
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    static long heapAfterGc() throws InterruptedException {
        MemoryMXBean mx = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return mx.getHeapMemoryUsage().getUsed();
    }

    private static void awaitUp(ReadsplitDataSource ds) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (ds.topology().nodes().stream().allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("nodes not UP: " + ds.topology().nodes());
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, Math.min(1000, left / 1_000_000)));
        }
    }

    /** Readers and writers; writers keep every id the database acknowledged. */
    static final class Load {
        final ReadsplitDataSource ds;
        final AtomicBoolean running = new AtomicBoolean(true);
        final LongAdder reads = new LongAdder();
        final LongAdder writes = new LongAdder();
        final LongAdder readErrors = new LongAdder();
        final LongAdder writeErrors = new LongAdder();
        final Map<String, LongAdder> kinds = new ConcurrentHashMap<>();
        final List<Long> acked = java.util.Collections.synchronizedList(new ArrayList<>());
        final List<Thread> threads = new ArrayList<>();

        Load(ReadsplitDataSource ds) {
            this.ds = ds;
            for (int i = 0; i < 4; i++) {
                threads.add(start("soak-reader-" + i, this::read));
            }
            for (int i = 0; i < 2; i++) {
                int w = i;
                threads.add(start("soak-writer-" + i, () -> write(w)));
            }
        }

        private static Thread start(String name, Runnable r) {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            t.start();
            return t;
        }

        private void read() {
            while (running.get()) {
                try (Connection c = ds.getConnection();
                     PreparedStatement ps = c.prepareStatement("SELECT count(*), max(id) FROM soak WHERE id > ?")) {
                    for (int i = 0; i < 50 && running.get(); i++) {
                        ps.setLong(1, ThreadLocalRandom.current().nextLong(1000));
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                        }
                        reads.increment();
                    }
                } catch (SQLException e) {
                    readErrors.increment();
                    kinds.computeIfAbsent("read " + e.getSQLState(), k -> new LongAdder()).increment();
                }
            }
        }

        private void write(int writer) {
            while (running.get()) {
                try (Connection c = ds.getConnection();
                     PreparedStatement ps = c.prepareStatement("INSERT INTO soak(writer, payload) VALUES (?, ?) RETURNING id")) {
                    for (int i = 0; i < 20 && running.get(); i++) {
                        ps.setInt(1, writer);
                        ps.setString(2, "x".repeat(100));
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            acked.add(rs.getLong(1));
                        }
                        writes.increment();
                        Thread.sleep(5);
                    }
                } catch (SQLException e) {
                    writeErrors.increment();
                    kinds.computeIfAbsent("write " + e.getSQLState(), k -> new LongAdder()).increment();
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        Map<String, Long> errorKinds(String prefix) {
            Map<String, Long> out = new TreeMap<>();
            kinds.forEach((k, v) -> {
                if (k.startsWith(prefix)) {
                    out.put(k.substring(prefix.length() + 1), v.sum());
                }
            });
            return out;
        }

        void stop() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }

        long lostWrites(EmbeddedNode primary) throws SQLException {
            java.util.Set<Long> present = new java.util.HashSet<>();
            try (Connection c = primary.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id FROM soak")) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
            }
            synchronized (acked) {
                return acked.stream().filter(id -> !present.contains(id)).count();
            }
        }
    }
}

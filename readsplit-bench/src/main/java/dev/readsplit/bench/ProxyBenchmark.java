package dev.readsplit.bench;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.proxy.ProxyConfig;
import dev.readsplit.proxy.ProxyServer;
import dev.readsplit.topology.NodeState;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The measurement behind the proxy rows of docs/benchmarks.md: {@code pgbench} through the readsplit proxy, PgBouncer
 * (session pooling only, in front of the primary) and pgpool-II (streaming-replication mode, load balancing on, reads
 * to the standbys) against {@code pgbench} direct to the primary, on one embedded cluster (primary + 2 standbys), in
 * one run. Each row (workload x clients) runs every target back to back, {@code rounds} times with the order rotated,
 * and reports the median of each column, so the ratios compare like with like on a loaded machine; the load average
 * (before / after the row) is printed per row. Then a fixed-rate run at 8 clients gives the latency each one
 * adds (p50/p99 minus direct's, none of them saturated). Every row also gives the CPU per transaction of the tier in
 * between, of the servers and of pgbench ({@link CpuMeter}). Targets without a tier: {@code direct} (the primary),
 * {@code standby} (one standby) and {@code split} (half the clients straight to each standby: a splitter that costs
 * nothing itself), the last two on {@code -S} only. Proxy targets: {@code readsplit} (session pooling), {@code
 * eventual} (the same proxy, the client asking for eventual consistency), {@code transaction} (transaction pooling),
 * {@code pipelined} (transaction pooling with pipelining, depth {@code -Dproxybench.pipelineDepth}, 8 by default),
 * {@code baseline} (another build's proxy); peers: {@code pgbouncer} (session pooling), {@code pgbouncer-tx}
 * (transaction pooling), {@code pgpool}.
 *
 * <p>pgbouncer and pgpool are Debian's ({@code apt-get install pgbouncer pgpool2}); a missing one is skipped with a
 * note. Like PostgreSQL they run as {@code nobody} (setpriv) when this JVM is root. Loopback only; every run is
 * bounded by {@code seconds}.
 *
 * <p>Run: {@code java -cp readsplit-bench/target/benchmarks.jar dev.readsplit.bench.ProxyBenchmark [seconds]
 * [clients,clients] [targets] [pgbench -M mode] [rate] [rounds]} (defaults 10, {@code 8,64},
 * {@code direct,readsplit,pgbouncer,pgpool}, {@code simple}, 2000 tps, 3 rounds).
 */
public final class ProxyBenchmark {

    private static final String STANDBY = "direct to a standby (-S only)";
    private static final String SPLIT = "direct, half the clients to each standby (-S only)";
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+) \\(without initial connection time\\)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");
    private static final Pattern TRANSACTIONS = Pattern.compile("number of transactions actually processed: (\\d+)");

    /**
     * Where pgbench connects: one port, or several that share the clients and the rate (one pgbench per port, run
     * together); {@code options}: its startup options (PGOPTIONS), or null; {@code pid}: the process between pgbench
     * and PostgreSQL whose CPU is counted (the proxy JVM, PgBouncer, pgpool-II's main process), -1 for none.
     */
    record Target(String name, List<Integer> ports, String options, long pid) {
        Target(String name, int port, long pid) {
            this(name, List.of(port), null, pid);
        }

        Target(String name, int port, String options, long pid) {
            this(name, List.of(port), options, pid);
        }

        int port() {
            return ports.get(0);
        }
    }

    /**
     * One run: tps, latency, failures, and the CPU per transaction, in microseconds, of the middle tier (its process
     * tree), of the three PostgreSQL servers (their trees: backends, walsender and startup processes included) and
     * of pgbench; -1 where it could not be read.
     */
    record Result(double tps, double p50Millis, double p99Millis, long failed, double middleMicros,
                  double serverMicros, double pgbenchMicros) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("serve")) {
            serve(args);
            return;
        }
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int[] clientCounts = Arrays.stream((args.length > 1 ? args[1] : "8,64").split(","))
                .mapToInt(Integer::parseInt).toArray();
        List<String> wanted = List.of((args.length > 2 ? args[2] : "direct,readsplit,pgbouncer,pgpool").split(","));
        String mode = args.length > 3 ? args[3] : "simple";
        int rate = args.length > 4 ? Integer.parseInt(args[4]) : 2000;
        int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        if (seconds < 1 || seconds > 600 || rate < 1 || rounds < 1 || rounds > 20) {
            throw new IllegalArgumentException("seconds must be 1..600, rate >= 1, rounds 1..20");
        }
        int maxClients = Arrays.stream(clientCounts).max().orElse(8);
        System.out.println(MacroBenchmark.machine());
        System.out.printf(Locale.ROOT, "proxy benchmark: pgbench -M %s, %d s per run, clients %s, targets %s%n", mode,
                seconds, Arrays.toString(clientCounts), wanted);
        Path work = Files.createTempDirectory("readsplit-proxybench");
        List<Process> peers = new ArrayList<>();
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(2)
                .setting("max_connections", String.valueOf(5 * maxClients + 100)).start()) {
            EmbeddedNode primary = cluster.primary();
            run(List.of("/usr/bin/pgbench", "-h", primary.host(), "-p", String.valueOf(primary.port()), "-U",
                    cluster.user(), "-i", "-q", "-s", "10", cluster.database()), work.resolve("init.out"));
            for (EmbeddedNode s : cluster.standbys()) {
                cluster.awaitStreaming(primary, s);
            }
            Map<String, Target> targets = new LinkedHashMap<>();
            Map<String, ProxyChild> proxies = new LinkedHashMap<>();
            List<String> checkRows = new ArrayList<>();
            StringBuilder nodeList = new StringBuilder(primary.host() + ":" + primary.port());
            cluster.standbys().forEach(s -> nodeList.append(',').append(s.host()).append(':').append(s.port()));
            String nodes = nodeList.toString();
            try {
                {
                    for (String w : wanted) {
                        switch (w) {
                            case "direct" -> targets.put(w, new Target(w, primary.port(), -1));
                            // pgbench straight to one standby: what a query costs a replica's server with no tier
                            // in between (-S only: the mix's updates fail there)
                            case "standby" -> targets.put(w, new Target(STANDBY,
                                    cluster.standbys().get(0).port(), -1));
                            // half the clients straight to each standby: reads split by hand, no tier in between,
                            // a splitter over these two standbys that costs nothing itself (-S only)
                            case "split" -> targets.put(w, new Target(SPLIT,
                                    cluster.standbys().stream().map(EmbeddedNode::port).toList(), null, -1));
                            // each proxy in a JVM of its own, the same way: this build's, and a baseline build's
                            // (-Dproxybench.baseline.cp=CLASSPATH, e.g. the commit before a change) side by side
                            case "readsplit" -> {
                                ProxyChild child = serveChild(System.getProperty("java.class.path"), nodes, cluster,
                                        maxClients, peers, work.resolve("proxy.out"));
                                proxies.put("readsplit proxy", child);
                                targets.put(w, new Target("readsplit proxy", child.port(), child.process().pid()));
                            }
                            // transaction pooling, one statement at a time per server connection, and with
                            // pipelining (-Dproxybench.pipelineDepth, 8 by default): docs/proxy.md, "Pipelining"
                            case "transaction", "pipelined" -> {
                                String depth = w.equals("transaction") ? "1"
                                        : System.getProperty("proxybench.pipelineDepth", "8");
                                String label = w.equals("transaction") ? "readsplit proxy, transaction pooling"
                                        : "readsplit proxy, transaction pooling, pipeline depth " + depth;
                                ProxyChild child = serveChild(System.getProperty("java.class.path"), nodes, cluster,
                                        maxClients, peers, work.resolve(w + ".out"), "transaction", depth);
                                proxies.put(label, child);
                                targets.put(w, new Target(label, child.port(), child.process().pid()));
                            }
                            case "eventual" -> {
                                // the same proxy, the client asking for eventual consistency (no read-your-writes
                                // wait after a write: what pgpool-II and PgBouncer give)
                                Target rs = targets.get("readsplit");
                                if (rs == null) {
                                    throw new IllegalArgumentException("target eventual needs readsplit before it");
                                }
                                targets.put(w, new Target("readsplit proxy, eventual", rs.port(),
                                        "-c readsplit.consistency=eventual", rs.pid()));
                            }
                            case "baseline" -> {
                                ProxyChild child = serveChild(System.getProperty("proxybench.baseline.cp"), nodes,
                                        cluster, maxClients, peers, work.resolve("baseline.out"));
                                proxies.put("readsplit proxy (baseline)", child);
                                targets.put(w, new Target("readsplit proxy (baseline)", child.port(),
                                        child.process().pid()));
                            }
                            case "pgbouncer", "pgbouncer-tx" -> startPeer(w, work, cluster, maxClients, peers,
                                    targets);
                            case "pgpool" -> startPeer(w, work, cluster, maxClients, peers, targets);
                            default -> throw new IllegalArgumentException("unknown target " + w
                                    + " (direct, standby, split, readsplit, transaction, pipelined, eventual, baseline,"
                                    + " pgbouncer, pgbouncer-tx, pgpool)");
                        }
                    }
                    String db = cluster.database();
                    String user = cluster.user();
                    List<Long> servers = cluster.nodes().stream().map(EmbeddedNode::pid).toList();
                    // warm-up: the JIT of the proxy, the peers' process pools, every node's cache
                    for (Target t : targets.values()) {
                        pgbench(t, servers, work, user, db, mode, maxClients, Math.min(seconds, 5), List.of("-S"), 0);
                    }
                    System.out.println();
                    // CPU per transaction (user + system, microseconds; medians over the rounds, login included) of the
                    // tier between pgbench and PostgreSQL, of the three servers, and of pgbench: on 2 busy cores the
                    // tps is about 2 s of CPU per second over their sum, so these columns say where a gap comes from
                    System.out.println("| workload | clients | target | tps | x direct | p50 ms | p99 ms | failed "
                            + "| middle CPU µs/tx | servers CPU µs/tx | pgbench CPU µs/tx | load avg before / after |");
                    System.out.println("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
                    Map<String, List<String>> workloads = new LinkedHashMap<>();
                    workloads.put("-S", List.of("-S"));
                    workloads.put("90/10", List.of("-b", "select-only@9", "-b", "simple-update@1"));
                    for (Map.Entry<String, List<String>> wl : workloads.entrySet()) {
                        for (int clients : clientCounts) {
                            String load = loadAverage();
                            Map<String, long[]> checksBefore = new LinkedHashMap<>();
                            for (Map.Entry<String, ProxyChild> e : proxies.entrySet()) {
                                checksBefore.put(e.getKey(), e.getValue().replayChecks());
                            }
                            Map<String, List<Result>> byTarget = new LinkedHashMap<>();
                            List<Target> order = new ArrayList<>(targets.values());
                            for (int r = 0; r < rounds; r++) {
                                // every round runs each target once, the order rotated: drift of the load spreads evenly
                                for (int i = 0; i < order.size(); i++) {
                                    Target t = order.get((i + r) % order.size());
                                    if ((t.name().equals(STANDBY) || t.name().equals(SPLIT)) && !wl.getKey().equals("-S")) {
                                        continue;
                                    }
                                    byTarget.computeIfAbsent(t.name(), k -> new ArrayList<>())
                                            .add(pgbench(t, servers, work, user, db, mode, clients, seconds,
                                                    wl.getValue(), 0));
                                }
                            }
                            load = load + " / " + loadAverage();
                            for (Map.Entry<String, ProxyChild> e : proxies.entrySet()) {
                                long[] before = checksBefore.get(e.getKey());
                                long[] after = e.getValue().replayChecks();
                                if (before != null && after != null) {
                                    long sent = after[0] - before[0];
                                    checkRows.add(String.format(Locale.ROOT, "| %s | %d | %s | %d | %d | %s |",
                                            wl.getKey(), clients, e.getKey(), sent, after[1] - before[1],
                                            sent == 0 ? "-" : String.format(Locale.ROOT, "%.1f",
                                                    100.0 * (after[1] - before[1]) / sent)));
                                }
                            }
                            Result direct = median(byTarget.get("direct"));
                            for (Target t : order) {
                                Result r = median(byTarget.get(t.name()));
                                if (r == null) {
                                    continue;
                                }
                                System.out.printf(Locale.ROOT,
                                        "| %s | %d | %s | %.0f | %s | %.2f | %.2f | %d | %s | %s | %s | %s |%n",
                                        wl.getKey(), clients, t.name(), r.tps(),
                                        direct == null ? "-" : String.format(Locale.ROOT, "%.2f", r.tps() / direct.tps()),
                                        r.p50Millis(), r.p99Millis(), r.failed(), micros(r.middleMicros()),
                                        micros(r.serverMicros()), micros(r.pgbenchMicros()), load);
                            }
                        }
                    }
                    if (!checkRows.isEmpty()) {
                        // a read after a write is led by a replay check; a short one drops the read's rows and runs it
                        // again: what read-your-writes cost in these runs, counted by the proxy (all rounds of a row)
                        System.out.println();
                        System.out.println("| workload | clients | target | replay checks | short | short % |");
                        System.out.println("|---|---:|---|---:|---:|---:|");
                        checkRows.forEach(System.out::println);
                    }
                    for (Map.Entry<String, ProxyChild> e : proxies.entrySet()) {
                        String status = e.getValue().status();
                        int at = status.indexOf(" routes ");
                        if (at >= 0) {
                            System.out.println();
                            Matcher steps = WORKER_STEPS.matcher(status);
                            System.out.println("routes of the " + e.getKey() + " so far (warm-up included):"
                                    + status.substring(at + 7) + (steps.find() ? " workerSteps " + steps.group(1) : ""));
                        }
                    }
                    System.out.println();
                    System.out.printf(Locale.ROOT, "added latency: -S, 8 clients, fixed rate %d tps (-R), %d s each%n",
                            rate, seconds);
                    System.out.println("| target | tps | p50 ms | p99 ms | p50 added ms | p99 added ms | load avg |");
                    System.out.println("|---|---:|---:|---:|---:|---:|---|");
                    Result direct = null;
                    for (Target t : targets.values()) {
                        String load = loadAverage();
                        Result r = pgbench(t, servers, work, user, db, mode, 8, seconds, List.of("-S"), rate);
                        if (t.name().equals("direct")) {
                            direct = r;
                        }
                        System.out.printf(Locale.ROOT, "| %s | %.0f | %.3f | %.3f | %s | %s | %s |%n", t.name(), r.tps(),
                                r.p50Millis(), r.p99Millis(),
                                direct == null ? "-" : String.format(Locale.ROOT, "%.3f", r.p50Millis() - direct.p50Millis()),
                                direct == null ? "-" : String.format(Locale.ROOT, "%.3f", r.p99Millis() - direct.p99Millis()),
                                load);
                    }
                }
            } finally {
                for (Process p : peers) {
                    p.getOutputStream().close();
                    if (!p.waitFor(10, TimeUnit.SECONDS)) {
                        p.destroy();
                    }
                    if (!p.waitFor(10, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                }
            }
        } finally {
            deleteTree(work);
        }
    }

    /**
     * One pgbench run against {@code t}: tps (without connection time), p50/p99 from the per-transaction log, and
     * the CPU per transaction of {@code t}'s middle tier, of the {@code servers}' process trees and of pgbench.
     */
    static Result pgbench(Target t, List<Long> servers, Path work, String user, String db, String mode, int clients,
                          int seconds, List<String> workload, int rate) throws IOException, InterruptedException {
        Path logs = Files.createTempDirectory(work, "log");
        int parts = t.ports().size();
        if (clients < parts || (rate > 0 && rate < parts)) {
            throw new IllegalArgumentException(t.name() + " needs at least " + parts + " clients and tps");
        }
        List<List<String>> cmds = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            // the clients and the rate shared out, the first pgbench taking what does not divide evenly
            int c = clients / parts + (i == 0 ? clients % parts : 0);
            List<String> cmd = new ArrayList<>(List.of("/usr/bin/pgbench", "-h", "127.0.0.1", "-p",
                    String.valueOf(t.ports().get(i)), "-U", user, "-n", "-M", mode, "-c", String.valueOf(c), "-j",
                    String.valueOf(Math.min(2, c)), "-T", String.valueOf(seconds), "-l",
                    "--log-prefix=" + logs.resolve("tx" + i)));
            if (rate > 0) {
                cmd.addAll(List.of("-R", String.valueOf(rate / parts + (i == 0 ? rate % parts : 0))));
            }
            cmd.addAll(workload);
            cmd.add(db);
            cmds.add(cmd);
        }
        long self = ProcessHandle.current().pid();
        CpuMeter before = CpuMeter.read();
        List<Process> running = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            running.add(start(cmds.get(i), logs.resolve("out" + i), t.options()));
        }
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            outs.add(finish(running.get(i), cmds.get(i), logs.resolve("out" + i)));
        }
        CpuMeter after = CpuMeter.read();
        double tps = 0;
        long transactions = 0;
        long failed = 0;
        for (String out : outs) {
            Matcher m = TPS.matcher(out);
            if (!m.find()) {
                throw new IllegalStateException(t.name() + ": pgbench reported no tps:\n" + out);
            }
            tps += Double.parseDouble(m.group(1));
            Matcher n = TRANSACTIONS.matcher(out);
            transactions += n.find() ? Long.parseLong(n.group(1)) : 0;
            Matcher f = FAILED.matcher(out);
            failed += f.find() ? Long.parseLong(f.group(1)) : 0;
        }
        long[] latencies;
        try (Stream<Path> files = Files.list(logs)) {
            latencies = files.filter(p -> p.getFileName().toString().startsWith("tx")).flatMap(p -> {
                try {
                    return Files.readAllLines(p).stream();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).mapToLong(l -> Long.parseLong(l.split(" ")[2])).sorted().toArray();
        }
        deleteTree(logs);
        return new Result(tps, percentile(latencies, 0.50) / 1000.0, percentile(latencies, 0.99) / 1000.0, failed,
                t.pid() > 0 ? perTransaction(before.ticks(List.of(t.pid())), after.ticks(List.of(t.pid())), transactions)
                        : -1,
                perTransaction(before.ticks(servers), after.ticks(servers), transactions),
                perTransaction(before.childrenTicks(self), after.childrenTicks(self), transactions));
    }

    /** CPU microseconds per transaction between two readings in ticks; -1 when either is missing. */
    static double perTransaction(long beforeTicks, long afterTicks, long transactions) {
        if (beforeTicks < 0 || afterTicks < beforeTicks || transactions <= 0) {
            return -1;
        }
        return (afterTicks - beforeTicks) * 1_000_000.0 / CpuMeter.TICKS_PER_SECOND / transactions;
    }

    static String micros(double v) {
        return v < 0 ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    /** Per column, the median over the rounds (each column on its own); failures summed. */
    static Result median(List<Result> rs) {
        if (rs == null || rs.isEmpty()) {
            return null;
        }
        return new Result(medianOf(rs, Result::tps), medianOf(rs, Result::p50Millis), medianOf(rs, Result::p99Millis),
                rs.stream().mapToLong(Result::failed).sum(), medianOf(rs, Result::middleMicros),
                medianOf(rs, Result::serverMicros), medianOf(rs, Result::pgbenchMicros));
    }

    private static double medianOf(List<Result> rs, java.util.function.ToDoubleFunction<Result> f) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        return v[v.length / 2];
    }

    static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    // ---------------------------------------------------------------------------------------------
    // the proxy, in a child JVM

    /** {@code serve PRIMARY,REPLICA,... DATABASE USER MAXCLIENTS}: a trust proxy; prints its port; ends with stdin. */
    private static void serve(String[] args) throws Exception {
        String[] nodes = args[1].split(",");
        int maxClients = Integer.parseInt(args[4]);
        String[] p = nodes[0].split(":");
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("proxybench").primary(p[0], Integer.parseInt(p[1]))
                .database(args[2]).user(args[3]).healthCheckInterval(Duration.ofMillis(500));
        for (int i = 1; i < nodes.length; i++) {
            String[] r = nodes[i].split(":");
            b.addReplica(r[0], Integer.parseInt(r[1]));
        }
        try (ReadsplitDataSource ds = new ReadsplitDataSource(b.build())) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!ds.topology().nodes().stream().allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0)
                    && System.nanoTime() < deadline) {
                MacroBenchmark.sleep(100);
            }
            ProxyConfig.Builder pb = ProxyConfig.builder().listen("127.0.0.1:0").trust(true)
                    .maxClients(maxClients + 50).maxIdlePerNode(maxClients + 10);
            if (args.length > 6) { // a pool mode and a pipeline depth
                pb.poolMode(dev.readsplit.proxy.PoolMode.parse(args[5])).pipelineDepth(Integer.parseInt(args[6]));
            }
            try (ProxyServer proxy = ProxyServer.start(ds, pb.build())) {
                System.out.println("port " + proxy.address().getPort());
                System.out.flush();
                java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                        StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null) { // until the parent closes our stdin (or dies)
                    if (line.equals("status")) {
                        System.out.println("status " + proxy.status().toJson() + " routes " + ds.routeCounts()
                                + " consistencyWaits " + ds.consistencyWaits() + " waitedMillis "
                                + TimeUnit.NANOSECONDS.toMillis(ds.consistencyWaitNanos()));
                        System.out.flush();
                    }
                }
            }
        }
    }

    /** A proxy in a child JVM: where it listens, and its status JSON, asked over its stdin and stdout. */
    record ProxyChild(Process process, java.io.BufferedReader out, int port) {
        String status() throws IOException {
            process.getOutputStream().write("status\n".getBytes(StandardCharsets.US_ASCII));
            process.getOutputStream().flush();
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("status ")) {
                    return line.substring(7);
                }
            }
            throw new IllegalStateException("the proxy ended before it answered a status request");
        }

        /** Its replay checks so far: sent, short; null when its build does not count them. */
        long[] replayChecks() throws IOException {
            Matcher m = REPLAY_CHECKS.matcher(status());
            return m.find() ? new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))} : null;
        }
    }

    private static final Pattern REPLAY_CHECKS = Pattern.compile(
            "\"replayChecks\":\\{\"sent\":(\\d+),\"short\":(\\d+)\\}");
    /** The proxy's status: client steps run on a worker thread (the rest ran on the event loop). */
    private static final Pattern WORKER_STEPS = Pattern.compile("\"workerSteps\":(\\d+)");

    /** A proxy of {@code classpath} in a child JVM; {@code poolModeAndDepth}: none (session pooling), or both. */
    private static ProxyChild serveChild(String classpath, String nodes, EmbeddedCluster cluster, int maxClients,
                                         List<Process> children, Path out, String... poolModeAndDepth)
            throws IOException {
        if (classpath == null || classpath.isBlank()) {
            throw new IllegalArgumentException("target baseline needs -Dproxybench.baseline.cp=CLASSPATH");
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-XX:+UseParallelGC"));
        String jfr = System.getProperty("proxybench.jfr");
        if (jfr != null) {
            // -Dproxybench.jfr=DIR: a JFR profile of each proxy JVM, kept in DIR (the work directory is deleted);
            // -Dproxybench.jfr.options=...: JFR's options instead of settings=profile, e.g. to add an event with
            // "settings=profile,+jdk.JavaExceptionThrow#enabled=true"
            cmd.add("-XX:StartFlightRecording=" + System.getProperty("proxybench.jfr.options", "settings=profile")
                    + ",filename=" + Path.of(jfr).toAbsolutePath().resolve(out.getFileName() + ".jfr"));
        }
        cmd.addAll(List.of("-cp", classpath, ProxyBenchmark.class.getName(), "serve", nodes, cluster.database(),
                cluster.user(), String.valueOf(maxClients)));
        cmd.addAll(List.of(poolModeAndDepth));
        Process p = new ProcessBuilder(cmd).redirectError(out.toFile()).start();
        children.add(p);
        java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8));
        String line;
        while ((line = r.readLine()) != null) {
            if (line.startsWith("port ")) {
                return new ProxyChild(p, r, Integer.parseInt(line.substring(5).trim()));
            }
        }
        throw new IllegalStateException("the proxy did not start: " + Files.readString(out));
    }

    // ---------------------------------------------------------------------------------------------
    // peers

    private static void startPeer(String name, Path work, EmbeddedCluster cluster, int maxClients, List<Process> peers,
                                  Map<String, Target> targets) throws IOException, InterruptedException {
        boolean bouncer = name.startsWith("pgbouncer");
        String binary = bouncer ? "/usr/sbin/pgbouncer" : "/usr/sbin/pgpool";
        if (!Files.isExecutable(Path.of(binary))) {
            System.out.println("skipped " + name + ": " + binary + " not installed (apt-get install "
                    + (bouncer ? "pgbouncer" : "pgpool2") + ")");
            return;
        }
        Path dir = Files.createDirectories(work.resolve(name));
        int port = freePort();
        List<String> cmd;
        String label;
        if (bouncer) {
            EmbeddedNode p = cluster.primary();
            Files.writeString(dir.resolve("userlist.txt"), "\"" + cluster.user() + "\" \"\"\n");
            Files.writeString(dir.resolve("pgbouncer.ini"), String.join("\n",
                    "[databases]",
                    cluster.database() + " = host=" + p.host() + " port=" + p.port() + " dbname=" + cluster.database(),
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    "listen_port = " + port,
                    "unix_socket_dir =",
                    "auth_type = trust",
                    "auth_file = " + dir.resolve("userlist.txt"),
                    "pool_mode = " + (name.equals("pgbouncer-tx") ? "transaction" : "session"),
                    "max_client_conn = " + (maxClients + 50),
                    "default_pool_size = " + (maxClients + 10),
                    "ignore_startup_parameters = extra_float_digits",
                    "logfile = " + dir.resolve("pgbouncer.log"),
                    "pidfile = " + dir.resolve("pgbouncer.pid"), ""));
            cmd = List.of(binary, dir.resolve("pgbouncer.ini").toString());
            label = name.equals("pgbouncer-tx") ? "PgBouncer (transaction pool, primary)"
                    : "PgBouncer (session pool, primary)";
        } else {
            List<String> conf = new ArrayList<>(List.of(
                    "backend_clustering_mode = 'streaming_replication'",
                    "listen_addresses = '127.0.0.1'",
                    "port = " + port,
                    "socket_dir = '" + dir + "'",
                    "pcp_listen_addresses = ''",
                    "pcp_port = " + freePort(),
                    "pcp_socket_dir = '" + dir + "'",
                    "wd_ipc_socket_dir = '" + dir + "'",
                    "num_init_children = " + (maxClients + 2),
                    "max_pool = 1",
                    "child_life_time = 0",
                    "connection_life_time = 0",
                    "client_idle_limit = 0",
                    "load_balance_mode = on",
                    "statement_level_load_balance = off",
                    "sr_check_period = 0",
                    "sr_check_user = '" + cluster.user() + "'",
                    "health_check_period = 0",
                    "health_check_user = '" + cluster.user() + "'",
                    "failover_on_backend_error = off",
                    "enable_pool_hba = off",
                    "pool_passwd = ''",
                    "memory_cache_enabled = off",
                    "ssl = off",
                    "log_destination = 'stderr'",
                    "logdir = '" + dir + "'",
                    "pid_file_name = '" + dir.resolve("pgpool.pid") + "'"));
            List<EmbeddedNode> nodes = cluster.nodes();
            for (int i = 0; i < nodes.size(); i++) {
                EmbeddedNode n = nodes.get(i);
                conf.add("backend_hostname" + i + " = '" + n.host() + "'");
                conf.add("backend_port" + i + " = " + n.port());
                conf.add("backend_weight" + i + " = " + (n == cluster.primary() ? 0 : 1)); // reads to the standbys
                conf.add("backend_flag" + i + " = 'DISALLOW_TO_FAILOVER'");
            }
            Files.writeString(dir.resolve("pgpool.conf"), String.join("\n", conf) + "\n");
            Files.writeString(dir.resolve("pcp.conf"), "");
            cmd = List.of(binary, "-n", "-f", dir.resolve("pgpool.conf").toString(), "-F",
                    dir.resolve("pcp.conf").toString());
            label = "pgpool-II (load balancing)";
        }
        List<String> full = new ArrayList<>();
        if (isRoot()) {
            run(List.of("chown", "-R", "nobody:nogroup", work.toString()), dir.resolve("chown.out"));
            full.addAll(List.of("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"));
        }
        full.addAll(cmd);
        Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(dir.resolve("stdout").toFile())
                .start();
        peers.add(p);
        targets.put(name, new Target(label, port, p.pid())); // setpriv execs the peer: the same pid
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                break;
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException(name + " did not start: "
                            + Files.readString(dir.resolve("stdout"), StandardCharsets.UTF_8));
                }
                MacroBenchmark.sleep(200);
            }
        }
        MacroBenchmark.sleep(1000);
    }

    private static boolean isRoot() {
        try {
            return Files.getOwner(Path.of("/proc/self")).getName().equals("root");
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String loadAverage() {
        try {
            String[] w = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return w[0] + " " + w[1] + " " + w[2];
        } catch (IOException e) {
            return "?";
        }
    }

    /** Runs {@code cmd} to completion (bounded: pgbench runs are bounded by -T), output to {@code out}. */
    static String run(List<String> cmd, Path out) throws IOException, InterruptedException {
        return run(cmd, out, null);
    }

    static String run(List<String> cmd, Path out, String pgoptions) throws IOException, InterruptedException {
        return finish(start(cmd, out, pgoptions), cmd, out);
    }

    private static Process start(List<String> cmd, Path out, String pgoptions) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        if (pgoptions != null) {
            pb.environment().put("PGOPTIONS", pgoptions);
        }
        return pb.start();
    }

    /** Waits for {@code p} (bounded), its output to {@code out}; fails naming {@code cmd} when it did not end well. */
    private static String finish(Process p, List<String> cmd, Path out) throws IOException, InterruptedException {
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + cmd);
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IllegalStateException(cmd + " exited " + p.exitValue() + ":\n" + text);
        }
        return text;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private ProxyBenchmark() {
    }
}

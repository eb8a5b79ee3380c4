package dev.readsplit.cli;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.admin.AdminOptions;
import dev.readsplit.admin.AdminServer;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.RouteReason;
import dev.readsplit.topology.NodeView;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The first thing a newcomer runs: a real local cluster (a primary and streaming standbys from the PostgreSQL
 * binaries on Maven Central), a {@link ReadsplitDataSource} on it, sessions reading and writing through it and
 * checking they read their own writes, a live view refreshed every second, optional faults, and a summary.
 *
 * <p>Threads: the command's thread starts everything, then samples and draws once a second; the sessions
 * ({@link DemoWorkload}) and the fault schedule ({@link DemoChaos}) have their own. SIGINT (Ctrl-C) and SIGTERM
 * run a shutdown hook that asks the command's thread to stop and waits for it to print the summary and close the
 * cluster; the JVM then exits with 128 + the signal's number (130, 143), as shells expect ({@link StopSignal}
 * only notes which signal it was, for the message).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Start a local PostgreSQL primary with streaming replicas, route a live read/write workload "
                + "through Readsplit, show per-node traffic, lag and health every second, and end with a summary.",
            "Exit code 1 if any read-your-writes violation or failed read happened.",
            "Ctrl-C (SIGINT) or SIGTERM stops it early: the summary is printed and the cluster stopped, then the "
                + "exit code is 130 (SIGINT) or 143 (SIGTERM)."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:the run ended with 0 read-your-writes violations and 0 failed reads",
            "1:a read-your-writes violation, a failed read or another error happened",
            "2:bad usage (nothing was started)",
            "3:unexpected failure",
            "130:stopped by SIGINT (Ctrl-C), after the summary",
            "143:stopped by SIGTERM, after the summary"})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--replicas", defaultValue = "2", paramLabel = "N",
            description = "Number of streaming replicas, 0..10 (default: ${DEFAULT-VALUE}).")
    int replicas;

    @Option(names = "--sessions", defaultValue = "8", paramLabel = "N",
            description = "Concurrent client sessions, 1..256 (default: ${DEFAULT-VALUE}).")
    int sessions;

    @Option(names = "--write-ratio", defaultValue = "0.1", paramLabel = "RATIO",
            description = "Share of requests that write, 0..1 (default: ${DEFAULT-VALUE}).")
    double writeRatio;

    @Option(names = "--duration", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "Stop after this long, 1s..30d (e.g. 30s, 5m); default: run until Ctrl-C or SIGTERM.")
    Duration duration;

    @Option(names = "--chaos", arity = "0..1", fallbackValue = "replica", defaultValue = "none", paramLabel = "KIND",
            description = "Inject faults: 'replica' (the default when given without a value) kills, restarts, "
                    + "pauses and resumes replicas on a schedule; 'primary' stops the primary and promotes a "
                    + "standby; 'none' (default).")
    String chaos;

    @Option(names = "--admin-port", defaultValue = "0", paramLabel = "PORT",
            description = "Port of the admin endpoint and dashboard on 127.0.0.1, 0..65535 (default 0: a free port,"
                    + " printed).")
    int adminPort;

    @Option(names = "--plain", description = "Print plain periodic lines instead of redrawing the screen "
            + "(automatic when the output is not a terminal).")
    boolean plain;

    @Option(names = "--json", description = "Print the summary as JSON on standard output (progress goes to "
            + "standard error).")
    boolean json;

    @Option(names = "--verbose", description = "Show the library's WARN log lines (hidden by default: the event "
            + "line shows what they say).")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static final int WIDTH = 80;

    @Override
    public Integer call() throws Exception {
        DemoChaos.Mode mode = validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter screen = json ? spec.commandLine().getErr() : out;
        boolean tty = !plain && !json && System.console() != null;
        Runnable restoreLogs = verbose ? () -> { } : quietLogs();
        screen.printf("Starting PostgreSQL: 1 primary + %d streaming %s (the first run unpacks the server"
                + " binaries) ...%n", replicas, replicas == 1 ? "replica" : "replicas");
        screen.flush();

        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        StopSignal signal = StopSignal.install();
        Thread hook = new Thread(() -> {
            stop.countDown();
            try {
                finished.await(60, TimeUnit.SECONDS); // let the summary print and the cluster close
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "readsplit-demo-ctrl-c");
        Runtime.getRuntime().addShutdownHook(hook);
        DemoEvents events = new DemoEvents();
        Summary summary;
        List<Long> pids = new ArrayList<>();
        Path directory;
        try {
            try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(replicas).start()) {
                directory = cluster.directory();
                cluster.nodes().forEach(n -> pids.add(n.pid()));
                try (ReadsplitDataSource ds = new ReadsplitDataSource(config(cluster))) {
                    ds.topology().addListener(e -> events.add(e.message()));
                    Dashboard dashboard = startDashboard(ds);
                    DemoWorkload workload = new DemoWorkload(ds, sessions, writeRatio, events);
                    CausalToken setup = workload.setUp();
                    Duration cycle = duration == null ? Duration.ofSeconds(40)
                            : duration.compareTo(Duration.ofSeconds(60)) > 0 ? Duration.ofSeconds(60) : duration;
                    DemoChaos faults = new DemoChaos(cluster, ds, mode, cycle, events);
                    Screen view = new Screen(screen, tty, ds, workload, events, header(mode), dashboard.url());
                    if (!tty) {
                        screen.printf("Running %d sessions (%.0f%% writes) on %s%s.%n", sessions, writeRatio * 100,
                                nodeList(cluster), duration == null ? ", Ctrl-C to stop"
                                        : " for " + duration.toSeconds() + " s");
                        if (dashboard.url() != null) {
                            screen.println("Dashboard: " + dashboard.url());
                        }
                        screen.flush();
                    }
                    long started = System.nanoTime();
                    events.startClock();
                    workload.start(setup);
                    faults.start();
                    long end = duration == null ? Long.MAX_VALUE : started + duration.toNanos();
                    try {
                        long remaining;
                        while ((remaining = (end - System.nanoTime()) / 1_000_000) > 0
                                && !stop.await(Math.min(1000, remaining), TimeUnit.MILLISECONDS)) {
                            view.draw(System.nanoTime() - started, duration);
                        }
                    } finally {
                        view.close();
                    }
                    // first, before anything else stops: on Ctrl-C the cluster's own shutdown hook is already
                    // stopping the servers, and what fails from now on is the shutdown, not Readsplit
                    workload.requestStop();
                    List<String> finalStates = ds.topology().nodes().stream().map(n -> n.state().name()).toList();
                    screen.println(stop.getCount() == 0 ? "Stopping (" + signal.describe() + ") ..."
                            : "Time is up; stopping ...");
                    screen.flush();
                    faults.stop();
                    for (EmbeddedNode n : cluster.nodes()) {
                        n.resume(); // a read blocked on a paused replica completes instead of hanging the stop
                    }
                    workload.stop(15_000);
                    long elapsed = System.nanoTime() - started;
                    workload.sample(); // the last interval into the cumulative histograms
                    summary = Summary.of(ds, workload, events, elapsed, this, mode, finalStates);
                    closeQuietly(dashboard);
                }
            }
            boolean left = Files.exists(directory)
                    || pids.stream().anyMatch(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false));
            summary = summary.withCleanShutdown(!left, directory);
            if (json) {
                out.print(Json.write(summary.toJson()));
            } else {
                summary.print(out);
            }
            out.flush();
            return summary.ok() ? ReadsplitCommand.EXIT_OK : ReadsplitCommand.EXIT_PROBLEM;
        } finally {
            restoreLogs.run();
            signal.uninstall();
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running
            }
        }
    }

    /** A running dashboard: its URL and how to stop it. */
    record Dashboard(String url, AutoCloseable server) {
    }

    /**
     * The admin endpoint with the live dashboard (readsplit-admin), on 127.0.0.1: {@code /} is the page,
     * {@code /replicas} the status JSON, {@code /metrics} Prometheus. Closed before the data source.
     */
    private Dashboard startDashboard(ReadsplitDataSource ds) {
        AdminServer admin = AdminServer.start(ds, AdminOptions.builder().port(adminPort).build());
        return new Dashboard(admin.uri().toString(), admin::close);
    }

    // ---------------------------------------------------------------------------------------------

    /** Every option's range, before anything starts (a bad --admin-port must not cost a cluster start). */
    private DemoChaos.Mode validate() {
        CommandLine cl = spec.commandLine();
        DurationConverter.checkRange(cl, "--replicas", replicas, 0, 10);
        DurationConverter.checkRange(cl, "--sessions", sessions, 1, 256);
        DurationConverter.checkRange(cl, "--admin-port", adminPort, 0, 65535);
        DurationConverter.checkRange(cl, "--duration", duration, Duration.ofSeconds(1), Duration.ofDays(30));
        if (!(writeRatio >= 0 && writeRatio <= 1)) {
            throw new CommandLine.ParameterException(cl, "--write-ratio must be between 0 and 1: " + writeRatio);
        }
        try {
            DemoChaos.Mode m = DemoChaos.Mode.valueOf(chaos.trim().toUpperCase(Locale.ROOT));
            if (m == DemoChaos.Mode.PRIMARY && replicas == 0) {
                throw new CommandLine.ParameterException(cl, "--chaos=primary needs at least one replica to promote");
            }
            return m;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl,
                    "--chaos must be one of replica, primary, none: '" + chaos + "'");
        }
    }

    private ReadsplitConfig config(EmbeddedCluster cluster) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder()
                .name("demo")
                .database(cluster.database())
                .user(cluster.user())
                // a web app's short wait for a connection: during a failover gap a write fails in 2 s
                // instead of holding its session for the default 5 s
                .connectionTimeout(Duration.ofSeconds(2))
                // and a bound on every statement's wait for the server: a read stuck on a hung (paused)
                // replica fails after 3 s with an I/O error and Readsplit retries it on another node,
                // instead of holding its session until the replica wakes up
                .jdbcProperty("socketTimeout", "3")
                .primaryPoolSize(sessions + 2)
                .replicaPoolSize(sessions + 2);
        if (cluster.password() != null) {
            b.password(cluster.password());
        }
        b.primary(node(cluster.primary()));
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(node(s));
        }
        return b.build();
    }

    private static NodeConfig node(EmbeddedNode n) {
        return NodeConfig.builder().name(n.name()).host(n.host()).port(n.port()).build();
    }

    private String header(DemoChaos.Mode mode) {
        return String.format(Locale.ROOT, "Readsplit demo: 1 primary + %s, %d sessions, %.0f%% writes,"
                + " chaos: %s", replicaCount(replicas), sessions, writeRatio * 100, mode.name().toLowerCase(Locale.ROOT));
    }

    private static String nodeList(EmbeddedCluster cluster) {
        StringBuilder sb = new StringBuilder();
        for (EmbeddedNode n : cluster.nodes()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(n.name()).append(" (").append(n.host()).append(':')
                    .append(n.port()).append(')');
        }
        return sb.toString();
    }

    /** Hides WARN lines (they would tear the live view; the event lines say the same); returns the undo. */
    private static Runnable quietLogs() {
        org.slf4j.Logger root = org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        java.util.logging.Logger pgjdbc = java.util.logging.Logger.getLogger("org.postgresql");
        java.util.logging.Level pgLevel = pgjdbc.getLevel();
        pgjdbc.setLevel(java.util.logging.Level.OFF);
        if (root instanceof ch.qos.logback.classic.Logger lb) {
            ch.qos.logback.classic.Level level = lb.getLevel();
            lb.setLevel(ch.qos.logback.classic.Level.ERROR);
            return () -> {
                lb.setLevel(level);
                pgjdbc.setLevel(pgLevel);
            };
        }
        return () -> pgjdbc.setLevel(pgLevel);
    }

    private static void closeQuietly(Dashboard d) {
        try {
            d.server().close();
        } catch (Exception ignored) {
            // the demo is ending anyway
        }
    }

    static String replicaCount(int n) {
        return n + (n == 1 ? " replica" : " replicas");
    }

    static String pct(long part, long whole) {
        return whole == 0 ? "-" : Math.round(100.0 * part / whole) + "%";
    }

    static String millis(double ms) {
        return ms < 0 ? "-" : ms < 10 ? String.format(Locale.ROOT, "%.1f ms", ms) : Math.round(ms) + " ms";
    }

    // ---------------------------------------------------------------------------------------------
    // the live view

    /** Draws the live view: redrawn in place on a terminal, one plain line per second otherwise. */
    static final class Screen {
        private final PrintWriter out;
        private final boolean tty;
        private final ReadsplitDataSource ds;
        private final DemoWorkload workload;
        private final DemoEvents events;
        private final String header;
        private final String dashboardUrl;
        private long eventsShown;
        private boolean first = true;

        Screen(PrintWriter out, boolean tty, ReadsplitDataSource ds, DemoWorkload workload, DemoEvents events,
               String header, String dashboardUrl) {
            this.out = out;
            this.tty = tty;
            this.ds = ds;
            this.workload = workload;
            this.events = events;
            this.header = header;
            this.dashboardUrl = dashboardUrl;
        }

        void draw(long elapsedNanos, Duration duration) {
            List<DemoWorkload.NodeSample> samples = workload.sample();
            if (tty) {
                drawFrame(samples, elapsedNanos, duration);
            } else {
                drawLine(samples, elapsedNanos, duration);
            }
            out.flush();
        }

        private void drawFrame(List<DemoWorkload.NodeSample> samples, long elapsedNanos, Duration duration) {
            List<String> lines = new ArrayList<>();
            lines.add(header);
            lines.add(dashboardUrl == null ? "" : "Dashboard: " + dashboardUrl);
            long intervalReads = samples.stream().mapToLong(DemoWorkload.NodeSample::intervalReads).sum();
            Table t = new Table("NODE", "ROLE", "STATE", "LAG", "READS/S", "SHARE", "WRITES/S", "P99 READ");
            for (DemoWorkload.NodeSample s : samples) {
                NodeView n = ds.topology().node(s.node());
                t.row(s.node(), role(n), n.state().name(), lag(n), Long.toString(Math.round(s.readsPerSecond())),
                        pct(s.intervalReads(), intervalReads),
                        s.writesPerSecond() == 0 ? "-" : Long.toString(Math.round(s.writesPerSecond())),
                        millis(s.p99Millis()));
            }
            java.io.StringWriter sw = new java.io.StringWriter();
            t.print(new PrintWriter(sw));
            lines.addAll(List.of(sw.toString().split("\n")));
            lines.add("");
            lines.add(String.format(Locale.ROOT, "writes %d (failed %d)   reads %d (failed %d)   RYW violations %d",
                    workload.writes.sum(), workload.failedWrites.sum(), workload.reads.sum(),
                    workload.failedReads.sum(), workload.rywViolations.sum()));
            lines.add(String.format(Locale.ROOT, "fallbacks %d   retries %d   consistency waits %d   errors %d",
                    fallbackCount(ds), ds.readRetries(), ds.consistencyWaits(), workload.errors.sum()));
            lines.add("");
            lines.add("Events:");
            List<DemoEvents.Event> recent = events.last(5);
            for (int i = 0; i < 5; i++) {
                lines.add(i < recent.size() ? "  " + recent.get(i).format() : "");
            }
            lines.add("");
            lines.add(progress(elapsedNanos, duration));
            StringBuilder sb = new StringBuilder();
            sb.append(first ? "\033[?25l\033[2J\033[H" : "\033[H");
            first = false;
            for (String l : lines) {
                sb.append(l.length() > WIDTH - 1 ? l.substring(0, WIDTH - 2) + "…" : l).append("\033[K\n");
            }
            sb.append("\033[J");
            out.print(sb);
        }

        private void drawLine(List<DemoWorkload.NodeSample> samples, long elapsedNanos, Duration duration) {
            for (DemoEvents.Event e : events.since(eventsShown)) {
                out.println("  event " + e.format());
            }
            eventsShown = events.count();
            long intervalReads = samples.stream().mapToLong(DemoWorkload.NodeSample::intervalReads).sum();
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "[%4ds] writes %d reads %d |",
                    elapsedNanos / 1_000_000_000L, workload.writes.sum(), workload.reads.sum()));
            for (DemoWorkload.NodeSample s : samples) {
                NodeView n = ds.topology().node(s.node());
                sb.append(' ').append(s.node()).append(' ').append(n.state()).append(' ')
                        .append(pct(s.intervalReads(), intervalReads));
                if (n != ds.topology().primary()) {
                    sb.append(" lag ").append(lag(n));
                }
                sb.append(" |");
            }
            sb.append(String.format(Locale.ROOT, " fallbacks %d retries %d ryw %d failed r/w %d/%d",
                    fallbackCount(ds), ds.readRetries(), workload.rywViolations.sum(), workload.failedReads.sum(),
                    workload.failedWrites.sum()));
            out.println(sb);
        }

        void close() {
            if (tty && !first) {
                out.print("\033[?25h");
                out.flush();
            }
            for (DemoEvents.Event e : tty ? List.<DemoEvents.Event>of() : events.since(eventsShown)) {
                out.println("  event " + e.format());
            }
            eventsShown = events.count();
        }

        private static String progress(long elapsedNanos, Duration duration) {
            long s = elapsedNanos / 1_000_000_000L;
            if (duration == null) {
                return "running " + s + " s   Ctrl-C stops and prints the summary";
            }
            double f = Math.min(1.0, (double) elapsedNanos / duration.toNanos());
            int bar = 40;
            int done = (int) Math.round(f * bar);
            return "[" + "#".repeat(done) + ".".repeat(bar - done) + "] " + s + " s / " + duration.toSeconds()
                    + " s   Ctrl-C stops early";
        }

        private String role(NodeView n) {
            if (n == ds.topology().primary()) {
                return "primary";
            }
            return n.role().name().toLowerCase(Locale.ROOT);
        }

        private String lag(NodeView n) {
            if (n == ds.topology().primary() || n.state() == dev.readsplit.topology.NodeState.DOWN) {
                return "-"; // a down node's last measurement would only mislead
            }
            long b = n.lagBytes();
            long ms = n.lagMillis();
            return (b < 0 ? "?" : CheckCommand.bytes(b)) + " / " + (ms < 0 ? "?" : ms + " ms");
        }
    }

    static long fallbackCount(ReadsplitDataSource ds) {
        Map<RouteReason, Long> c = ds.routeCounts();
        return c.getOrDefault(RouteReason.NO_REPLICA_FALLBACK, 0L) + c.getOrDefault(RouteReason.TOKEN_NOT_REPLAYED, 0L)
                + c.getOrDefault(RouteReason.LAG, 0L);
    }

    // ---------------------------------------------------------------------------------------------
    // the summary

    record NodeSummary(String name, String role, String state, long reads, long writes, double p50, double p99,
                       double max) {
    }

    record Summary(double seconds, int replicas, int sessions, double writeRatio, String chaos,
                   List<NodeSummary> nodes, long writes, long failedWrites, long reads, long failedReads,
                   long fallbacks, Map<RouteReason, Long> routes, long retries, long misroutes, long consistencyWaits,
                   long rywViolations, long errors, List<DemoEvents.Event> events, boolean clean, String directory) {

        static Summary of(ReadsplitDataSource ds, DemoWorkload w, DemoEvents events, long elapsedNanos,
                          DemoCommand cmd, DemoChaos.Mode mode, List<String> states) {
            List<NodeSummary> nodes = new ArrayList<>();
            List<NodeView> all = ds.topology().nodes();
            for (int i = 0; i < all.size(); i++) {
                NodeView n = all.get(i);
                DemoWorkload.NodeStats st = w.stats(n.name());
                Histogram h = st.totalReadLatency;
                boolean any = h.getTotalCount() > 0;
                nodes.add(new NodeSummary(n.name(),
                        n == ds.topology().primary() ? "primary" : n.role().name().toLowerCase(Locale.ROOT),
                        i < states.size() ? states.get(i) : n.state().name(), st.reads.sum(), st.writes.sum(),
                        any ? h.getValueAtPercentile(50) / 1000.0 : -1, any ? h.getValueAtPercentile(99) / 1000.0 : -1,
                        any ? h.getMaxValue() / 1000.0 : -1));
            }
            return new Summary(elapsedNanos / 1e9, cmd.replicas, cmd.sessions, cmd.writeRatio,
                    mode.name().toLowerCase(Locale.ROOT), nodes, w.writes.sum(), w.failedWrites.sum(), w.reads.sum(),
                    w.failedReads.sum(), fallbackCount(ds), ds.routeCounts(), ds.readRetries(), ds.misroutes(),
                    ds.consistencyWaits(), w.rywViolations.sum(), w.errors.sum(), events.all(), false, null);
        }

        Summary withCleanShutdown(boolean clean, Path dir) {
            return new Summary(seconds, replicas, sessions, writeRatio, chaos, nodes, writes, failedWrites, reads,
                    failedReads, fallbacks, routes, retries, misroutes, consistencyWaits, rywViolations, errors,
                    events, clean, dir.toString());
        }

        boolean ok() {
            return rywViolations == 0 && failedReads == 0 && errors == 0;
        }

        void print(PrintWriter out) {
            out.println();
            out.printf(Locale.ROOT, "Summary: %.0f s, 1 primary + %s, %d sessions, %.0f%% writes, chaos: %s%n%n",
                    seconds, replicaCount(replicas), sessions, writeRatio * 100, chaos);
            Table t = new Table("NODE", "ROLE", "STATE", "READS", "SHARE", "WRITES", "READ P50", "READ P99",
                    "READ MAX");
            for (NodeSummary n : nodes) {
                t.row(n.name, n.role, n.state, Long.toString(n.reads), pct(n.reads, reads), Long.toString(n.writes),
                        millis(n.p50), millis(n.p99), millis(n.max));
            }
            t.print(out);
            out.println();
            Table totals = new Table("TOTAL", "COUNT");
            totals.row("reads", Long.toString(reads));
            totals.row("writes", Long.toString(writes));
            totals.row("fallbacks to the primary", Long.toString(fallbacks) + fallbackDetail());
            totals.row("read retries", Long.toString(retries));
            totals.row("misroutes (25006)", Long.toString(misroutes));
            totals.row("consistency waits", Long.toString(consistencyWaits));
            totals.row("read-your-writes violations", rywViolations + " (expected 0)");
            totals.row("failed reads", failedReads + " (expected 0)");
            totals.row("failed writes", failedWrites + (chaos.equals("primary") ? " (during the failover gap)" : ""));
            totals.row("other errors", Long.toString(errors));
            totals.print(out);
            out.println();
            out.println(clean ? "Cluster stopped: no server process or directory left behind."
                    : "WARNING: something was left behind under " + directory);
            out.println(ok() ? "OK: 0 read-your-writes violations, 0 failed reads."
                    : "PROBLEM: " + rywViolations + " read-your-writes violations, " + failedReads
                    + " failed reads, " + errors + " other errors (see the events above).");
        }

        private String fallbackDetail() {
            StringBuilder sb = new StringBuilder();
            for (RouteReason r : List.of(RouteReason.TOKEN_NOT_REPLAYED, RouteReason.NO_REPLICA_FALLBACK, RouteReason.LAG)) {
                long n = routes.getOrDefault(r, 0L);
                if (n > 0) {
                    sb.append(sb.length() == 0 ? " (" : ", ").append(r).append(' ').append(n);
                }
            }
            return sb.length() == 0 ? "" : sb.append(')').toString();
        }

        Map<String, Object> toJson() {
            Map<String, Object> o = Json.object();
            o.put("ok", ok());
            o.put("seconds", seconds);
            o.put("replicas", replicas);
            o.put("sessions", sessions);
            o.put("writeRatio", writeRatio);
            o.put("chaos", chaos);
            List<Object> ns = Json.array();
            for (NodeSummary n : nodes) {
                Map<String, Object> x = Json.object();
                x.put("name", n.name);
                x.put("role", n.role);
                x.put("state", n.state);
                x.put("reads", n.reads);
                x.put("writes", n.writes);
                x.put("readP50Millis", n.p50 < 0 ? null : n.p50);
                x.put("readP99Millis", n.p99 < 0 ? null : n.p99);
                x.put("readMaxMillis", n.max < 0 ? null : n.max);
                ns.add(x);
            }
            o.put("nodes", ns);
            o.put("reads", reads);
            o.put("writes", writes);
            o.put("fallbacks", fallbacks);
            Map<String, Object> r = Json.object();
            routes.forEach((k, v) -> r.put(k.name(), v));
            o.put("routes", r);
            o.put("readRetries", retries);
            o.put("misroutes", misroutes);
            o.put("consistencyWaits", consistencyWaits);
            o.put("rywViolations", rywViolations);
            o.put("failedReads", failedReads);
            o.put("failedWrites", failedWrites);
            o.put("errors", errors);
            o.put("cleanShutdown", clean);
            List<Object> ev = Json.array();
            for (DemoEvents.Event e : events) {
                Map<String, Object> x = Json.object();
                x.put("atMillis", e.offsetMillis());
                x.put("text", e.text());
                ev.add(x);
            }
            o.put("events", ev);
            return o;
        }
    }
}

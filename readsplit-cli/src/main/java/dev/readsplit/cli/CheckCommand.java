package dev.readsplit.cli;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Connects to every configured node of a real cluster and reports what each one is (observed with
 * {@code pg_is_in_recovery()}), how it answers, how far behind it is, how replication looks from the primary,
 * and where the configuration disagrees with reality. Exit code 1 when the cluster is not fit to serve.
 *
 * <p>Each node is probed on its own thread with pgjdbc connect/login/socket timeouts, and the wait for each
 * probe is bounded again here, so a hung (paused) node costs at most about two timeouts, never a hang.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Connect to a cluster and show its topology as Readsplit sees it: each node's observed role, "
                + "reachability, response time, lag and replication state, and any configuration mismatch.",
            "Configuration: --url, else --config, else the environment (DB_HOST, DB_REPLICAS, DATABASE_URL, ...).",
            "Exit code 1 when the cluster is not fit to serve (primary unreachable or not a primary, "
                + "a replica unreachable, not a replica or not streaming from the configured primary)."})
final class CheckCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions source = new ConfigOptions();

    @Option(names = "--timeout", defaultValue = "5s", converter = DurationConverter.class, paramLabel = "DURATION",
            description = "Connect and query timeout per node, 1s..1h (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @ParentCommand
    ReadsplitCommand parent;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        // before anything is read or connected: a value that parses but makes no sense is a usage error
        DurationConverter.checkRange(spec.commandLine(), "--timeout", timeout, Duration.ofSeconds(1), Duration.ofHours(1));
        ReadsplitConfig config = source.load(parent.env());
        List<NodeConfig> nodes = new ArrayList<>();
        nodes.add(config.primary());
        nodes.addAll(config.replicas());
        List<NodeProbe.Result> results = probeAll(nodes);
        boolean patroni = config.topology().source() == dev.readsplit.config.TopologySource.PATRONI;
        dev.readsplit.topology.PatroniClient.View view = null;
        String patroniError = null;
        if (patroni) {
            try {
                view = new dev.readsplit.topology.PatroniClient(config.topology().patroniUrls(), timeout).fetch();
            } catch (java.io.IOException e) {
                patroniError = e.getMessage();
            }
        }
        Report report = patroni ? analyse(config, results, view, patroniError) : analyse(config, results);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.print(Json.write(report.toJson(source.describe())));
        } else {
            report.print(out, source.describe());
            if (patroni) {
                out.println();
                if (view == null) {
                    out.println("Patroni's view: not available (" + patroniError + ")");
                } else {
                    printPatroni(out, view, results);
                }
            }
        }
        out.flush();
        return report.problems.isEmpty() ? ReadsplitCommand.EXIT_OK : ReadsplitCommand.EXIT_PROBLEM;
    }

    /**
     * Patroni's view ({@code GET /cluster}) next to Readsplit's: each member, what Patroni says of it, the configured
     * node at its address and what that node says of itself. A disagreement is marked (Readsplit gives such a node no
     * writes).
     */
    static void printPatroni(PrintWriter out, dev.readsplit.topology.PatroniClient.View view,
                             List<NodeProbe.Result> results) {
        out.println("Patroni's view (GET " + view.source() + "/cluster) next to Readsplit's:");
        Table t = new Table("MEMBER", "PATRONI", "NODE", "OBSERVED", "");
        for (dev.readsplit.topology.PatroniClient.Member m : view.members()) {
            NodeProbe.Result r = configuredAt(m, results);
            String observed = r == null ? "-" : !r.reachable() ? "unreachable"
                    : Boolean.TRUE.equals(r.inRecovery()) ? "standby" : "primary";
            boolean disagrees = r != null && r.reachable() && m.isLeader() == Boolean.TRUE.equals(r.inRecovery());
            t.row(m.name(), m.describe(), r == null ? "(not configured)" : r.node().name(), observed,
                    disagrees ? "DISAGREES: no writes to it" : "");
        }
        t.print(out);
    }

    /** The configured node at a Patroni member's PostgreSQL address (loopback names count as one), or null. */
    private static NodeProbe.Result configuredAt(dev.readsplit.topology.PatroniClient.Member m,
                                                 List<NodeProbe.Result> results) {
        return results.stream().filter(x -> x.node().port() == m.port() && x.node().host() != null
                        && (x.node().host().equalsIgnoreCase(m.host()) || (isLocal(x.node().host()) && isLocal(m.host()))))
                .findFirst().orElse(null);
    }

    private static boolean isLocal(String host) {
        return host != null && (host.equalsIgnoreCase("localhost") || host.startsWith("127.") || host.equals("::1"));
    }

    private List<NodeProbe.Result> probeAll(List<NodeConfig> nodes) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(nodes.size(), r -> {
            Thread t = new Thread(r, "readsplit-check-probe");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<NodeProbe.Result>> futures = new ArrayList<>();
            for (NodeConfig n : nodes) {
                futures.add(pool.submit(() -> n.isPostgres() ? NodeProbe.probe(n, timeout)
                        : NodeProbe.Result.unreachable(n, "not a PostgreSQL node: nothing to check")));
            }
            // every probe has its own driver timeouts; this bound is the backstop (connect + login + queries)
            long deadline = System.nanoTime() + timeout.multipliedBy(3).plusSeconds(2).toNanos();
            List<NodeProbe.Result> results = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                try {
                    results.add(futures.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
                } catch (TimeoutException e) {
                    futures.get(i).cancel(true);
                    results.add(NodeProbe.Result.unreachable(nodes.get(i), "no answer within "
                            + timeout.multipliedBy(3).plusSeconds(2).toSeconds() + " s (hung?)"));
                } catch (ExecutionException e) {
                    results.add(NodeProbe.Result.unreachable(nodes.get(i),
                            NodeProbe.scrub(nodes.get(i), String.valueOf(e.getCause()))));
                }
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // analysis

    /** The static configuration judged against the servers: its primary must be the writable node. */
    static Report analyse(ReadsplitConfig config, List<NodeProbe.Result> results) {
        return analyse(config, results, 0, "configured primary", new ArrayList<>());
    }

    /**
     * With {@code topologySource=patroni}: Readsplit writes to Patroni's leader, not to the configuration's primary
     * (which only seeds the topology), so the leader is judged as the primary and every other configured node as a
     * replica streaming from it. A configuration whose primary is a replica now is a note, not a problem. When Patroni
     * does not answer, Readsplit follows the servers' own answers: so does this check (with a note).
     *
     * @param view  Patroni's {@code /cluster}, or null when no Patroni URL answered
     * @param error why no Patroni URL answered (when {@code view} is null)
     */
    static Report analyse(ReadsplitConfig config, List<NodeProbe.Result> results,
                          dev.readsplit.topology.PatroniClient.View view, String error) {
        List<String> notes = new ArrayList<>();
        if (view == null) {
            notes.add("Patroni's REST API did not answer (" + error + "): Readsplit follows the servers' own answers"
                    + " until it does, and so does this check");
            return analyse(config, results, 0, "configured primary", notes);
        }
        dev.readsplit.topology.PatroniClient.Member leader = view.leader();
        if (leader == null) {
            Report r = analyse(config, results, 0, "configured primary", notes);
            r.problems().add(0, "Patroni names no leader: Readsplit holds writes until it does (docs/failover.md)");
            return r;
        }
        NodeProbe.Result target = configuredAt(leader, results);
        if (target == null) {
            Report r = analyse(config, results, 0, "configured primary", notes);
            r.problems().add(0, "Patroni's leader " + leader.name() + " (" + leader.host() + ":" + leader.port()
                    + ") is not a configured node: Readsplit has no node to write to (add it to the configuration)");
            return r;
        }
        int index = results.indexOf(target);
        if (index != 0) {
            notes.add("the configuration names " + label(results.get(0).node()) + " as its primary, but Patroni's leader"
                    + " is " + leader.name() + " at " + label(target.node()) + ": Readsplit writes there (the configured"
                    + " primary only seeds the topology; update it when convenient)");
        }
        return analyse(config, results, index, "Patroni's leader", notes);
    }

    /**
     * @param primaryIndex the node that should be the writable primary ({@code results} index)
     * @param primaryRole  how that node is named in a problem ("configured primary", "Patroni's leader")
     */
    private static Report analyse(ReadsplitConfig config, List<NodeProbe.Result> results, int primaryIndex,
                                  String primaryRole, List<String> notes) {
        NodeProbe.Result primary = results.get(primaryIndex);
        List<String> problems = new ArrayList<>();
        NodeConfig p = primary.node();
        if (!primary.reachable()) {
            problems.add((primaryIndex == 0 ? "primary " : primaryRole + " ") + label(p) + " is unreachable: "
                    + primary.error());
        } else if (Boolean.TRUE.equals(primary.inRecovery())) {
            problems.add(primaryRole + " " + label(p) + " is a standby (pg_is_in_recovery() = true): "
                    + "writes would fail");
        }
        boolean primaryOk = primary.reachable() && Boolean.FALSE.equals(primary.inRecovery());
        for (NodeProbe.Result r : results) {
            if (r == primary) {
                continue;
            }
            NodeConfig n = r.node();
            String who = (results.indexOf(r) == 0 ? "configured primary " : "replica ") + label(n);
            if (!r.reachable()) {
                problems.add(who + " is unreachable: " + r.error());
                continue;
            }
            if (Boolean.FALSE.equals(r.inRecovery())) {
                problems.add(who + " is actually a primary (pg_is_in_recovery() = false): "
                        + "reads there would see another history; writes could be split");
                continue;
            }
            if (primaryOk && primary.systemIdentifier() != null && r.systemIdentifier() != null
                    && !primary.systemIdentifier().equals(r.systemIdentifier())) {
                problems.add(who + " belongs to another cluster (system identifier "
                        + Long.toUnsignedString(r.systemIdentifier()) + ", primary's "
                        + Long.toUnsignedString(primary.systemIdentifier()) + ")");
                continue;
            }
            if (r.receiverStatus() == null) {
                problems.add(who + " is not streaming: no WAL receiver is running (pg_stat_wal_receiver is empty)");
                continue;
            }
            if (!"streaming".equals(r.receiverStatus())) {
                problems.add(who + " is not streaming: its WAL receiver is " + r.receiverStatus());
                continue;
            }
            if (r.senderHost() == null || r.senderPort() == null) {
                notes.add(who + ": cannot see which server it streams from (sender_host needs pg_read_all_stats)");
                continue;
            }
            if (!p.isPostgres() || !sameHost(r.senderHost(), p.host()) || r.senderPort() != p.port()) {
                problems.add(who + " streams from " + r.senderHost() + ":" + r.senderPort()
                        + ", not from " + (primaryRole.startsWith("configured") ? "the " : "") + primaryRole + " "
                        + label(p));
            }
        }
        return new Report(config, results, primaryIndex, problems, notes);
    }

    /** The node's name, with its address when the name is not already {@code host:port}. */
    static String label(NodeConfig n) {
        return n.name().equals(address(n)) ? n.name() : n.name() + " (" + address(n) + ")";
    }

    static String address(NodeConfig n) {
        return n.host() != null ? n.host() + ":" + n.port() : n.url();
    }

    /** Same host: same text, both loopback, or a common resolved address (a Unix socket path only by text). */
    static boolean sameHost(String a, String b) {
        if (a.equalsIgnoreCase(b)) {
            return true;
        }
        if (a.startsWith("/") || b.startsWith("/")) {
            return false;
        }
        try {
            InetAddress[] x = InetAddress.getAllByName(a);
            InetAddress[] y = InetAddress.getAllByName(b);
            boolean xLoop = Arrays.stream(x).allMatch(InetAddress::isLoopbackAddress);
            boolean yLoop = Arrays.stream(y).allMatch(InetAddress::isLoopbackAddress);
            if (xLoop && yLoop) {
                return true;
            }
            Set<InetAddress> xs = new HashSet<>(Arrays.asList(x));
            return Arrays.stream(y).anyMatch(xs::contains);
        } catch (UnknownHostException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // output

    /** @param primaryIndex the node judged as the writable primary (the configured one, or Patroni's leader) */
    record Report(ReadsplitConfig config, List<NodeProbe.Result> results, int primaryIndex, List<String> problems,
                  List<String> notes) {

        long primaryLsn() {
            NodeProbe.Result p = results.get(primaryIndex);
            return p.reachable() && Boolean.FALSE.equals(p.inRecovery()) && p.walLsn() != null ? p.walLsn() : -1;
        }

        Long lagBytes(NodeProbe.Result r) {
            long p = primaryLsn();
            if (r == results.get(primaryIndex) || !r.reachable() || !Boolean.TRUE.equals(r.inRecovery()) || p < 0) {
                return null;
            }
            return Math.max(0, p - r.walLsn());
        }

        void print(PrintWriter out, String source) {
            int count = config.replicas().size();
            out.printf("Cluster %s: 1 primary + %d %s configured (from %s)%n%n", config.name(), count,
                    count == 1 ? "replica" : "replicas", source);
            // nodes are named host:port unless the configuration names them: then show both
            boolean named = results.stream().anyMatch(r -> !r.node().name().equals(address(r.node())));
            Table t = new Table("NODE", named ? "ADDRESS" : "", "CONFIGURED", "OBSERVED", "REACHABLE", "RESPONSE",
                    "LAG", "REPLICATION");
            for (int i = 0; i < results.size(); i++) {
                NodeProbe.Result r = results.get(i);
                t.row(r.node().name(), named ? address(r.node()) : "", i == 0 ? "primary" : "replica",
                        !r.reachable() ? "-" : r.inRecovery() ? "replica" : "primary",
                        r.reachable() ? "yes" : "NO",
                        r.responseMillis() == null ? "-" : String.format(Locale.ROOT, "%.1f ms", r.responseMillis()),
                        lag(r), replication(r));
            }
            t.print(out);
            NodeProbe.Result p = results.get(primaryIndex);
            if (p.reachable() && Boolean.FALSE.equals(p.inRecovery())) {
                out.println();
                out.println("Replication as " + p.node().name() + " sees it (pg_stat_replication):");
                if (p.replication().isEmpty()) {
                    out.println("  (no standby connected)");
                } else {
                    Table rt = new Table("APPLICATION", "CLIENT", "STATE", "SYNC", "REPLAY LAG");
                    for (NodeProbe.Replication row : p.replication()) {
                        rt.row(row.applicationName(), row.clientAddr() == null ? "(local)"
                                        : row.clientAddr() + ":" + row.clientPort(), row.state(), row.syncState(),
                                bytes(row.replayLagBytes()) + " / " + ms(row.replayLagMillis()));
                    }
                    rt.print(out);
                }
            }
            out.println();
            for (String n : notes) {
                out.println("note: " + n);
            }
            if (problems.isEmpty()) {
                out.println("OK: fit to serve (primary is writable, every replica streams from it).");
            } else {
                out.println("Problems (" + problems.size() + "):");
                for (String s : problems) {
                    out.println("  - " + s);
                }
                out.println("NOT FIT to serve.");
            }
        }

        private String lag(NodeProbe.Result r) {
            if (!r.reachable() || !Boolean.TRUE.equals(r.inRecovery())) {
                return "-";
            }
            Long b = lagBytes(r);
            return (b == null ? "?" : bytes(b)) + " / " + ms(r.lagMillis());
        }

        private static String replication(NodeProbe.Result r) {
            if (!r.reachable()) {
                return r.error().length() > 40 ? r.error().substring(0, 37) + "..." : r.error();
            }
            if (!r.inRecovery()) {
                int n = r.replication().size();
                long streaming = r.replication().stream().filter(x -> "streaming".equals(x.state())).count();
                return n + (n == 1 ? " standby" : " standbys") + " attached, " + streaming + " streaming";
            }
            if (r.receiverStatus() == null) {
                return "no WAL receiver";
            }
            return r.receiverStatus() + (r.senderHost() == null ? "" : " from " + r.senderHost() + ":" + r.senderPort());
        }

        Map<String, Object> toJson(String source) {
            Map<String, Object> o = Json.object();
            o.put("cluster", config.name());
            o.put("source", source);
            o.put("fit", problems.isEmpty());
            o.put("writeTarget", results.get(primaryIndex).node().name());
            List<Object> nodes = Json.array();
            for (int i = 0; i < results.size(); i++) {
                NodeProbe.Result r = results.get(i);
                Map<String, Object> n = Json.object();
                n.put("name", r.node().name());
                n.put("address", address(r.node()));
                n.put("configuredRole", i == 0 ? "primary" : "replica");
                n.put("observedRole", !r.reachable() ? null : r.inRecovery() ? "replica" : "primary");
                n.put("reachable", r.reachable());
                n.put("error", r.error());
                n.put("connectMillis", r.connectMillis());
                n.put("responseMillis", r.responseMillis());
                n.put("serverVersion", r.serverVersion());
                n.put("lagBytes", lagBytes(r));
                n.put("lagMillis", r.lagMillis());
                n.put("walReceiverStatus", r.receiverStatus());
                n.put("senderHost", r.senderHost());
                n.put("senderPort", r.senderPort());
                if (r.reachable() && !r.inRecovery()) {
                    List<Object> rows = Json.array();
                    for (NodeProbe.Replication row : r.replication()) {
                        Map<String, Object> x = Json.object();
                        x.put("applicationName", row.applicationName());
                        x.put("clientAddr", row.clientAddr());
                        x.put("clientPort", row.clientPort());
                        x.put("state", row.state());
                        x.put("syncState", row.syncState());
                        x.put("replayLagBytes", row.replayLagBytes());
                        x.put("replayLagMillis", row.replayLagMillis());
                        rows.add(x);
                    }
                    n.put("replication", rows);
                }
                nodes.add(n);
            }
            o.put("nodes", nodes);
            o.put("problems", List.copyOf(problems));
            o.put("notes", List.copyOf(notes));
            return o;
        }
    }

    static String bytes(Long b) {
        if (b == null || b < 0) {
            return "?";
        }
        if (b < 10_000) {
            return b + " B";
        }
        if (b < 10_000_000) {
            return (b / 1024) + " kB";
        }
        return (b / (1024 * 1024)) + " MB";
    }

    static String ms(Long m) {
        return m == null || m < 0 ? "?" : m + " ms";
    }
}

package dev.readsplit.cli;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.embedded.StandbyStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts a real local cluster (a primary and streaming standbys from the PostgreSQL binaries on Maven
 * Central) and shows its nodes and replication state until Ctrl-C or {@code --duration}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start a local PostgreSQL primary with streaming replicas and show their replication state.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--replicas", defaultValue = "2", description = "Number of streaming replicas (default: ${DEFAULT-VALUE}).")
    int replicas;

    @Option(names = "--duration", description = "Stop after this long (e.g. 30s, 5m); default: run until Ctrl-C.",
            converter = DurationConverter.class)
    Duration duration;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (replicas < 0 || replicas > 10) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--replicas must be between 0 and 10: " + replicas);
        }
        out.printf("Starting PostgreSQL: 1 primary + %d streaming replicas ...%n", replicas);
        out.flush();
        CountDownLatch stop = new CountDownLatch(1);
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(replicas).start()) {
            Thread hook = new Thread(stop::countDown, "readsplit-demo-ctrl-c");
            Runtime.getRuntime().addShutdownHook(hook);
            printNodes(out, cluster);
            long end = duration == null ? Long.MAX_VALUE : System.nanoTime() + duration.toNanos();
            out.println(duration == null ? "Press Ctrl-C to stop." : "Running for " + duration.toSeconds() + " s.");
            out.flush();
            while (System.nanoTime() < end && !stop.await(Math.min(5_000, Math.max(1, (end - System.nanoTime()) / 1_000_000)), TimeUnit.MILLISECONDS)) {
                printReplication(out, cluster.standbyStatus());
            }
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook already ran
            }
            out.println("Stopping the cluster ...");
            out.flush();
        }
        out.println("Stopped; no server or directory left behind.");
        out.flush();
        return ReadsplitCommand.EXIT_OK;
    }

    private static void printNodes(PrintWriter out, EmbeddedCluster cluster) {
        Table t = new Table("NODE", "ROLE", "ADDRESS", "JDBC URL");
        for (EmbeddedNode n : cluster.nodes()) {
            t.row(n.name(), n.role().name().toLowerCase(java.util.Locale.ROOT), n.host() + ":" + n.port(), n.jdbcUrl());
        }
        t.print(out);
        printReplication(out, cluster.standbyStatus());
    }

    private static void printReplication(PrintWriter out, List<StandbyStatus> rows) {
        Table t = new Table("STANDBY", "STATE", "SYNC", "REPLAY LAG (bytes)");
        for (StandbyStatus s : rows) {
            t.row(s.name(), s.state(), s.syncState(), Long.toString(s.replayLagBytes()));
        }
        out.println();
        out.println("Replication as the primary sees it (pg_stat_replication):");
        t.print(out);
        out.flush();
    }
}

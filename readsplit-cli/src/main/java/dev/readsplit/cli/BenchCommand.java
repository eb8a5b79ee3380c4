package dev.readsplit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code readsplit bench}: the macro benchmark of {@code readsplit-bench} ({@code MacroBenchmark}), run in
 * this JVM. Every option is passed through unchanged ({@code readsplit bench --help} lists them).
 */
@Command(name = "bench",
        description = {"Runs Readsplit side by side with hand-routed pools and its peers (ShardingSphere-JDBC,"
                + " pgjdbc multi-host, AWS JDBC wrapper) on an embedded primary and two replicas.",
                "Options are MacroBenchmark's: --quick, --rounds N, --seconds S, --warmup S, --threads N, --rows N,"
                        + " --setups a,b, --workloads a,b, --json FILE, --markdown FILE, --help."},
        mixinStandardHelpOptions = false)
public final class BenchCommand implements Callable<Integer> {

    /** Everything after {@code bench}, in order, options and their values alike. */
    @CommandLine.Unmatched
    List<String> args = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
        return dev.readsplit.bench.MacroBenchmark.execute(args.toArray(new String[0]));
    }
}

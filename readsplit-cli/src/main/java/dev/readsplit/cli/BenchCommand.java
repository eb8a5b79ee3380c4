package dev.readsplit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code readsplit bench}: the macro benchmark of {@code readsplit-bench} ({@code MacroBenchmark}). Its peers
 * (ShardingSphere-JDBC, the AWS JDBC wrapper) live in readsplit-bench's own jar, {@code benchmarks.jar}, not in
 * this one; this command runs it in a child JVM ({@code java -cp benchmarks.jar dev.readsplit.bench.MacroBenchmark
 * ...}), found at {@code --bench-jar}, {@code $READSPLIT_BENCH_JAR}, or {@code readsplit-bench/target/} of the
 * source tree this jar was built in. Every other option is passed through unchanged.
 */
@Command(name = "bench",
        description = {"Runs Readsplit side by side with hand-routed pools and its peers (ShardingSphere-JDBC,"
                + " pgjdbc multi-host, AWS JDBC wrapper) on an embedded primary and two replicas, from"
                + " readsplit-bench's benchmarks.jar (the peers are not in this jar).",
                "Options are MacroBenchmark's: --quick, --rounds N, --seconds S, --warmup S, --threads N, --rows N,"
                        + " --setups a,b, --workloads a,b, --json FILE, --markdown FILE, --help."},
        mixinStandardHelpOptions = false)
public final class BenchCommand implements Callable<Integer> {

    static final String MAIN = "dev.readsplit.bench.MacroBenchmark";

    @CommandLine.Option(names = "--bench-jar", paramLabel = "FILE",
            description = "readsplit-bench's benchmarks.jar (default: $READSPLIT_BENCH_JAR, else"
                    + " readsplit-bench/target/benchmarks.jar of the source tree)")
    Path benchJar;

    /** Everything after {@code bench} but {@code --bench-jar}, in order, options and their values alike. */
    @CommandLine.Unmatched
    List<String> args = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.ParentCommand
    ReadsplitCommand parent;

    @Override
    public Integer call() throws Exception {
        Path jar = locate(benchJar, parent == null ? System.getenv() : parent.env(), ownJar());
        if (jar == null) {
            spec.commandLine().getErr().println("readsplit bench: the benchmark and its peers are in readsplit-bench's"
                    + " own jar, which was not found. Build it (mvn -B -pl readsplit-bench -am package -DskipTests)"
                    + " and run\n  java -cp readsplit-bench/target/benchmarks.jar " + MAIN + " " + String.join(" ", args)
                    + "\nor give it here: readsplit bench --bench-jar readsplit-bench/target/benchmarks.jar ...");
            return 2;
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(jar.toString());
        command.add(MAIN);
        command.addAll(args);
        Process p = new ProcessBuilder(command).inheritIO().start();
        return p.waitFor();
    }

    /** The benchmark jar: the option, else the variable, else the source tree's build output next to this jar. */
    static Path locate(Path option, Map<String, String> env, Path ownJar) {
        if (option != null) {
            return Files.isRegularFile(option) ? option : null;
        }
        String fromEnv = env.get("READSPLIT_BENCH_JAR");
        if (fromEnv != null && !fromEnv.isBlank()) {
            Path p = Path.of(fromEnv);
            return Files.isRegularFile(p) ? p : null;
        }
        if (ownJar != null && ownJar.getParent() != null && ownJar.getParent().getParent() != null) {
            // readsplit-cli/target/readsplit.jar -> readsplit-bench/target/benchmarks.jar
            Path p = ownJar.getParent().getParent().resolveSibling("readsplit-bench").resolve("target")
                    .resolve("benchmarks.jar");
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static Path ownJar() {
        try {
            var source = BenchCommand.class.getProtectionDomain().getCodeSource();
            return source == null ? null : Path.of(source.getLocation().toURI());
        } catch (Exception e) {
            return null;
        }
    }
}

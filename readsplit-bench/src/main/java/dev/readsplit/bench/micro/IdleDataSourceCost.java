package dev.readsplit.bench.micro;

import dev.readsplit.Consistency;
import dev.readsplit.bench.CpuMeter;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.jdbc.ReadsplitDataSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;

/**
 * What an idle data source's hedge scanner costs: a data source on the stub driver runs one statement, then sits
 * idle for {@code SECONDS} (default 20); prints the scanner thread's wake-ups (voluntary context switches) and CPU
 * time in that time, from Linux's {@code /proc/self/task}. docs/benchmarks.md, "an idle data source's hedge scanner".
 * <pre>java -cp readsplit-bench/target/benchmarks.jar dev.readsplit.bench.micro.IdleDataSourceCost [SECONDS]</pre>
 */
public final class IdleDataSourceCost {

    private IdleDataSourceCost() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        if (seconds < 1 || seconds > 3600) {
            throw new IllegalArgumentException("SECONDS must be from 1 to 3600: " + seconds);
        }
        StubDriver.register();
        ReadsplitConfig config = ReadsplitConfig.builder().name("idle")
                .primary(NodeConfig.ofUrl("jdbc:stub:primary")).addReplica(NodeConfig.ofUrl("jdbc:stub:replica1"))
                .primaryPoolSize(2).replicaPoolSize(2).minIdle(2).consistency(Consistency.eventual())
                .healthCheckInterval(Duration.ofSeconds(5)).build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.executeQuery("SELECT 1").close(); // starts the scanner
            }
            Thread.sleep(3000); // past its last busy second
            long[] before = scanner();
            Thread.sleep(seconds * 1000L);
            long[] after = scanner();
            System.out.printf("hedge scanner over %d s idle: %d wake-ups (voluntary context switches), %d ms CPU%n",
                    seconds, after[0] - before[0], (after[1] - before[1]) * 1000 / CpuMeter.TICKS_PER_SECOND);
        }
    }

    /** {voluntary context switches, utime + stime in clock ticks} of the scanner thread ("readsplit-hedge-idle"). */
    private static long[] scanner() throws IOException {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path t : tasks) {
                // the kernel keeps 15 characters of a thread's name: the hedge threads "-N" are cut off too, but
                // none runs here (nothing is slow on the stub)
                if (!Files.readString(t.resolve("comm"), StandardCharsets.US_ASCII).trim().equals("readsplit-hedge")) {
                    continue;
                }
                long switches = Files.readAllLines(t.resolve("status"), StandardCharsets.US_ASCII).stream()
                        .filter(l -> l.startsWith("voluntary_ctxt_switches"))
                        .mapToLong(l -> Long.parseLong(l.split("\\s+")[1])).sum();
                long[] times = CpuMeter.parse(Files.readString(t.resolve("stat"), StandardCharsets.US_ASCII));
                if (times == null) {
                    throw new IllegalStateException("unreadable " + t.resolve("stat"));
                }
                return new long[] {switches, times[1] - times[2]}; // a thread's own utime + stime
            }
        }
        throw new IllegalStateException("no hedge scanner thread (Linux only)");
    }
}

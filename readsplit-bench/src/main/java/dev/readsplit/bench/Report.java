package dev.readsplit.bench;

import dev.readsplit.bench.MacroBenchmark.Interval;
import dev.readsplit.bench.MacroBenchmark.Options;
import dev.readsplit.bench.MacroBenchmark.Workload;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The macro benchmark's figures as a Markdown table and as JSON. Throughput per setup is the median (and
 * min, max) over rounds; latency percentiles come from all measured rounds' histograms added up; the ratio
 * to hand-routed is computed within each round (setup / hand-routed of the same round) and the median of
 * those per-round ratios is reported, so that drift over the run (other load on the machine, caches,
 * autovacuum) cancels out pair by pair.
 */
final class Report {

    private static final String BASELINE = "hand-routed";
    /** The second baseline of issue 16: no splitting, one pool on the primary. */
    private static final String PRIMARY_BASELINE = "primary-pool";

    private final Options o;
    private final String machine;
    private final List<String> nodeNames;
    private final Map<String, Setups.Setup> setups;
    private final Map<String, String> failedSetups;
    private final List<Interval> intervals;
    private final Map<String, String> firstErrors;

    Report(Options o, String machine, List<String> nodeNames, Map<String, Setups.Setup> setups,
           Map<String, String> failedSetups, List<Interval> intervals, Map<String, String> firstErrors) {
        this.o = o;
        this.machine = machine;
        this.nodeNames = nodeNames;
        this.setups = setups;
        this.failedSetups = failedSetups;
        this.intervals = intervals;
        this.firstErrors = firstErrors;
    }

    record Row(String setup, Workload workload, double median, double min, double max, double p50Ms, double p99Ms,
               long errors, double[] sharePercent, int[] backends, Double ratioMedian, double[] ratios,
               Double primaryRatioMedian, double clientCpuMicros, double serverCpuMicros) {
    }

    /** Per-round ratios of {@code mine} to {@code baseline}'s interval of the same round and workload, sorted. */
    private double[] ratios(List<Interval> mine, Workload w, String baseline) {
        List<Double> ratios = new ArrayList<>();
        for (Interval i : mine) {
            Optional<Interval> base = intervals.stream().filter(b -> b.setup().equals(baseline) && b.workload() == w
                    && b.round() == i.round()).findFirst();
            base.filter(b -> b.opsPerSecond() > 0).ifPresent(b -> ratios.add(i.opsPerSecond() / b.opsPerSecond()));
        }
        return ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    List<Row> rows(Workload w) {
        List<Row> out = new ArrayList<>();
        for (String name : setups.keySet()) {
            List<Interval> mine = intervals.stream().filter(i -> i.setup().equals(name) && i.workload() == w).toList();
            if (mine.isEmpty()) {
                continue;
            }
            double[] ops = mine.stream().mapToDouble(Interval::opsPerSecond).sorted().toArray();
            Histogram h = new Histogram(3);
            long errors = 0;
            long[] statements = new long[nodeNames.size()];
            int[] backends = new int[nodeNames.size()];
            for (Interval i : mine) {
                h.add(i.latency());
                errors += i.errors();
                for (int n = 0; n < statements.length; n++) {
                    statements[n] += i.statementsPerNode()[n];
                    backends[n] = Math.max(backends[n], i.backendsPerNode()[n]);
                }
            }
            long total = Arrays.stream(statements).sum();
            double[] share = new double[statements.length];
            for (int n = 0; n < share.length; n++) {
                share[n] = total == 0 ? 0 : 100.0 * statements[n] / total;
            }
            double[] r = ratios(mine, w, BASELINE);
            double[] p = ratios(mine, w, PRIMARY_BASELINE);
            out.add(new Row(name, w, median(ops), ops[0], ops[ops.length - 1], h.getValueAtPercentile(50) / 1000.0,
                    h.getValueAtPercentile(99) / 1000.0, errors, share, backends, r.length == 0 ? null : median(r), r,
                    p.length == 0 ? null : median(p),
                    median(mine.stream().mapToDouble(Interval::clientCpuMicros).sorted().toArray()),
                    median(mine.stream().mapToDouble(Interval::serverCpuMicros).sorted().toArray())));
        }
        return out;
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    String command() {
        StringBuilder sb = new StringBuilder("java -cp readsplit-bench/target/benchmarks.jar dev.readsplit.bench.MacroBenchmark");
        if (o.quick) {
            sb.append(" --quick");
        }
        sb.append(" --rounds ").append(o.rounds).append(" --seconds ").append(o.seconds)
                .append(" --warmup ").append(o.warmupSeconds).append(" --threads ").append(o.threads);
        if (o.rows != 1_000_000) {
            sb.append(" --rows ").append(o.rows);
        }
        if (o.perNode > 0) {
            sb.append(" --connections-per-node ").append(o.perNode);
        } else if (o.primaryConns != 2 || o.replicaConns != 3) {
            sb.append(" --primary-connections ").append(o.primaryConns).append(" --replica-connections ").append(o.replicaConns);
        }
        if (!o.setups.equals(Setups.ALL)) {
            sb.append(" --setups ").append(String.join(",", o.setups));
        }
        if (o.workloads.size() != Workload.values().length) {
            sb.append(" --workloads ").append(String.join(",", o.workloads.stream().map(w -> w.label).toList()));
        }
        return sb.toString();
    }

    String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("Command: `").append(command()).append("`\n\n");
        sb.append(machine).append("\n\n");
        sb.append(String.format(Locale.ROOT, "%d rounds x %d s per setup and workload (setups interleaved within each "
                        + "round, their order rotated by one each round), %d-s warm-up per setup excluded, %d client threads, %,d-row accounts table. "
                        + "Each operation takes a connection, runs, and closes it.%n%n",
                o.rounds, o.seconds, o.warmupSeconds, o.threads, o.rows));
        sb.append("Server connections (the same total in every setup):\n\n");
        for (Setups.Setup s : setups.values()) {
            sb.append("- `").append(s.name()).append("`: ").append(s.connections()).append('\n');
        }
        for (Map.Entry<String, String> f : failedSetups.entrySet()) {
            sb.append("- `").append(f.getKey()).append("`: **did not start**: ").append(f.getValue()).append('\n');
        }
        sb.append("\nops/s: median [min–max] over rounds; ×hand: median over rounds of (setup ops/s ÷ hand-routed ops/s "
                + "in the same round); ×primary: the same against primary-pool (one pool on the primary); p50/p99: client-side latency of one operation over all measured rounds; "
                + "statements per node: share of the benchmark's statements each server executed "
                + "(pg_stat_statements calls, ").append(String.join(" / ", nodeNames))
                .append("); backends: busy client backends per node seen mid-interval (max over rounds); CPU µs/op: CPU time per "
                        + "operation (median over rounds) of the client JVM (the setup, the driver, every setup's idle "
                        + "background threads) and of the three servers' process trees, from the OS (-1: unknown).\n");
        for (Workload w : o.workloads) {
            List<Row> rows = rows(w);
            if (rows.isEmpty()) {
                continue;
            }
            sb.append("\n#### ").append(w.label).append(": ").append(w.description).append("\n\n");
            sb.append("| setup | ops/s median [min–max] | ×hand | ×primary | p50 ms | p99 ms | errors | statements per node % | backends | CPU µs/op client / servers |\n");
            sb.append("|---|---:|---:|---:|---:|---:|---:|---|---|---:|\n");
            for (Row r : rows) {
                sb.append(String.format(Locale.ROOT, "| %s | %.0f [%.0f–%.0f] | %s | %s | %.3f | %.3f | %d | %s | %s | %.1f / %.1f |%n",
                        r.setup(), r.median(), r.min(), r.max(),
                        r.ratioMedian() == null ? "–" : String.format(Locale.ROOT, "%.3f", r.ratioMedian()),
                        r.primaryRatioMedian() == null ? "–" : String.format(Locale.ROOT, "%.3f", r.primaryRatioMedian()),
                        r.p50Ms(), r.p99Ms(), r.errors(), shares(r.sharePercent()), join(r.backends()),
                        r.clientCpuMicros(), r.serverCpuMicros()));
            }
        }
        if (!firstErrors.isEmpty()) {
            sb.append("\nFirst error per setup and workload:\n\n");
            firstErrors.forEach((k, v) -> sb.append("- `").append(k).append("`: ").append(v).append('\n'));
        }
        return sb.toString();
    }

    private static String shares(double[] s) {
        StringBuilder sb = new StringBuilder();
        for (double d : s) {
            sb.append(sb.length() == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.1f", d));
        }
        return sb.toString();
    }

    private static String join(int[] a) {
        StringBuilder sb = new StringBuilder();
        for (int v : a) {
            sb.append(sb.length() == 0 ? "" : "/").append(v);
        }
        return sb.toString();
    }

    String json() {
        StringBuilder sb = new StringBuilder("{\n");
        sb.append("  \"command\": ").append(str(command())).append(",\n");
        sb.append("  \"machine\": ").append(str(machine)).append(",\n");
        sb.append(String.format(Locale.ROOT, "  \"rounds\": %d, \"seconds\": %d, \"warmupSeconds\": %d, \"threads\": %d, \"rows\": %d,%n",
                o.rounds, o.seconds, o.warmupSeconds, o.threads, o.rows));
        sb.append(String.format(Locale.ROOT, "  \"primaryConnections\": %d, \"replicaConnections\": %d,%n", o.primaryConns, o.replicaConns));
        sb.append("  \"nodes\": [");
        for (int i = 0; i < nodeNames.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(str(nodeNames.get(i)));
        }
        sb.append("],\n  \"setups\": {");
        boolean first = true;
        for (Setups.Setup s : setups.values()) {
            sb.append(first ? "\n" : ",\n").append("    ").append(str(s.name())).append(": ").append(str(s.connections()));
            first = false;
        }
        sb.append("\n  },\n  \"failedSetups\": {");
        first = true;
        for (Map.Entry<String, String> f : failedSetups.entrySet()) {
            sb.append(first ? "\n" : ",\n").append("    ").append(str(f.getKey())).append(": ").append(str(f.getValue()));
            first = false;
        }
        sb.append("\n  },\n  \"results\": [");
        first = true;
        for (Workload w : o.workloads) {
            for (Row r : rows(w)) {
                sb.append(first ? "\n" : ",\n");
                first = false;
                sb.append(String.format(Locale.ROOT, "    {\"workload\": %s, \"setup\": %s, \"opsPerSecond\": {\"median\": %.1f, \"min\": %.1f, \"max\": %.1f}, "
                                + "\"ratioToHandRouted\": %s, \"ratioToPrimaryPool\": %s, \"perRoundRatios\": %s, \"p50Ms\": %.4f, \"p99Ms\": %.4f, \"errors\": %d, "
                                + "\"statementSharePercent\": %s, \"busyBackends\": %s, \"clientCpuMicrosPerOp\": %.2f, \"serverCpuMicrosPerOp\": %.2f}",
                        str(w.label), str(r.setup()), r.median(), r.min(), r.max(),
                        r.ratioMedian() == null ? "null" : String.format(Locale.ROOT, "%.4f", r.ratioMedian()),
                        r.primaryRatioMedian() == null ? "null" : String.format(Locale.ROOT, "%.4f", r.primaryRatioMedian()),
                        arr(r.ratios()), r.p50Ms(), r.p99Ms(), r.errors(), arr(r.sharePercent()), Arrays.toString(r.backends()),
                        r.clientCpuMicros(), r.serverCpuMicros()));
            }
        }
        sb.append("\n  ],\n  \"intervals\": [");
        first = true;
        for (Interval i : intervals) {
            sb.append(first ? "\n" : ",\n");
            first = false;
            sb.append(String.format(Locale.ROOT, "    {\"workload\": %s, \"setup\": %s, \"round\": %d, \"ops\": %d, \"seconds\": %.3f, "
                            + "\"errors\": %d, \"p50Ms\": %.4f, \"p99Ms\": %.4f, \"statementsPerNode\": %s}",
                    str(i.workload().label), str(i.setup()), i.round(), i.ops(), i.seconds(), i.errors(),
                    i.latency().getValueAtPercentile(50) / 1000.0, i.latency().getValueAtPercentile(99) / 1000.0,
                    Arrays.toString(i.statementsPerNode())));
        }
        sb.append("\n  ],\n  \"firstErrors\": {");
        first = true;
        for (Map.Entry<String, String> e : firstErrors.entrySet()) {
            sb.append(first ? "\n" : ",\n").append("    ").append(str(e.getKey())).append(": ").append(str(e.getValue()));
            first = false;
        }
        sb.append("\n  }\n}\n");
        return sb.toString();
    }

    private static String arr(double[] a) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < a.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", a[i]));
        }
        return sb.append(']').toString();
    }

    static String str(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}

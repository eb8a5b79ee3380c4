package dev.readsplit.bench.micro;

import dev.readsplit.consistency.CausalToken;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Causal tokens: comparing two (what every read-your-writes check does), exporting one (cookie out) and
 * parsing one (cookie in).
 *
 * <p>Run: {@code java -jar readsplit-bench/target/benchmarks.jar CausalTokenBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CausalTokenBenchmark {

    private final CausalToken a = new CausalToken(0x7A3F_1C2B_4D5E_6F70L, 0x3_0000_1A2BL);
    private final CausalToken b = new CausalToken(0x7A3F_1C2B_4D5E_6F70L, 0x3_0000_1A2CL);
    private final String exported = b.export();

    @Benchmark
    public int compare() {
        return a.compareTo(b);
    }

    @Benchmark
    public CausalToken max() {
        return a.max(b);
    }

    @Benchmark
    public String export() {
        return a.export();
    }

    @Benchmark
    public CausalToken parse() {
        return CausalToken.parse(exported);
    }
}

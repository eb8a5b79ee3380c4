package dev.readsplit.bench.micro;

import dev.readsplit.balance.Balancer;
import dev.readsplit.balance.Balancers;
import dev.readsplit.balance.Candidate;
import dev.readsplit.balance.BalancerKind;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One balancer choice among 2 eligible replicas, 8 threads sharing one balancer (its counters are
 * contended: on 2 cores this also measures the cost of the shared cache line).
 *
 * <p>Run: {@code java -jar readsplit-bench/target/benchmarks.jar BalancerBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@Threads(8)
public class BalancerBenchmark {

    @Param({"AFFINITY", "ROUND_ROBIN", "RANDOM", "WEIGHTED", "LEAST_OUTSTANDING", "LATENCY_AWARE"})
    public String kind;

    private Balancer balancer;
    private List<Candidate> eligible;

    record Replica(String name, int weight, String zone, int inFlight, long latencyEwmaNanos) implements Candidate {
    }

    @Setup
    public void setup() {
        BalancerKind k = BalancerKind.valueOf(kind);
        balancer = Balancers.create(k, "zone-a");
        eligible = List.of(new Replica("standby1", 2, "zone-a", 1, 300_000), new Replica("standby2", 1, "zone-b", 2, 450_000));
    }

    @Benchmark
    public Candidate choose() {
        return balancer.choose(eligible);
    }
}

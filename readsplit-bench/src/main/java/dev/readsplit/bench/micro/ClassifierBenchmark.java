package dev.readsplit.bench.micro;

import dev.readsplit.sql.Classification;
import dev.readsplit.sql.SqlClassifier;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The SQL classifier on typical statements: how much one routing decision's lexing costs.
 *
 * <p>Run: {@code java -jar readsplit-bench/target/benchmarks.jar ClassifierBenchmark -prof gc}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ClassifierBenchmark {

    @Param({
            "SELECT abalance FROM accounts WHERE aid = ?",
            "UPDATE accounts SET abalance = abalance + ? WHERE aid = ?",
            "/* readsplit:replica */ SELECT * FROM t WHERE a = 'it''s' -- tail",
            "WITH x AS (SELECT id FROM orders WHERE total > $1) SELECT count(*) FROM x JOIN items USING (id)",
            "SELECT id FROM jobs WHERE state = 'ready' ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED"
    })
    public String sql;

    private SqlClassifier classifier;

    @Setup
    public void setup() {
        classifier = SqlClassifier.defaults();
    }

    @Benchmark
    public Classification classify() {
        return classifier.classify(sql);
    }
}

package dev.readsplit.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import dev.readsplit.sql.Classification;
import dev.readsplit.sql.SqlClassifier;

/**
 * Cost of {@link SqlClassifier#classify(String)} per statement shape; the point SELECT and the INSERT must
 * allocate nothing ({@code gc.alloc.rate.norm} = 0 B/op).
 *
 * <p>Run: {@code mvn -q -pl readsplit-bench -am package -DskipTests && java -jar readsplit-bench/target/benchmarks.jar ClassifierBenchmark -prof gc -f 1 -wi 3 -i 5}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ClassifierBenchmark {

    /** 100 characters. */
    private String pointSelect =
            "SELECT u.id, u.name, u.email, u.created_at FROM app_users u WHERE u.id = $1 AND u.deleted_at IS NULL";
    private String insert = "INSERT INTO events (user_id, kind, payload, created_at) VALUES ($1, $2, $3, now())";
    private String cteSelect = "WITH recent AS (SELECT user_id, count(*) AS n FROM orders WHERE created_at > $1"
            + " GROUP BY user_id) SELECT u.name, r.n FROM users u JOIN recent r ON r.user_id = u.id ORDER BY r.n DESC";
    private String userFunction = "SELECT id, app.score(u.*) FROM users u WHERE u.id = $1";
    private String hinted = "/* readsplit:replica, max-lag=500ms */ SELECT id, name FROM users WHERE id = $1";

    private final SqlClassifier classifier = SqlClassifier.defaults();

    @Benchmark
    public Classification pointSelect() {
        return classifier.classify(pointSelect);
    }

    @Benchmark
    public Classification insert() {
        return classifier.classify(insert);
    }

    @Benchmark
    public Classification cteSelect() {
        return classifier.classify(cteSelect);
    }

    @Benchmark
    public Classification selectWithUserFunction() {
        return classifier.classify(userFunction);
    }

    @Benchmark
    public Classification hintedSelect() {
        return classifier.classify(hinted);
    }
}

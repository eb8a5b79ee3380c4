package dev.readsplit.bench.micro;

import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * Every {@link LogicalConnectionBenchmark} operation with the core's private caches emptied before each one, as on a
 * busy machine, where a web request's thread comes back from its socket wait after the database servers and other
 * threads ran on its core: every cache line the operation touches is then a miss to the shared cache. Before each
 * invocation (outside the timed part) the thread reads {@code sweepKiB} of its own buffer, one load per 64-byte line;
 * the default 2 MiB is twice this machine's per-core L2 and well inside its shared L3. The difference between
 * {@code hikariSelect} and {@code readsplitSelect} is then Readsplit's cost per operation as its footprint makes it on
 * such a machine, which the warm-cache benchmark cannot show ({@code docs/benchmarks.md}). Use {@code -bm sample}: the
 * median is steadier than the mean, which the sweep's own misses scatter.
 *
 * <p>Run: {@code java -jar readsplit-bench/target/benchmarks.jar 'ColdCacheBenchmark.(hikariSelect|readsplitSelect)$'
 * -bm sample -p sweepKiB=0,2048}
 */
public class ColdCacheBenchmark extends LogicalConnectionBenchmark {

    /** KiB read before each operation to push the previous one's data out of the core's own caches; 0: warm. */
    @Param({"2048"})
    public int sweepKiB;

    private long[] sweep;
    /** Consumed so that the sweep's loads cannot be removed. */
    public long sink;

    @Setup(Level.Trial)
    public void allocateSweep() {
        sweep = new long[sweepKiB * 1024 / Long.BYTES];
    }

    @Setup(Level.Invocation)
    public void evict() {
        long sum = 0;
        long[] s = sweep;
        for (int i = 0; i < s.length; i += 8) { // one long per 64-byte line
            sum += s[i]++;
        }
        sink += sum;
    }
}

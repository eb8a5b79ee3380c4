package dev.readsplit.balance;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * At random, with probability proportional to {@link Candidate#weight()}.
 *
 * <p>Why random and not nginx's smooth weighted round-robin: smooth WRR keeps a "current weight" per node and
 * must update all of them atomically on every pick, which needs a lock (nginx runs it per worker, single
 * threaded), and its state is tied to one fixed node list, while our eligible list changes as replicas
 * lag or fail. Weighted random needs no shared state at all, so it is lock-free, contention-free and
 * allocation-free, and it adapts instantly to a changed list. Its proportions are exact in expectation; over
 * short runs it is burstier than smooth WRR, which does not matter for spreading load over pools.
 *
 * <h2>Concurrency</h2>
 * Stateless apart from the injected {@link RandomGenerator} (see {@link Balancers}). Weights are read once per
 * pass; if a weight changed between the two passes the pick stays valid (the last matching candidate absorbs the
 * difference).
 */
final class WeightedBalancer extends AbstractBalancer {

    private final RandomGenerator random;

    WeightedBalancer(String localZone, RandomGenerator random) {
        super(localZone);
        this.random = random;
    }

    @Override
    int select(List<? extends Candidate> list, String zone, int count) {
        int n = list.size();
        long total = 0;
        for (int i = 0; i < n; i++) {
            Candidate c = list.get(i);
            if (matches(c, zone)) {
                total += Math.max(1, c.weight());
            }
        }
        long r = random.nextLong(total);
        int last = -1;
        for (int i = 0; i < n; i++) {
            Candidate c = list.get(i);
            if (matches(c, zone)) {
                last = i;
                r -= Math.max(1, c.weight());
                if (r < 0) {
                    return i;
                }
            }
        }
        return last < 0 ? n - 1 : last;
    }
}

package dev.readsplit.balance;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Uniformly at random.
 *
 * <h2>Concurrency</h2>
 * Stateless apart from the injected {@link RandomGenerator}, which must be thread-safe when the balancer is
 * shared ({@link Balancers#threadLocalRandom()} is, and is contention-free).
 */
final class RandomBalancer extends AbstractBalancer {

    private final RandomGenerator random;

    RandomBalancer(String localZone, RandomGenerator random) {
        super(localZone);
        this.random = random;
    }

    @Override
    int select(List<? extends Candidate> list, String zone, int count) {
        return kth(list, zone, random.nextInt(count));
    }
}

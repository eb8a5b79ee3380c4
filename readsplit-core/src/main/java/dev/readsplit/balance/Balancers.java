package dev.readsplit.balance;

import dev.readsplit.balance.BalancerKind;

import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Makes {@link Balancer}s. Every balancer is thread-safe, lock-free and allocation-free per call; the
 * implementations are package-private.
 *
 * <h2>Randomness</h2>
 * {@link BalancerKind#RANDOM}, {@link BalancerKind#WEIGHTED} and {@link BalancerKind#LATENCY_AWARE} draw from the
 * {@link RandomGenerator} given to {@link #create}. In production pass {@link #threadLocalRandom()}: it
 * delegates each call to {@link ThreadLocalRandom#current()}, so it is shared safely by all threads without
 * contention. Tests pass a seeded generator (e.g. {@code new SplittableRandom(42)}) and call the balancer from
 * one thread: such generators are not thread-safe, and the balancer does not synchronize on them.
 *
 * <h2>Zone preference</h2>
 * With a non-null {@code localZone} every kind first counts the eligible candidates whose
 * {@link Candidate#zone()} equals it; if there is at least one, it chooses among those only, otherwise among
 * all (fallback to other zones). The choice is made over "the k-th matching candidate", never over a filtered
 * copy, so nothing is allocated.
 */
public final class Balancers {

    private Balancers() {
    }

    /**
     * A balancer of the given kind.
     *
     * @param localZone zone to prefer, or null for no preference
     * @param random    source of randomness; see the class documentation
     */
    public static Balancer create(BalancerKind kind, String localZone, RandomGenerator random) {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(random, "random");
        if (localZone != null && localZone.isBlank()) {
            throw new IllegalArgumentException("localZone must not be blank: '" + localZone + "'");
        }
        String zone = localZone == null ? null : localZone.trim();
        return switch (kind) {
            case ROUND_ROBIN -> new RoundRobinBalancer(zone, 0L);
            case RANDOM -> new RandomBalancer(zone, random);
            case WEIGHTED -> new WeightedBalancer(zone, random);
            case LEAST_OUTSTANDING -> new LeastOutstandingBalancer(zone, 0L);
            case LATENCY_AWARE -> new LatencyAwareBalancer(zone, random);
            case AFFINITY -> new AffinityBalancer(zone, AffinityBalancer.DEFAULT_RUN_LENGTH, 0L);
        };
    }

    /** {@link #create(BalancerKind, String, RandomGenerator)} with {@link #threadLocalRandom()}. */
    public static Balancer create(BalancerKind kind, String localZone) {
        return create(kind, localZone, threadLocalRandom());
    }

    /**
     * A stateless, thread-safe {@link RandomGenerator} that delegates every call to
     * {@link ThreadLocalRandom#current()}: contention-free when shared by all threads.
     */
    public static RandomGenerator threadLocalRandom() {
        return ThreadLocalRandomGenerator.INSTANCE;
    }

    private enum ThreadLocalRandomGenerator implements RandomGenerator {
        INSTANCE;

        @Override
        public long nextLong() {
            return ThreadLocalRandom.current().nextLong();
        }

        @Override
        public int nextInt(int bound) {
            return ThreadLocalRandom.current().nextInt(bound);
        }

        @Override
        public long nextLong(long bound) {
            return ThreadLocalRandom.current().nextLong(bound);
        }

        @Override
        public double nextDouble() {
            return ThreadLocalRandom.current().nextDouble();
        }
    }
}

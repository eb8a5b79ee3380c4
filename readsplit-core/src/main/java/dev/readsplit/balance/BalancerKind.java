package dev.readsplit.balance;

import java.util.Locale;

/** How reads are spread over the eligible replicas. See {@link Balancers}. */
public enum BalancerKind {
    /** Each eligible replica in turn (the default). */
    ROUND_ROBIN,
    /** Uniformly at random. */
    RANDOM,
    /** At random, in proportion to each node's {@code weight}. */
    WEIGHTED,
    /** The replica with the fewest statements in flight; ties broken in turn. */
    LEAST_OUTSTANDING,
    /** Prefers replicas with a low moving average of response time, without starving the others. */
    LATENCY_AWARE;

    /**
     * The kind named {@code text}, case-insensitively, {@code -} and {@code _} interchangeable
     * ({@code least-outstanding}); {@code null} when no kind has that name (the configuration reports it).
     */
    public static BalancerKind byName(String text) {
        String norm = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (BalancerKind k : values()) {
            if (k.name().equals(norm)) {
                return k;
            }
        }
        return null;
    }
}

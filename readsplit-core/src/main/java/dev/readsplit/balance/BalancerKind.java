package dev.readsplit.balance;

import java.util.Locale;

/** How reads are spread over the eligible replicas. See {@link Balancers}. */
public enum BalancerKind {
    /** Each eligible replica in turn. */
    ROUND_ROBIN,
    /** Uniformly at random. */
    RANDOM,
    /** At random, in proportion to each node's {@code weight}. */
    WEIGHTED,
    /** The replica with the fewest statements in flight; ties broken in turn. */
    LEAST_OUTSTANDING,
    /** Prefers replicas with a low moving average of response time, without starving the others. */
    LATENCY_AWARE,
    /**
     * Each thread keeps the replica it used last, in runs of 64 choices dealt out in weighted round-robin order;
     * moves at once off a replica that is no longer eligible or whose pool is saturated while another has idle
     * connections. Balance within 64 × (threads + weight) choices of the weighted share. The default.
     */
    AFFINITY;

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

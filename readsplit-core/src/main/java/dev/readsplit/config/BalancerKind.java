package dev.readsplit.config;

import java.util.Locale;

/** How reads are spread over the eligible replicas. See {@code dev.readsplit.balance.Balancers}. */
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
     * Parses a name case-insensitively, {@code -} and {@code _} interchangeable ({@code least-outstanding}).
     *
     * @throws ConfigException naming {@code key} and the text
     */
    static BalancerKind parse(String key, String text) {
        String norm = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (BalancerKind k : values()) {
            if (k.name().equals(norm)) {
                return k;
            }
        }
        throw new ConfigException(key, key + " must be one of round_robin, random, weighted, least_outstanding, "
                + "latency_aware: '" + text.trim() + "'");
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.config.ReadsplitConfig;


/**
 * How reads are hedged (docs/failover.md, "Hedged reads"): the latency budget of a read on a replica is
 * {@code latencyMultiplier} × that node's recent p99, kept between {@code minBudget} and {@code maxBudget}; past it, an
 * autocommit read safe to run twice is sent to another eligible node too, while hedges stay under {@code maxShare} of
 * the reads (with a burst of {@code burst}).
 *
 * @param enabled           whether reads are hedged (and in-flight stalls watched) at all
 * @param latencyMultiplier the budget as a multiple of the node's p99
 * @param minBudgetNanos    the budget's floor
 * @param maxBudgetNanos    the budget's cap (also the budget of a node with too few recent reads to measure)
 * @param maxShare          the share of reads that may be hedged, in (0, 1]
 * @param burst             hedges that may start at once when the share has not been used
 */
record HedgeSettings(boolean enabled, double latencyMultiplier, long minBudgetNanos, long maxBudgetNanos,
                     double maxShare, int burst) {

    /** How often the scanner looks at running statements: a fifth of the floor, 1 to 20 ms. */
    long tickNanos() {
        return Math.max(1_000_000L, Math.min(20_000_000L, minBudgetNanos / 5));
    }

    /** The budget for a node whose recent p99 is {@code p99Nanos}. */
    long budgetNanos(long p99Nanos) {
        double b = p99Nanos * latencyMultiplier;
        if (!(b < maxBudgetNanos)) {
            return maxBudgetNanos;
        }
        return Math.max(minBudgetNanos, (long) b);
    }

    static HedgeSettings of(ReadsplitConfig config) {
        dev.readsplit.config.HedgeConfig h = config.hedging();
        return new HedgeSettings(h.enabled(), h.latencyMultiplier(), h.minBudget().toNanos(), h.maxBudget().toNanos(),
                h.maxShare(), h.burst());
    }

    /** The defaults ({@link dev.readsplit.config.HedgeConfig#DEFAULTS}). */
    static HedgeSettings defaults() {
        return of(ReadsplitConfig.builder().primary("localhost", 5432).build());
    }
}

package dev.readsplit.config;

import java.time.Duration;
import java.util.Objects;

/**
 * How reads are hedged (docs/failover.md, "Hedged reads"): past a latency budget of {@code latencyMultiplier} × the
 * node's recent p99, kept between {@code minBudget} and {@code maxBudget}, an autocommit replica read that is safe to
 * run twice also runs on another eligible node; at most {@code maxShare} of the reads are hedged, {@code burst} at once.
 * Keys {@code hedgeReads, hedgeLatencyMultiplier, hedgeMinBudget, hedgeMaxBudget, hedgeMaxShare, hedgeBurst}.
 *
 * <p>Each value is checked when the record is made ({@link ConfigException} naming the key); that the cap is not
 * below the floor is checked by {@link ReadsplitConfig.Builder#build()}, so the two can be set in either order.
 */
public record HedgeConfig(boolean enabled, double latencyMultiplier, Duration minBudget, Duration maxBudget,
                          double maxShare, int burst) {

    /** The longest budget cap accepted. */
    public static final Duration MAX_BUDGET_CAP = Duration.ofMinutes(1);

    /** The defaults: on, 3 × p99 between 50 ms and 500 ms, 5 % of reads, 10 at once. */
    public static final HedgeConfig DEFAULTS = new HedgeConfig(true, 3, Duration.ofMillis(50), Duration.ofMillis(500),
            0.05, 10);

    public HedgeConfig {
        if (!(latencyMultiplier >= 1 && latencyMultiplier <= 100)) {
            throw new ConfigException("hedgeLatencyMultiplier",
                    "hedgeLatencyMultiplier must be between 1 and 100: " + latencyMultiplier);
        }
        budget("hedgeMinBudget", minBudget);
        budget("hedgeMaxBudget", maxBudget);
        if (!(maxShare > 0 && maxShare <= 0.5)) {
            throw new ConfigException("hedgeMaxShare", "hedgeMaxShare must be above 0 and at most 0.5: " + maxShare);
        }
        if (burst < 1 || burst > 100) {
            throw new ConfigException("hedgeBurst", "hedgeBurst must be between 1 and 100: " + burst);
        }
    }

    /** What is checked when the whole configuration is built: the cap not below the floor. */
    java.util.List<ConfigException.Problem> problems() {
        if (maxBudget.compareTo(minBudget) < 0) {
            return java.util.List.of(new ConfigException.Problem("hedgeMaxBudget", "hedgeMaxBudget (" + maxBudget
                    + ") must not be below hedgeMinBudget (" + minBudget + ")"));
        }
        return java.util.List.of();
    }

    private static void budget(String key, Duration d) {
        Objects.requireNonNull(d, key);
        if (d.compareTo(Duration.ofMillis(1)) < 0 || d.compareTo(MAX_BUDGET_CAP) > 0) {
            throw new ConfigException(key, key + " must be between 1 ms and " + MAX_BUDGET_CAP.toSeconds() + " s: " + d);
        }
    }

    public HedgeConfig withEnabled(boolean on) {
        return new HedgeConfig(on, latencyMultiplier, minBudget, maxBudget, maxShare, burst);
    }

    public HedgeConfig withLatencyMultiplier(double multiplier) {
        return new HedgeConfig(enabled, multiplier, minBudget, maxBudget, maxShare, burst);
    }

    public HedgeConfig withMinBudget(Duration floor) {
        return new HedgeConfig(enabled, latencyMultiplier, floor, maxBudget, maxShare, burst);
    }

    public HedgeConfig withMaxBudget(Duration cap) {
        return new HedgeConfig(enabled, latencyMultiplier, minBudget, cap, maxShare, burst);
    }

    public HedgeConfig withMaxShare(double share) {
        return new HedgeConfig(enabled, latencyMultiplier, minBudget, maxBudget, share, burst);
    }

    public HedgeConfig withBurst(int n) {
        return new HedgeConfig(enabled, latencyMultiplier, minBudget, maxBudget, maxShare, n);
    }
}

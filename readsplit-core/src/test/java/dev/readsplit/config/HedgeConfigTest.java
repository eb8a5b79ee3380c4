package dev.readsplit.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The hedged-read settings (docs/failover.md, "Hedged reads"): defaults, keys, and bad values named by key. */
class HedgeConfigTest {

    private static Properties props(String... kv) {
        Properties p = new Properties();
        p.setProperty("readsplit.primary", "h");
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void defaults() {
        HedgeConfig h = ReadsplitConfig.builder().primary("h", 5432).build().hedging();
        assertThat(h).isEqualTo(HedgeConfig.DEFAULTS);
        assertThat(h.enabled()).isTrue();
        assertThat(h.latencyMultiplier()).isEqualTo(3.0);
        assertThat(h.minBudget()).isEqualTo(Duration.ofMillis(50));
        assertThat(h.maxBudget()).isEqualTo(Duration.ofMillis(500));
        assertThat(h.maxShare()).isEqualTo(0.05);
        assertThat(h.burst()).isEqualTo(10);
    }

    @Test
    void everyKeyIsRead() {
        HedgeConfig h = ReadsplitConfig.fromProperties(props("readsplit.hedgeReads", "false",
                "readsplit.hedgeLatencyMultiplier", "4.5", "readsplit.hedgeMinBudget", "600ms",
                "readsplit.hedgeMaxBudget", "2s", "readsplit.hedgeMaxShare", "0.1", "readsplit.hedgeBurst", "3")).hedging();
        assertThat(h).isEqualTo(new HedgeConfig(false, 4.5, Duration.ofMillis(600), Duration.ofSeconds(2), 0.1, 3));
        assertThat(ReadsplitConfig.builder().primary("h", 5432).hedging(h).build().toBuilder().build().hedging())
                .isEqualTo(h);
    }

    @Test
    void theEnvironmentTheUrlAndTheBuilderSetTheSameKeys() {
        java.util.Map<String, String> env = new java.util.HashMap<>();
        env.put("READSPLIT_PRIMARY", "h");
        env.put("READSPLIT_HEDGE_MAX_BUDGET", "2s");
        env.put("READSPLIT_HEDGE_READS", "false");
        HedgeConfig fromEnv = ReadsplitConfig.fromEnvironment(env).hedging();
        assertThat(fromEnv.maxBudget()).isEqualTo(Duration.ofSeconds(2));
        assertThat(fromEnv.enabled()).isFalse();
        HedgeConfig fromUrl = ReadsplitUrl.parse("jdbc:readsplit:postgresql://h:5432/db?hedgeMaxShare=0.2&hedgeBurst=4",
                null).hedging();
        assertThat(fromUrl.maxShare()).isEqualTo(0.2);
        assertThat(fromUrl.burst()).isEqualTo(4);
        HedgeConfig built = ReadsplitConfig.builder().primary("h", 5432).hedging(HedgeConfig.DEFAULTS
                .withLatencyMultiplier(2).withMinBudget(Duration.ofMillis(10)).withMaxBudget(Duration.ofMillis(20)))
                .build().hedging();
        assertThat(built).isEqualTo(new HedgeConfig(true, 2, Duration.ofMillis(10), Duration.ofMillis(20), 0.05, 10));
    }

    @Test
    void badValuesAreNamedByKeyAllAtOnce() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.hedgeLatencyMultiplier", "0.5", "readsplit.hedgeMaxShare", "0.9", "readsplit.hedgeBurst", "0",
                "readsplit.hedgeMinBudget", "0ms")));
        assertThat(e.getMessage()).contains("hedgeLatencyMultiplier must be between 1 and 100: 0.5")
                .contains("hedgeMaxShare must be above 0 and at most 0.5: 0.9")
                .contains("hedgeBurst must be between 1 and 100: 0")
                .contains("hedgeMinBudget must be between 1 ms and 60 s");
    }

    @Test
    void theCapMayNotBeBelowTheFloor() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.hedgeMinBudget", "2s", "readsplit.hedgeMaxBudget", "1s")));
        assertThat(e.getMessage()).contains("hedgeMaxBudget (PT1S) must not be below hedgeMinBudget (PT2S)");
    }
}

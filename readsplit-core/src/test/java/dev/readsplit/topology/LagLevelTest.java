package dev.readsplit.topology;

import dev.readsplit.config.ReadsplitConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class LagLevelTest {

    /** The default alert levels 1/5/10/30 s and readmit ratio 0.5 (as {@code TopologyTest.config()}). */
    private static final ReadsplitConfig CONFIG = ReadsplitConfig.builder().name("unit")
            .primary("127.0.0.1", 1).addReplica("127.0.0.1", 2).addReplica("127.0.0.1", 3)
            .database("db").user("u").minIdle(0)
            .failureThreshold(3).recoveryThreshold(2)
            .maxLag(java.time.Duration.ofSeconds(1)).lagReadmitRatio(0.5).build();

    @ParameterizedTest(name = "{0} at {1} ms -> {2}")
    @CsvSource({
            "NONE, 0, NONE", "NONE, 999, NONE", "NONE, 1000, INFO", "NONE, 5000, WARNING", "NONE, 10000, ERROR",
            "NONE, 30000, CRITICAL", "INFO, 700, INFO", "INFO, 499, NONE", "WARNING, 2600, WARNING",
            "WARNING, 2400, INFO", "CRITICAL, 14000, ERROR", "CRITICAL, 16000, CRITICAL", "CRITICAL, 0, NONE",
            "ERROR, 400, NONE", "INFO, 12000, ERROR"})
    void levels(LagLevel current, long lag, LagLevel expected) {
        assertThat(LagLevel.next(current, lag, CONFIG)).isEqualTo(expected);
    }
}

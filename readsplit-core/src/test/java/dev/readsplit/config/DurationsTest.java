package dev.readsplit.config;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
            "500ms, PT0.5S",
            "2s, PT2S",
            "2 S, PT2S",
            "1m, PT1M",
            "1h, PT1H",
            "1d, PT24H",
            "1.5s, PT1.5S",
            "250us, PT0.00025S",
            "10ns, PT0.00000001S",
            "1500, PT1.5S",
            "0, PT0S",
            "PT2S, PT2S",
            "pt0.1s, PT0.1S",
            "-1s, PT-1S",
            "-PT1S, PT-1S"})
    void parses(String text, String iso) {
        assertThat(Durations.parse("k", text)).isEqualTo(Duration.parse(iso));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "abc", "1x", "1 2s", "P", "PTs", "99999999999999999d", "s"})
    void rejectsNamingKeyAndText(String text) {
        ConfigException e = assertThrows(ConfigException.class, () -> Durations.parse("maxLag", text));
        assertThat(e.key()).isEqualTo("maxLag");
        assertThat(e).hasMessage("maxLag must be a duration (e.g. 500ms, 2s, 1m, PT2S): '" + text.trim() + "'");
    }
}

package dev.readsplit.config;

import dev.readsplit.Consistency;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConsistencyTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "eventual | eventual",
            "EVENTUAL | eventual",
            " read_your_writes | read_your_writes",
            "Read-Your-Writes | read_your_writes",
            "strong | strong",
            "bounded_staleness:2s | bounded_staleness:2s",
            "bounded-staleness(2s) | bounded_staleness:2s",
            "BOUNDED_STALENESS(1500ms) | bounded_staleness:1500ms",
            "bounded_staleness: PT1M | bounded_staleness:1m",
            "bounded_staleness:250 | bounded_staleness:250ms"})
    void parses(String text, String canonical) {
        Consistency c = Consistency.parse(text);
        assertThat(c.toString()).isEqualTo(canonical);
        assertThat(Consistency.parse(c.toString())).isEqualTo(c);
    }

    @Test
    void factories() {
        assertThat(Consistency.eventual().level()).isEqualTo(Consistency.Level.EVENTUAL);
        assertThat(Consistency.readYourWrites().level()).isEqualTo(Consistency.Level.READ_YOUR_WRITES);
        assertThat(Consistency.strong().allowsReplicas()).isFalse();
        Consistency b = Consistency.boundedStaleness(Duration.ofSeconds(2));
        assertThat(b.level()).isEqualTo(Consistency.Level.BOUNDED_STALENESS);
        assertThat(b.maxStaleness()).isEqualTo(Duration.ofSeconds(2));
        assertThat(b).isEqualTo(Consistency.parse("bounded_staleness:2000ms"));
        assertThat(Consistency.eventual().maxStaleness()).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"sometimes", "eventually", "bounded", "strong!"})
    void rejectsUnknownNamingTheText(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Consistency.parse(text));
        assertThat(e).hasMessage("unknown consistency '" + text + "' (expected eventual, "
                + "bounded_staleness:<duration>, read_your_writes or strong)");
    }

    @Test
    void boundedStalenessNeedsAValidPositiveDuration() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> Consistency.parse("bounded_staleness")))
                .hasMessage("consistency 'bounded_staleness' needs a duration, e.g. bounded_staleness:2s");
        assertThat(assertThrows(IllegalArgumentException.class, () -> Consistency.parse("bounded_staleness:soon")))
                .hasMessage("consistency 'bounded_staleness:soon' has an invalid duration 'soon' "
                        + "(use e.g. 500ms, 2s, 1m or PT2S)");
        assertThat(assertThrows(IllegalArgumentException.class, () -> Consistency.parse("bounded_staleness:0s")))
                .hasMessage("consistency bounded_staleness must be positive: PT0S");
        assertThat(assertThrows(IllegalArgumentException.class, () -> Consistency.parse(" ")))
                .hasMessage("consistency must not be blank (expected eventual, bounded_staleness:<duration>, "
                        + "read_your_writes or strong)");
        assertThrows(IllegalArgumentException.class, () -> Consistency.boundedStaleness(Duration.ofSeconds(-1)));
    }
}

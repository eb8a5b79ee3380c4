package dev.readsplit.consistency;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CausalTokenTest {

    @Test
    void exportIsShortFixedWidthHexAndParsesBack() {
        CausalToken t = new CausalToken(0x7f3c9a2b1d4e5f60L, 0x3000128L);
        assertThat(t.export()).isEqualTo("rs1.7f3c9a2b1d4e5f60.0000000003000128");
        assertThat(CausalToken.parse(t.export())).isEqualTo(t);
        assertThat(t.lsnText()).isEqualTo("0/3000128");
    }

    @Test
    void everyValueRoundTripsIncludingSystemIdentifiersWithTheHighBitSet() {
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < 10_000; i++) {
            CausalToken t = new CausalToken(r.nextLong(), r.nextLong(Long.MAX_VALUE));
            assertThat(CausalToken.parse(t.export())).isEqualTo(t);
        }
        CausalToken high = new CausalToken(-1L, 0);
        assertThat(high.export()).isEqualTo("rs1.ffffffffffffffff.0000000000000000");
        assertThat(CausalToken.parse(high.export())).isEqualTo(high);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "rs1.", "rs1.12", "rs1.12.", "rs2.1.2", "rs1.zz.12", "rs1.1.2.3", "rs1.11111111111111111.1",
        "1.2", "rs1.-1.2"})
    void malformedTokensNameTheProblem(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CausalToken.parse(text));
        assertThat(e.getMessage()).startsWith("malformed causal token '");
    }

    @Test
    void nullIsRefusedWithAClearMessageAndTheLaterTokenWins() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> CausalToken.parse(null)).getMessage())
                .isEqualTo("causal token is missing (null)");
        CausalToken a = new CausalToken(1, 10);
        CausalToken b = new CausalToken(1, 20);
        assertThat(a.max(b)).isSameAs(b);
        assertThat(b.max(a)).isSameAs(b);
        assertThat(a.compareTo(b)).isNegative();
    }
}

package dev.readsplit.metrics;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The status JSON's generator (Jackson): escaping safe inside HTML, nulls for non-finite numbers. */
class StatusJsonTest {

    @Test
    void escapesQuotesBackslashesControlsAndHtmlCharacters() {
        assertThat(StatusJson.write(g -> g.writeString("a\"b\\c\nd\re\tf\u0001g</script>&\u2028")))
                .isEqualTo("\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u003c/script\\u003e\\u0026\\u2028\"");
    }

    @Test
    void writesNestedContainersWithCommasInTheRightPlaces() {
        String json = StatusJson.write(g -> {
            g.writeStartObject();
            g.writeNumberField("a", 1);
            g.writeArrayFieldStart("b");
            g.writeString("x");
            StatusJson.number(g, 2.5);
            g.writeNull();
            g.writeEndArray();
            g.writeObjectFieldStart("c");
            g.writeEndObject();
            g.writeBooleanField("d", true);
            StatusJson.number(g, "e", null);
            g.writeEndObject();
        });
        assertThat(json).isEqualTo("{\"a\":1,\"b\":[\"x\",2.5,null],\"c\":{},\"d\":true,\"e\":null}");
    }

    @Test
    void nonFiniteNumbersBecomeNull() {
        String json = StatusJson.write(g -> {
            g.writeStartArray();
            StatusJson.number(g, Double.NaN);
            StatusJson.number(g, Double.POSITIVE_INFINITY);
            StatusJson.number(g, 3.0);
            g.writeEndArray();
        });
        assertThat(json).isEqualTo("[null,null,3]");
    }
}

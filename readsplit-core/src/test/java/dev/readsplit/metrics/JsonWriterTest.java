package dev.readsplit.metrics;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class JsonWriterTest {

    @Test
    void escapesQuotesBackslashesControlsAndHtmlCharacters() {
        assertThat(JsonWriter.quote("a\"b\\c\nd\re\tf\u0001g</script>&\u2028"))
                .isEqualTo("\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u003c/script\\u003e\\u0026\\u2028\"");
    }

    @Test
    void writesNestedContainersWithCommasInTheRightPlaces() {
        JsonWriter w = new JsonWriter();
        w.beginObject().field("a", 1).name("b").beginArray().value("x").value(2.5).nullValue().endArray()
                .name("c").beginObject().endObject().field("d", true).field("e", (Double) null).endObject();
        assertThat(w.toString()).isEqualTo("{\"a\":1,\"b\":[\"x\",2.5,null],\"c\":{},\"d\":true,\"e\":null}");
    }

    @Test
    void nonFiniteNumbersBecomeNull() {
        JsonWriter w = new JsonWriter();
        w.beginArray().value(Double.NaN).value(Double.POSITIVE_INFINITY).value(3.0).endArray();
        assertThat(w.toString()).isEqualTo("[null,null,3]");
    }
}

package dev.readsplit.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The Jackson-backed JSON reader of configuration: values, and errors that name a position but never the text. */
class ConfigJsonTest {

    @Test
    void readsEveryKindOfValue() throws Exception {
        Object v = ConfigJson.parse(" [ {\"a\": 1, \"b\": -2.5e2, \"c\": true, \"d\": false, \"e\": null,"
                + " \"f\": \"x\\\"y\\\\z\\/\\n\\t\\u00e9\\u20AC\", \"g\": [], \"h\": {}} ] ");
        assertThat(v).isInstanceOf(List.class);
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) ((List<?>) v).get(0);
        assertThat(m).isInstanceOf(LinkedHashMap.class);
        assertThat(m.keySet()).containsExactly("a", "b", "c", "d", "e", "f", "g", "h");
        assertThat(((Number) m.get("a")).intValue()).isEqualTo(1);
        assertThat(((BigDecimal) m.get("b")).doubleValue()).isEqualTo(-250.0);
        assertThat(m.get("c")).isEqualTo(true);
        assertThat(m.get("d")).isEqualTo(false);
        assertThat(m.containsKey("e")).isTrue();
        assertThat(m.get("e")).isNull();
        assertThat(m.get("f")).isEqualTo("x\"y\\z/\n\t\u00e9\u20ac");
        assertThat(m.get("g")).isEqualTo(List.of());
        assertThat(m.get("h")).isEqualTo(Map.of());
    }

    @Test
    void surrogatePairEscapes() throws Exception {
        assertThat(ConfigJson.parse("\"\\ud83d\\ude00\"")).isEqualTo("\ud83d\ude00");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`[{\"host\":\"db-r1\" \"port\":5432}]` | 17 | ',' or '}'",
        "`[{\"host\":\"r1\"},]`                 | 15 | a value",
        "`[{\"host\":\"r1\"}`                   | 14 | ',' or ']'",
        "`[{host:\"r1\"}]`                      | 2  | a string key",
        "`{\"a\":1,}`                           | 7  | a string key",
        "`{\"a\" 1}`                            | 5  | ':'",
        "``                                     | 0  | a value",
        "`   `                                  | 3  | a value",
        "`[1] x`                                | 4  | end of input",
        "`01`                                   | 1  | a number without leading zeros",
        "`-`                                    | 1  | a digit",
        "`1.`                                   | 1  | a digit after '.'",
        "`1e`                                   | 2  | a digit in the exponent",
        "`tru`                                  | 0  | a value",
        "`\"abc`                                | 4  | '\"' to close the string",
        "`\"\\x\"`                              | 2  | one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
        "`\"\\u12G4\"`                          | 5  | 4 hex digits after \\u",
        "`'single'`                             | 0  | a value",
    })
    void malformedInputNamesPositionAndExpectation(String text, int position, String expected) {
        ConfigJson.MalformedException e = assertThrows(ConfigJson.MalformedException.class, () -> ConfigJson.parse(text));
        assertThat(e.getMessage()).isEqualTo("malformed JSON at position " + position + ": expected " + expected);
        assertThat(e.position()).isEqualTo(position);
    }

    @Test
    void rawControlCharacterInStringIsRejected() {
        ConfigJson.MalformedException e = assertThrows(ConfigJson.MalformedException.class,
                () -> ConfigJson.parse("\"a\nb\""));
        assertThat(e.position()).isEqualTo(2);
    }

    @Test
    void deepNestingIsRefusedNotOverflowed() {
        char[] open = new char[10_000];
        Arrays.fill(open, '[');
        ConfigJson.MalformedException e = assertThrows(ConfigJson.MalformedException.class,
                () -> ConfigJson.parse(new String(open)));
        assertThat(e.getMessage()).contains("at most " + ConfigJson.MAX_DEPTH + " levels of nesting");
    }

    @Test
    void duplicateKeysAreRefusedNotSilentlyMerged() {
        ConfigJson.MalformedException e = assertThrows(ConfigJson.MalformedException.class,
                () -> ConfigJson.parse("{\"host\":\"a\",\"host\":\"b\"}"));
        assertThat(e.getMessage()).endsWith("expected each key once in an object");
    }

    @Test
    void theInputTextNeverAppearsInTheMessage() {
        for (String bad : new String[] {"[{\"password\": S3cret-Unquoted}]", "S3cret-Unquoted", "[1] S3cret-Unquoted",
                "{\"password\":\"S3cret-Unquoted\" x}"}) {
            ConfigJson.MalformedException e = assertThrows(ConfigJson.MalformedException.class,
                    () -> ConfigJson.parse(bad));
            assertThat(e.getMessage()).doesNotContain("S3cret").doesNotContain("Unquoted");
        }
    }

    @Test
    void hugeExponentIsAnErrorNotACrash() {
        assertThrows(ConfigJson.MalformedException.class, () -> ConfigJson.parse("1e99999999999"));
    }
}

package dev.readsplit.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.util.Locale;

/**
 * Reads the JSON that configuration takes ({@code DB_REPLICAS}, {@code DATABASE_READ_URLS} as a JSON list, a
 * replica posted to the admin endpoint) with Jackson. Values become {@link java.util.List},
 * {@link java.util.LinkedHashMap} (key order kept), {@link String}, {@link Number} ({@code Integer}, {@code Long},
 * {@code BigInteger} or {@code BigDecimal}), {@link Boolean} or {@code null}.
 *
 * <p>Errors are a {@link MalformedException} naming the 0-based character position (as Node's {@code JSON.parse}
 * does) and what was expected there. Jackson's own message is never shown: it quotes the offending token, which
 * may be part of a password. Nesting deeper than {@value #MAX_DEPTH}, duplicate keys and trailing text are
 * refused; the input size is bounded by the caller (an environment variable, a bounded request body).
 */
final class ConfigJson {

    static final int MAX_DEPTH = 64;

    private static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH)
                            .maxNumberLength(100).build())
                    .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .build();

    /** Malformed input: {@code malformed JSON at position N: expected X}. Never contains the input text. */
    static final class MalformedException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int position;

        MalformedException(int position, String expected) {
            super("malformed JSON at position " + position + ": expected " + expected);
            this.position = position;
        }

        int position() {
            return position;
        }
    }

    private ConfigJson() {
    }

    /** Parses one JSON value that must make up the whole text (surrounding whitespace allowed). */
    static Object parse(String text) throws MalformedException {
        String t = text == null ? "" : text;
        if (t.isBlank()) {
            throw new MalformedException(t.length(), "a value");
        }
        try (JsonParser p = MAPPER.createParser(t)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw new MalformedException(t.length(), "a value");
            }
            Object value = MAPPER.readValue(p, Object.class);
            int end = offset(p.currentLocation().getCharOffset(), t);
            JsonToken extra;
            try {
                extra = p.nextToken();
            } catch (JsonProcessingException e) {
                throw new MalformedException(offset(p.currentTokenLocation().getCharOffset(), t), "end of input");
            }
            if (extra != null) {
                throw new MalformedException(offset(p.currentTokenLocation().getCharOffset(), t), "end of input");
            }
            return value;
        } catch (StreamConstraintsException e) {
            String m = String.valueOf(e.getOriginalMessage());
            int at = e.getLocation() == null ? 0 : offset(e.getLocation().getCharOffset(), t);
            throw new MalformedException(at, m.contains("nesting") ? "at most " + MAX_DEPTH + " levels of nesting"
                    : "a number of reasonable size");
        } catch (JsonProcessingException e) {
            int at = e.getLocation() == null ? 0 : offset(e.getLocation().getCharOffset(), t);
            throw new MalformedException(at, expected(String.valueOf(e.getOriginalMessage())));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new MalformedException(0, "a number of reasonable size");
        } catch (IOException e) {
            throw new MalformedException(0, "valid JSON");
        }
    }

    private static int offset(long charOffset, String text) {
        return charOffset < 0 ? text.length() : (int) Math.min(charOffset, text.length());
    }

    /** What was expected, from Jackson's (English, stable) description of the problem. */
    static String expected(String jacksonMessage) {
        String m = jacksonMessage.toLowerCase(Locale.ROOT);
        if (m.contains("comma to separate object") || m.contains("close marker for object")) {
            return "',' or '}'";
        }
        if (m.contains("comma to separate array") || m.contains("close marker for array")) {
            return "',' or ']'";
        }
        if (m.contains("double-quote to start field name")) {
            return "a string key";
        }
        if (m.contains("colon to separate field name")) {
            return "':'";
        }
        if (m.contains("duplicate field")) {
            return "each key once in an object";
        }
        if (m.contains("closing quote")) {
            return "'\"' to close the string";
        }
        if (m.contains("unquoted character")) {
            return "an escaped control character (\\n, \\t, \\u0000...)";
        }
        if (m.contains("character escape")) {
            return m.contains("hex-digit") ? "4 hex digits after \\u" : "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX";
        }
        if (m.contains("leading zero")) {
            return "a number without leading zeros";
        }
        if (m.contains("exponent")) {
            return "a digit in the exponent";
        }
        if (m.contains("decimal point")) {
            return "a digit after '.'";
        }
        if (m.contains("digit following") || m.contains("digit for number")) {
            return "a digit";
        }
        return "a value";
    }
}

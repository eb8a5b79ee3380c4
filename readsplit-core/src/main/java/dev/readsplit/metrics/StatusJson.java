package dev.readsplit.metrics;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * Jackson's streaming generator set up for the status and metrics JSON: strings escaped completely, and also
 * {@code <}, {@code >}, {@code &}, U+2028 and U+2029 as {@code \\uXXXX}, so the output is safe inside HTML or a
 * script; non-finite doubles written as {@code null}; whole doubles written without a fraction ({@code 3}, not
 * {@code 3.0}), as the snapshots always have.
 */
final class StatusJson {

    private static final JsonFactory FACTORY = new JsonFactory().setCharacterEscapes(new HtmlSafe());

    @FunctionalInterface
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private StatusJson() {
    }

    static String write(Body body) {
        StringWriter out = new StringWriter(512);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            body.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    /** A number field: null for null, NaN and infinities; whole values without a fraction. */
    static void number(JsonGenerator g, String name, Double value) throws IOException {
        g.writeFieldName(name);
        number(g, value);
    }

    static void number(JsonGenerator g, Double value) throws IOException {
        if (value == null || value.isNaN() || value.isInfinite()) {
            g.writeNull();
        } else if (value == Math.rint(value) && Math.abs(value) < 1e15) {
            g.writeNumber(value.longValue());
        } else {
            g.writeNumber(value);
        }
    }

    static void string(JsonGenerator g, String name, String value) throws IOException {
        if (value == null) {
            g.writeNullField(name);
        } else {
            g.writeStringField(name, value);
        }
    }

    /** Jackson's standard escapes plus the characters that matter inside HTML and scripts. */
    private static final class HtmlSafe extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] escapes;

        HtmlSafe() {
            escapes = standardAsciiEscapesForJSON();
            escapes['<'] = ESCAPE_CUSTOM;
            escapes['>'] = ESCAPE_CUSTOM;
            escapes['&'] = ESCAPE_CUSTOM;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return escapes;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            if (ch == '<' || ch == '>' || ch == '&' || ch == 0x2028 || ch == 0x2029) {
                return new com.fasterxml.jackson.core.io.SerializedString(String.format("\\u%04x", ch));
            }
            return null;
        }
    }
}

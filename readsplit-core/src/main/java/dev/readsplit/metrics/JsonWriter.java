package dev.readsplit.metrics;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;

/**
 * The status and metrics snapshots' JSON, written with Jackson's streaming {@link JsonGenerator}: this class
 * only keeps the snapshots' small fluent vocabulary ({@code beginObject().field(...)}) and the two output rules
 * they need on top of RFC 8259. Strings escape, besides what Jackson always escapes, {@code <}, {@code >},
 * {@code &}, U+2028 and U+2029 as {@code \\uXXXX}, so the output is safe inside HTML or a script; non-finite
 * doubles are written as {@code null} and whole doubles below 10^15 as integers. Not thread-safe; one writer per
 * document.
 */
final class JsonWriter {

    private static final JsonFactory FACTORY = new JsonFactoryBuilder()
            .characterEscapes(new HtmlSafeEscapes()).build();

    private final StringWriter out = new StringWriter(512);
    private final JsonGenerator g;

    JsonWriter() {
        try {
            g = FACTORY.createGenerator(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private interface Write {
        void run() throws IOException;
    }

    private JsonWriter write(Write w) {
        try {
            w.run();
        } catch (IOException e) {
            // a StringWriter does not fail; Jackson reports a misuse (a value where a name belongs) this way
            throw new IllegalStateException("malformed status JSON: " + e.getMessage(), e);
        }
        return this;
    }

    JsonWriter beginObject() {
        return write(g::writeStartObject);
    }

    JsonWriter endObject() {
        return write(g::writeEndObject);
    }

    JsonWriter beginArray() {
        return write(g::writeStartArray);
    }

    JsonWriter endArray() {
        return write(g::writeEndArray);
    }

    /** A member name; the value follows. */
    JsonWriter name(String name) {
        return write(() -> g.writeFieldName(name));
    }

    JsonWriter value(String s) {
        return write(() -> g.writeString(s));
    }

    JsonWriter value(long n) {
        return write(() -> g.writeNumber(n));
    }

    JsonWriter value(double d) {
        return write(() -> {
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                g.writeNull();
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                g.writeNumber((long) d);
            } else {
                g.writeNumber(d);
            }
        });
    }

    JsonWriter value(boolean b) {
        return write(() -> g.writeBoolean(b));
    }

    JsonWriter nullValue() {
        return write(g::writeNull);
    }

    JsonWriter field(String name, String value) {
        return name(name).value(value);
    }

    JsonWriter field(String name, long value) {
        return name(name).value(value);
    }

    JsonWriter field(String name, double value) {
        return name(name).value(value);
    }

    JsonWriter field(String name, boolean value) {
        return name(name).value(value);
    }

    /** A number field, or null when {@code value} is null. */
    JsonWriter field(String name, Double value) {
        name(name);
        return value == null ? nullValue() : value(value.doubleValue());
    }

    /** Quotes and escapes one string as a JSON string literal. */
    static String quote(String s) {
        return new JsonWriter().value(s).toString();
    }

    /** The document written so far (complete once every container is closed). */
    @Override
    public String toString() {
        write(g::flush);
        return out.toString();
    }

    /** Jackson's standard escapes plus {@code < > &} and the two JavaScript line separators, lower-case hex. */
    private static final class HtmlSafeEscapes extends CharacterEscapes {
        private static final long serialVersionUID = 1L;
        private final int[] table = standardAsciiEscapesForJSON();

        HtmlSafeEscapes() {
            table['<'] = ESCAPE_CUSTOM;
            table['>'] = ESCAPE_CUSTOM;
            table['&'] = ESCAPE_CUSTOM;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return table;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return switch (ch) {
                case '<', '>', '&', 0x2028, 0x2029 -> new SerializedString(String.format("\\u%04x", ch));
                default -> null;
            };
        }
    }
}

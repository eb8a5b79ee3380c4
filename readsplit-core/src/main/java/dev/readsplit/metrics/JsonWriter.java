package dev.readsplit.metrics;

/**
 * A minimal streaming JSON writer (RFC 8259) for the status and metrics snapshots, so that core needs no JSON
 * library. Strings are escaped completely: quote, backslash, every control character, and also {@code <},
 * {@code >}, {@code &}, U+2028 and U+2029 as {@code \\uXXXX}, so the output is safe inside HTML or a script.
 * Non-finite doubles are written as {@code null}. Not thread-safe; one writer per document.
 */
final class JsonWriter {

    private final StringBuilder sb = new StringBuilder(512);
    /** Whether the next value in the current container needs a comma before it. */
    private boolean comma;

    JsonWriter beginObject() {
        separate();
        sb.append('{');
        comma = false;
        return this;
    }

    JsonWriter endObject() {
        sb.append('}');
        comma = true;
        return this;
    }

    JsonWriter beginArray() {
        separate();
        sb.append('[');
        comma = false;
        return this;
    }

    JsonWriter endArray() {
        sb.append(']');
        comma = true;
        return this;
    }

    /** A member name; the value follows. */
    JsonWriter name(String name) {
        separate();
        string(name);
        sb.append(':');
        comma = false;
        return this;
    }

    JsonWriter value(String s) {
        separate();
        if (s == null) {
            sb.append("null");
        } else {
            string(s);
        }
        comma = true;
        return this;
    }

    JsonWriter value(long n) {
        separate();
        sb.append(n);
        comma = true;
        return this;
    }

    JsonWriter value(double d) {
        separate();
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            sb.append("null");
        } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            sb.append((long) d);
        } else {
            sb.append(d);
        }
        comma = true;
        return this;
    }

    JsonWriter value(boolean b) {
        separate();
        sb.append(b);
        comma = true;
        return this;
    }

    JsonWriter nullValue() {
        separate();
        sb.append("null");
        comma = true;
        return this;
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

    private void separate() {
        if (comma) {
            sb.append(',');
            comma = false;
        }
    }

    private void string(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Quotes and escapes one string as a JSON string literal. */
    static String quote(String s) {
        JsonWriter w = new JsonWriter();
        w.value(s);
        return w.toString();
    }

    @Override
    public String toString() {
        return sb.toString();
    }
}

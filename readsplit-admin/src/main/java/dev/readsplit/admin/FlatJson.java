package dev.readsplit.admin;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads one flat JSON object ({@code {"host": "db3", "port": 5432}}): string, number, boolean and null
 * members, no nesting. Enough for the admin API's request bodies without a JSON library. Errors name the
 * position, never echo the input (it may hold a password).
 */
final class FlatJson {

    private final String s;
    private int i;

    private FlatJson(String s) {
        this.s = s;
    }

    static Map<String, Object> parseObject(String text) {
        FlatJson p = new FlatJson(text);
        Map<String, Object> out = p.object();
        p.ws();
        if (p.i != p.s.length()) {
            throw p.error("end of input");
        }
        return out;
    }

    private Map<String, Object> object() {
        Map<String, Object> out = new LinkedHashMap<>();
        ws();
        expect('{');
        ws();
        if (peek() == '}') {
            i++;
            return out;
        }
        while (true) {
            ws();
            String key = string();
            ws();
            expect(':');
            ws();
            out.put(key, value());
            ws();
            char c = next();
            if (c == '}') {
                return out;
            }
            if (c != ',') {
                i--;
                throw error("',' or '}'");
            }
        }
    }

    private Object value() {
        char c = peek();
        if (c == '"') {
            return string();
        }
        if (s.startsWith("true", i)) {
            i += 4;
            return Boolean.TRUE;
        }
        if (s.startsWith("false", i)) {
            i += 5;
            return Boolean.FALSE;
        }
        if (s.startsWith("null", i)) {
            i += 4;
            return null;
        }
        int start = i;
        while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        if (start == i) {
            throw error("a string, number, boolean or null (objects and arrays are not accepted)");
        }
        try {
            return new java.math.BigDecimal(s.substring(start, i));
        } catch (NumberFormatException e) {
            i = start;
            throw error("a number");
        }
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (true) {
            char c = next();
            if (c == '"') {
                return sb.toString();
            }
            if (c < 0x20) {
                i--;
                throw error("no control character in a string");
            }
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = next();
            switch (e) {
                case '"', '\\', '/' -> sb.append(e);
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) {
                        throw error("4 hex digits");
                    }
                    try {
                        sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException x) {
                        throw error("4 hex digits");
                    }
                    i += 4;
                }
                default -> {
                    i--;
                    throw error("an escape character");
                }
            }
        }
    }

    private void ws() {
        while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) {
            i++;
        }
    }

    private char peek() {
        if (i >= s.length()) {
            throw error("more input");
        }
        return s.charAt(i);
    }

    private char next() {
        char c = peek();
        i++;
        return c;
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("'" + c + "'");
        }
        i++;
    }

    private IllegalArgumentException error(String expected) {
        return new IllegalArgumentException("malformed JSON at position " + i + ": expected " + expected);
    }
}

package dev.readsplit.config;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small, total JSON reader (RFC 8259) for the one place configuration takes JSON: the {@code DB_REPLICAS}
 * environment variable. Values become {@link List}, {@link LinkedHashMap} (key order kept), {@link String},
 * {@link BigDecimal}, {@link Boolean} or {@code null}. Every input either yields a value or a
 * {@link MalformedException} naming the 0-based character position (as Node's {@code JSON.parse} does) and
 * what was expected there; nesting deeper than {@value #MAX_DEPTH} is refused rather than overflowing the stack.
 */
final class MiniJson {

    static final int MAX_DEPTH = 64;

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

    private final String s;
    private int pos;

    private MiniJson(String s) {
        this.s = s;
    }

    /** Parses one JSON value that must make up the whole text (surrounding whitespace allowed). */
    static Object parse(String text) throws MalformedException {
        MiniJson p = new MiniJson(text == null ? "" : text);
        p.skipWhitespace();
        Object v = p.value(0);
        p.skipWhitespace();
        if (p.pos < p.s.length()) {
            throw new MalformedException(p.pos, "end of input");
        }
        return v;
    }

    private Object value(int depth) throws MalformedException {
        if (pos >= s.length()) {
            throw new MalformedException(pos, "a value");
        }
        char c = s.charAt(pos);
        switch (c) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return string();
            case 't':
                return literal("true", Boolean.TRUE);
            case 'f':
                return literal("false", Boolean.FALSE);
            case 'n':
                return literal("null", null);
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw new MalformedException(pos, "a value");
        }
    }

    private Map<String, Object> object(int depth) throws MalformedException {
        checkDepth(depth);
        pos++; // '{'
        Map<String, Object> map = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return map;
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw new MalformedException(pos, "a string key");
            }
            String key = string();
            skipWhitespace();
            expect(':', "':'");
            skipWhitespace();
            map.put(key, value(depth));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                return map;
            } else {
                throw new MalformedException(pos, "',' or '}'");
            }
        }
    }

    private List<Object> array(int depth) throws MalformedException {
        checkDepth(depth);
        pos++; // '['
        List<Object> list = new ArrayList<>();
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return list;
        }
        while (true) {
            skipWhitespace();
            list.add(value(depth));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                return list;
            } else {
                throw new MalformedException(pos, "',' or ']'");
            }
        }
    }

    private String string() throws MalformedException {
        pos++; // opening quote
        StringBuilder sb = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw new MalformedException(pos, "'\"' to close the string");
            }
            char c = s.charAt(pos);
            if (c == '"') {
                pos++;
                return sb.toString();
            }
            if (c < 0x20) {
                throw new MalformedException(pos, "an escaped control character (\\n, \\t, \\u0000...)");
            }
            if (c != '\\') {
                sb.append(c);
                pos++;
                continue;
            }
            pos++;
            if (pos >= s.length()) {
                throw new MalformedException(pos, "an escape character");
            }
            char e = s.charAt(pos);
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'n' -> sb.append('\n');
                case 'r' -> sb.append('\r');
                case 't' -> sb.append('\t');
                case 'u' -> {
                    int code = 0;
                    for (int i = 1; i <= 4; i++) {
                        int d = pos + i < s.length() ? Character.digit(s.charAt(pos + i), 16) : -1;
                        if (d < 0) {
                            throw new MalformedException(pos + i, "4 hex digits after \\u");
                        }
                        code = code * 16 + d;
                    }
                    sb.append((char) code);
                    pos += 4;
                }
                default -> throw new MalformedException(pos,
                        "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX");
            }
            pos++;
        }
    }

    private BigDecimal number() throws MalformedException {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (isDigit(peek())) {
            digits();
        } else {
            throw new MalformedException(pos, "a digit");
        }
        if (peek() == '.') {
            pos++;
            if (!isDigit(peek())) {
                throw new MalformedException(pos, "a digit after '.'");
            }
            digits();
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw new MalformedException(pos, "a digit in the exponent");
            }
            digits();
        }
        try {
            return new BigDecimal(s.substring(start, pos));
        } catch (NumberFormatException | ArithmeticException e) { // exponent out of int range
            throw new MalformedException(start, "a number of reasonable size");
        }
    }

    private Object literal(String word, Object value) throws MalformedException {
        if (!s.startsWith(word, pos)) {
            throw new MalformedException(pos, "a value");
        }
        pos += word.length();
        return value;
    }

    private void checkDepth(int depth) throws MalformedException {
        if (depth > MAX_DEPTH) {
            throw new MalformedException(pos, "at most " + MAX_DEPTH + " levels of nesting");
        }
    }

    private void expect(char c, String what) throws MalformedException {
        if (peek() != c) {
            throw new MalformedException(pos, what);
        }
        pos++;
    }

    private void digits() {
        while (isDigit(peek())) {
            pos++;
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** The current character, or {@code \0} at the end (never a valid token start). */
    private char peek() {
        return pos < s.length() ? s.charAt(pos) : '\0';
    }

    private void skipWhitespace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }
}

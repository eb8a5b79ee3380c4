package dev.readsplit.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reader for the small YAML subset Readsplit documents for configuration files:
 * <ul>
 * <li>nested maps by indentation (spaces only): {@code key: value} and {@code key:} followed by a more indented
 * block;</li>
 * <li>scalars: plain ({@code 1s}, {@code db1:5432}), single-quoted ({@code 'it''s'}) and double-quoted
 * ({@code "a\"b"}, escapes <code>&#92;&#92; &#92;" &#92;n &#92;t &#92;uXXXX</code>); {@code ~}, {@code null} and
 * an empty value mean no value;</li>
 * <li>lists of scalars, as {@code - item} lines (at the key's indentation or deeper) or inline
 * {@code [a, "b,c"]};</li>
 * <li>comments: {@code #} at the start of a line or after a space, outside quotes; a leading {@code ---}.</li>
 * </ul>
 * Anything else (tabs in indentation, flow maps {@code {}}, block scalars {@code | >}, anchors, aliases, tags,
 * maps inside lists, several documents, duplicate keys) is an error naming the line. Every scalar is kept as a
 * string; the caller interprets it. The result is a tree of {@link LinkedHashMap}, {@link List} and
 * {@link String} ({@code null} for no value).
 */
final class MiniYaml {

    /** A YAML problem at a 1-based line. */
    static final class YamlException extends Exception {
        private static final long serialVersionUID = 1L;
        private final int line;

        YamlException(int line, String message) {
            super("line " + line + ": " + message);
            this.line = line;
        }

        int line() {
            return line;
        }
    }

    private record Line(int number, int indent, String content) {
    }

    private final List<Line> lines = new ArrayList<>();
    /** Dotted path of every map key → its line, for error messages. */
    private final Map<String, Integer> keyLines = new LinkedHashMap<>();
    private int next;

    private MiniYaml() {
    }

    /** The parse result: the top-level map and the line of every key, by dotted path ({@code readsplit.primary}). */
    record Document(Map<String, Object> root, Map<String, Integer> keyLines) {
    }

    static Document parse(String text) throws YamlException {
        MiniYaml y = new MiniYaml();
        y.split(text);
        Map<String, Object> root = new LinkedHashMap<>();
        if (!y.lines.isEmpty()) {
            Line first = y.lines.get(0);
            if (first.indent() != 0) {
                throw new YamlException(first.number(), "the first key must not be indented");
            }
            if (isListItem(first.content())) {
                throw new YamlException(first.number(), "the top level must be a map (key: value), not a list");
            }
            root = y.map(0, "");
            if (y.next < y.lines.size()) {
                Line l = y.lines.get(y.next);
                throw new YamlException(l.number(), "bad indentation (expected a key at column 1)");
            }
        }
        return new Document(root, y.keyLines);
    }

    private void split(String text) throws YamlException {
        String[] raw = text.split("\r\n|\r|\n", -1);
        boolean started = false;
        for (int i = 0; i < raw.length; i++) {
            int number = i + 1;
            String l = raw[i];
            if (i == 0 && !l.isEmpty() && l.charAt(0) == '\uFEFF') {
                l = l.substring(1);
            }
            int indent = 0;
            while (indent < l.length() && l.charAt(indent) == ' ') {
                indent++;
            }
            if (indent < l.length() && l.charAt(indent) == '\t') {
                throw new YamlException(number, "tabs are not allowed in indentation; use spaces");
            }
            String content = stripComment(l.substring(indent), number).stripTrailing();
            if (content.isEmpty()) {
                continue;
            }
            if (content.equals("---") && indent == 0) {
                if (started) {
                    throw new YamlException(number, "only one YAML document is supported");
                }
                started = true;
                continue;
            }
            if (content.equals("...") && indent == 0) {
                throw new YamlException(number, "document end markers ('...') are not supported");
            }
            started = true;
            lines.add(new Line(number, indent, content));
        }
    }

    /** Removes a comment: {@code #} at the start or after whitespace, outside quotes. */
    private static String stripComment(String s, int number) {
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\' && quote == '"') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
            } else if (c == '#' && (i == 0 || Character.isWhitespace(s.charAt(i - 1)))) {
                return s.substring(0, i);
            } else if ((c == '"' || c == '\'') && (i == 0 || " [,:-".indexOf(s.charAt(i - 1)) >= 0)) {
                quote = c;
            }
        }
        return s;
    }

    private static boolean isListItem(String content) {
        return content.equals("-") || content.startsWith("- ");
    }

    private Map<String, Object> map(int indent, String path) throws YamlException {
        Map<String, Object> map = new LinkedHashMap<>();
        while (next < lines.size()) {
            Line l = lines.get(next);
            if (l.indent() < indent) {
                break;
            }
            if (l.indent() > indent) {
                throw new YamlException(l.number(), "bad indentation: expected " + indent + " spaces, found "
                        + l.indent());
            }
            if (isListItem(l.content())) {
                throw new YamlException(l.number(), "a list item where a key was expected");
            }
            next++;
            int colon = keyEnd(l);
            String key = unquoteKey(l.content().substring(0, colon).trim(), l.number());
            String rest = l.content().substring(colon + 1).trim();
            String full = path.isEmpty() ? key : path + "." + key;
            if (map.containsKey(key)) {
                throw new YamlException(l.number(), "duplicate key '" + key + "' (first at line "
                        + keyLines.get(full) + ")");
            }
            keyLines.put(full, l.number());
            if (!rest.isEmpty()) {
                map.put(key, rest.startsWith("[") ? inlineList(rest, l.number()) : scalar(rest, l.number()));
                continue;
            }
            Line child = next < lines.size() ? lines.get(next) : null;
            if (child != null && child.indent() > indent) {
                map.put(key, isListItem(child.content()) ? list(child.indent(), full)
                        : map(child.indent(), full));
            } else if (child != null && child.indent() == indent && isListItem(child.content())) {
                map.put(key, list(indent, full)); // "key:\n- a" at the key's own indentation
            } else {
                map.put(key, null);
            }
        }
        return map;
    }

    private List<Object> list(int indent, String path) throws YamlException {
        List<Object> list = new ArrayList<>();
        while (next < lines.size()) {
            Line l = lines.get(next);
            if (l.indent() < indent || (l.indent() == indent && !isListItem(l.content()))) {
                break;
            }
            if (l.indent() > indent) {
                throw new YamlException(l.number(), "bad indentation: expected " + indent + " spaces, found "
                        + l.indent());
            }
            next++;
            String item = l.content().substring(1).trim();
            if (item.isEmpty() || isListItem(item) || item.startsWith("[") || looksLikeKey(item)) {
                throw new YamlException(l.number(), "only lists of scalars are supported under '" + path + "'");
            }
            list.add(scalar(item, l.number()));
        }
        return list;
    }

    /** The index of the colon ending the key; the key may be quoted. */
    private static int keyEnd(Line l) throws YamlException {
        String s = l.content();
        int from = 0;
        if (s.startsWith("\"") || s.startsWith("'")) {
            int close = s.indexOf(s.charAt(0), 1);
            if (close < 0) {
                throw new YamlException(l.number(), "unclosed quote in key");
            }
            from = close + 1;
        }
        for (int i = from; i < s.length(); i++) {
            if (s.charAt(i) == ':' && (i + 1 == s.length() || s.charAt(i + 1) == ' ')) {
                return i;
            }
        }
        throw new YamlException(l.number(), "expected 'key: value' or 'key:' (a space must follow the colon)");
    }

    private static boolean looksLikeKey(String item) {
        if (item.startsWith("\"") || item.startsWith("'")) {
            return false;
        }
        int colon = item.indexOf(": ");
        return colon > 0 || item.endsWith(":");
    }

    private static String unquoteKey(String key, int line) throws YamlException {
        if (key.isEmpty()) {
            throw new YamlException(line, "empty key");
        }
        if (key.startsWith("\"") || key.startsWith("'")) {
            return (String) scalar(key, line);
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (!(Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.')) {
                throw new YamlException(line, "unsupported character '" + c + "' in key '" + key + "'");
            }
        }
        return key;
    }

    private static List<Object> inlineList(String s, int line) throws YamlException {
        if (!s.endsWith("]")) {
            throw new YamlException(line, "an inline list must end with ']' on the same line");
        }
        String body = s.substring(1, s.length() - 1).trim();
        List<Object> out = new ArrayList<>();
        if (body.isEmpty()) {
            return out;
        }
        int start = 0;
        char quote = 0;
        for (int i = 0; i <= body.length(); i++) {
            char c = i < body.length() ? body.charAt(i) : ',';
            if (quote != 0) {
                if (c == '\\' && quote == '"') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
                if (i >= body.length()) {
                    throw new YamlException(line, "unclosed quote in inline list");
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '[' || c == ']' || c == '{' || c == '}') {
                throw new YamlException(line, "nested lists and maps are not supported in an inline list");
            } else if (c == ',') {
                String item = body.substring(start, i).trim();
                if (item.isEmpty()) {
                    throw new YamlException(line, "empty item in inline list");
                }
                out.add(scalar(item, line));
                start = i + 1;
            }
        }
        return out;
    }

    private static Object scalar(String s, int line) throws YamlException {
        char c = s.charAt(0);
        if (c == '"') {
            return doubleQuoted(s, line);
        }
        if (c == '\'') {
            int i = 1;
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw new YamlException(line, "unclosed single quote");
                }
                char ch = s.charAt(i);
                if (ch == '\'') {
                    if (i + 1 < s.length() && s.charAt(i + 1) == '\'') {
                        sb.append('\'');
                        i += 2;
                        continue;
                    }
                    if (i + 1 != s.length()) {
                        throw new YamlException(line, "unexpected text after the closing quote");
                    }
                    return sb.toString();
                }
                sb.append(ch);
                i++;
            }
        }
        switch (c) {
            case '{' -> throw new YamlException(line, "flow maps ({...}) are not supported; use indentation");
            case '|', '>' -> throw new YamlException(line, "block scalars (| and >) are not supported");
            case '&', '*' -> throw new YamlException(line, "anchors and aliases (& and *) are not supported");
            case '!' -> throw new YamlException(line, "tags (!) are not supported");
            case '@', '`' -> throw new YamlException(line, "a plain value must not start with '" + c
                    + "'; quote it");
            case '[' -> throw new YamlException(line, "unexpected '['");
            default -> {
            }
        }
        if (s.contains(": ") || s.endsWith(":")) {
            throw new YamlException(line, "a value must not contain ': ' unless quoted (nested maps go on their "
                    + "own lines)");
        }
        if (s.equals("~") || s.equals("null") || s.equals("Null") || s.equals("NULL")) {
            return null;
        }
        return s;
    }

    private static String doubleQuoted(String s, int line) throws YamlException {
        StringBuilder sb = new StringBuilder();
        int i = 1;
        while (true) {
            if (i >= s.length()) {
                throw new YamlException(line, "unclosed double quote");
            }
            char ch = s.charAt(i);
            if (ch == '"') {
                if (i + 1 != s.length()) {
                    throw new YamlException(line, "unexpected text after the closing quote");
                }
                return sb.toString();
            }
            if (ch != '\\') {
                sb.append(ch);
                i++;
                continue;
            }
            if (i + 1 >= s.length()) {
                throw new YamlException(line, "unclosed double quote");
            }
            char e = s.charAt(i + 1);
            switch (e) {
                case '"' -> sb.append('"');
                case '\\' -> sb.append('\\');
                case '/' -> sb.append('/');
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case '0' -> sb.append('\0');
                case 'u' -> {
                    if (i + 6 > s.length()) {
                        throw new YamlException(line, "\\u needs 4 hex digits");
                    }
                    try {
                        sb.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
                    } catch (NumberFormatException ex) {
                        throw new YamlException(line, "\\u needs 4 hex digits");
                    }
                    i += 4;
                }
                default -> throw new YamlException(line, "unsupported escape '\\" + e + "' in double quotes");
            }
            i += 2;
        }
    }
}

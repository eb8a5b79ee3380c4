package dev.readsplit.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a YAML configuration file with Jackson's YAML format (SnakeYAML underneath) into a tree of
 * {@link LinkedHashMap}, {@link List} and {@link String}, with the line of every key and list item. Every scalar
 * is kept as the text written ({@code 5432}, {@code yes} and {@code 0123} stay what they say; the key decides
 * what they mean); {@code ~}, {@code null} and an empty value are null.
 *
 * <p>Any YAML the library reads is accepted (block and flow maps and lists, block scalars, quoting, comments),
 * except what Readsplit would otherwise misread silently, which is an error naming the line: aliases (Jackson
 * reads an alias as the anchor's name), tags ({@code !vault x} would be read as {@code x}), duplicate
 * keys and a second document. Syntax errors name the line and say what is wrong in Readsplit's words, never
 * quoting the text (it may be a password).
 */
final class ConfigYaml {

    /** Nesting deeper than this is refused (a configuration file needs four levels). */
    static final int MAX_DEPTH = 32;

    private static final YAMLFactory FACTORY = YAMLFactory.builder()
            .loaderOptions(loaderOptions())
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .build();

    private static LoaderOptions loaderOptions() {
        LoaderOptions o = new LoaderOptions();
        o.setAllowDuplicateKeys(true); // detected here, with both lines in the message
        o.setMaxAliasesForCollections(0);
        o.setCodePointLimit(1 << 20); // 1 MiB of configuration is plenty
        return o;
    }

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

    /**
     * The parse result: the top-level map and the line of every key and list item, by dotted path
     * ({@code readsplit.primary}, {@code readsplit.replicas[1]}, {@code readsplit.replicas[1].port}).
     */
    record Document(Map<String, Object> root, Map<String, Integer> keyLines) {
    }

    private final YAMLParser parser;
    private final String text;
    private final Map<String, Integer> keyLines = new LinkedHashMap<>();

    private ConfigYaml(YAMLParser parser, String text) {
        this.parser = parser;
        this.text = text;
    }

    static Document parse(String text) throws YamlException {
        try (YAMLParser p = (YAMLParser) FACTORY.createParser(text)) {
            ConfigYaml y = new ConfigYaml(p, text);
            JsonToken first = p.nextToken();
            if (first == null) {
                return new Document(new LinkedHashMap<>(), y.keyLines);
            }
            if (first == JsonToken.START_ARRAY) {
                throw new YamlException(1, "the top level must be a map (key: value), not a list");
            }
            if (first != JsonToken.START_OBJECT) {
                throw new YamlException(y.line(), "the top level must be a map (key: value), not a single value");
            }
            Map<String, Object> root = y.map("");
            int end = y.line();
            if (p.nextToken() != null) {
                throw new YamlException(end, "only one YAML document is supported");
            }
            return new Document(root, y.keyLines);
        } catch (JsonProcessingException e) {
            throw translate(e, text);
        } catch (IOException e) {
            throw new YamlException(1, "cannot read the YAML: " + e.getClass().getSimpleName());
        }
    }

    private int line() {
        return parser.currentTokenLocation().getLineNr();
    }

    /** The map whose START_OBJECT is the current token. */
    private Map<String, Object> map(String path) throws IOException, YamlException {
        checkNode();
        Map<String, Object> m = new LinkedHashMap<>();
        JsonToken t;
        while ((t = parser.nextToken()) != JsonToken.END_OBJECT) {
            if (t != JsonToken.FIELD_NAME) {
                throw new YamlException(line(), "expected a key");
            }
            String key = parser.currentName();
            int keyLine = line();
            String child = path.isEmpty() ? key : path + "." + key;
            if (m.containsKey(key)) {
                throw new YamlException(keyLine, "duplicate key '" + key + "' (first at line " + keyLines.get(child)
                        + ")");
            }
            keyLines.put(child, keyLine);
            parser.nextToken();
            m.put(key, value(child));
        }
        return m;
    }

    private List<Object> list(String path) throws IOException, YamlException {
        checkNode();
        List<Object> l = new ArrayList<>();
        JsonToken t;
        while ((t = parser.nextToken()) != JsonToken.END_ARRAY) {
            String child = path + "[" + l.size() + "]";
            keyLines.put(child, line());
            l.add(value(child, t));
        }
        return l;
    }

    private Object value(String path) throws IOException, YamlException {
        return value(path, parser.currentToken());
    }

    private Object value(String path, JsonToken t) throws IOException, YamlException {
        if (t == JsonToken.START_OBJECT) {
            return map(path);
        }
        if (t == JsonToken.START_ARRAY) {
            return list(path);
        }
        checkNode();
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        return parser.getText();
    }

    /** Aliases and tags are refused at the node that carries them (an anchor alone is harmless). */
    private void checkNode() throws IOException, YamlException {
        if (parser.isCurrentAlias()) {
            throw new YamlException(line(), "aliases (*name) are not supported: the value would be the anchor's "
                    + "name, not what it anchors");
        }
        if (parser.getTypeId() != null) {
            throw new YamlException(line(), "tags (!) are not supported");
        }
    }

    /** A SnakeYAML problem in Readsplit's words, at the line where it is. */
    private static YamlException translate(JsonProcessingException e, String text) {
        Throwable cause = e.getCause();
        while (cause != null && !(cause instanceof MarkedYAMLException)) {
            cause = cause.getCause();
        }
        if (!(cause instanceof MarkedYAMLException m)) {
            int line = e.getLocation() == null ? 1 : Math.max(1, e.getLocation().getLineNr());
            String msg = String.valueOf(e.getOriginalMessage());
            return new YamlException(line, msg.toLowerCase(java.util.Locale.ROOT).contains("nesting")
                    ? "nesting deeper than " + MAX_DEPTH + " levels is not supported" : "not valid YAML");
        }
        String problem = String.valueOf(m.getProblem());
        String context = String.valueOf(m.getContext());
        Mark problemMark = m.getProblemMark();
        Mark contextMark = m.getContextMark();
        int line = problemMark == null ? 1 : problemMark.getLine() + 1;
        int contextLine = contextMark == null ? line : contextMark.getLine() + 1;
        if (problem.contains("\\t(TAB)") || problem.contains("'\t'")) {
            return new YamlException(line, "tabs are not allowed in indentation; use spaces");
        }
        if (context.contains("quoted scalar")) {
            char quote = contextMark == null ? '"' : charAt(text, contextMark.getIndex());
            return new YamlException(contextLine, quote == '\'' ? "unclosed single quote" : "unclosed double quote");
        }
        if (context.contains("flow sequence")) {
            return new YamlException(contextLine, "an inline list [...] must end with ']'");
        }
        if (context.contains("flow mapping")) {
            return new YamlException(contextLine, "an inline map {...} must end with '}'");
        }
        if (problem.contains("mapping values are not allowed")) {
            return new YamlException(line, "a value must not contain ': ' unless quoted, and a nested key must be "
                    + "indented under its parent (bad indentation?)");
        }
        if (problem.contains("<block mapping start>")) {
            return new YamlException(line, "bad indentation: this key is not aligned with the keys before it");
        }
        if (problem.contains("<scalar>")) {
            return new YamlException(line, "unexpected text after a value (after a closing quote, or a key "
                    + "without ': ')");
        }
        if (problem.contains("could not find expected ':'")) {
            return new YamlException(line, "expected 'key: value' or 'key:' (a space must follow the colon)");
        }
        if (problem.contains("<block sequence start>") || problem.contains("<block entry>")) {
            return new YamlException(line, "bad indentation of a list item ('- ...')");
        }
        // SnakeYAML's problem sentences quote at most a single character, never the surrounding text
        return new YamlException(line, "not valid YAML: " + problem);
    }

    private static char charAt(String text, int index) {
        return index >= 0 && index < text.length() ? text.charAt(index) : '"';
    }
}

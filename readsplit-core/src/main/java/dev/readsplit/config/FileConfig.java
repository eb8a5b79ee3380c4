package dev.readsplit.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@link ReadsplitConfig#fromFile}: a {@code .properties} file or a YAML file ({@link ConfigYaml}), both applied
 * through the keys of {@link ReadsplitConfig#fromProperties} so that the keys, value syntax and checks are the
 * same. Every value may take {@code ${VAR}} / {@code ${VAR:default}} from the environment ({@link Placeholders}).
 * In YAML, {@code primary} and each entry of {@code replicas} may also be a map of node fields
 * ({@code host, port, database, user, password, zone, weight, maxLag, minPoolSize, maxPoolSize, jdbc}; seed 004's
 * {@code region, max_lag_seconds, min_pool_size, max_pool_size} too). Every problem is prefixed with the file
 * and, where known, {@code line N}.
 */
final class FileConfig {

    private static final String SECTION = "readsplit";

    private FileConfig() {
    }

    static ReadsplitConfig read(Path file, Map<String, String> env) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean yaml = name.endsWith(".yml") || name.endsWith(".yaml");
        if (!yaml && !name.endsWith(".properties")) {
            throw new ConfigException("file", "config file " + file
                    + " must end in .properties, .yml or .yaml");
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("file", "cannot read config file " + file + ": " + e);
        }
        Map<String, Integer> lines = new HashMap<>();
        /* Sorted, as fromProperties applies them: the problems come out in a stable order. Values are Strings,
         * or (YAML) the maps and lists of structured nodes. */
        Map<String, Object> values = new TreeMap<>();
        if (yaml) {
            yaml(file, text, values, lines);
        } else {
            Properties props = new Properties();
            try {
                props.load(new StringReader(text));
            } catch (IOException | IllegalArgumentException e) { // malformed \\uXXXX
                throw new ConfigException("file", file + ": not a valid properties file: " + e.getMessage());
            }
            for (String k : props.stringPropertyNames()) {
                if (k.startsWith(ConfigKeys.PREFIX)) {
                    values.put(k, props.getProperty(k));
                }
            }
            lines.putAll(propertyLines(text));
        }
        try {
            return apply(values, env);
        } catch (ConfigException e) {
            List<ConfigException.Problem> out = new ArrayList<>();
            for (ConfigException.Problem p : e.problems()) {
                Integer line = lines.get(p.key());
                out.add(new ConfigException.Problem(p.key(),
                        file + (line == null ? "" : ": line " + line) + ": " + p.message()));
            }
            throw new ConfigException(out);
        }
    }

    private static ReadsplitConfig apply(Map<String, Object> values, Map<String, String> env) {
        ConfigKeys.Collector c = new ConfigKeys.Collector(ConfigKeys.PREFIX);
        ReadsplitConfig.Builder b = ReadsplitConfig.builder();
        Set<String> secrets = new HashSet<>();
        for (Map.Entry<String, Object> e : values.entrySet()) {
            String key = e.getKey();
            String bare = key.substring(ConfigKeys.PREFIX.length());
            if (e.getValue() instanceof String raw) {
                String v;
                try {
                    v = Placeholders.resolve(key, raw, env);
                } catch (ConfigException ex) {
                    c.problem(key, ex.getMessage());
                    continue;
                }
                c.apply(b, bare, v, ConfigKeys.Source.PROPERTIES);
            } else if (bare.equals("primary")) {
                NodeConfig n = node(c, key, (Map<?, ?>) e.getValue(), env, secrets);
                if (n != null) {
                    b.primary(n);
                } else {
                    c.suppress(key);
                }
            } else {
                List<NodeConfig> nodes = new ArrayList<>();
                boolean ok = true;
                List<?> list = (List<?>) e.getValue();
                for (int i = 0; i < list.size(); i++) {
                    String at = key + "[" + i + "]";
                    Object item = list.get(i);
                    NodeConfig n = null;
                    if (item instanceof Map<?, ?> m) {
                        n = node(c, at, m, env, secrets);
                    } else if (item instanceof String spec) {
                        try {
                            n = NodeConfig.parse(key, Placeholders.resolve(at, spec, env));
                        } catch (ConfigException ex) {
                            for (ConfigException.Problem p : ex.problems()) {
                                c.problem(at, p.message().startsWith(key) ? p.message() : key + ": " + p.message());
                            }
                        }
                    } else if (item != null) {
                        c.problem(at, at + " must be host[:port] or a map of node settings (host: ..., port: ...), "
                                + "not a list");
                    }
                    if (n != null) {
                        nodes.add(n);
                    } else if (item != null) {
                        ok = false;
                    }
                }
                if (ok) {
                    b.replicas(nodes);
                } else {
                    c.suppress(key);
                }
            }
        }
        try {
            return c.build(b);
        } catch (ConfigException e) {
            Redactor r = Redactor.ofValues(secrets);
            List<ConfigException.Problem> out = new ArrayList<>();
            for (ConfigException.Problem p : e.problems()) {
                out.add(new ConfigException.Problem(p.key(), r.redact(p.message())));
            }
            throw new ConfigException(out);
        }
    }

    /** A node given as a YAML map; problems are recorded under {@code at} (whose line is known). */
    private static NodeConfig node(ConfigKeys.Collector c, String at, Map<?, ?> raw, Map<String, String> env,
                                   Set<String> secrets) {
        Map<Object, Object> m = new java.util.LinkedHashMap<>();
        boolean ok = true;
        for (Map.Entry<?, ?> e : raw.entrySet()) {
            Object v = e.getValue();
            String field = at + "." + e.getKey();
            try {
                if (v instanceof String s) {
                    v = Placeholders.resolve(field, s, env);
                } else if (v instanceof Map<?, ?> props) {
                    Map<Object, Object> resolved = new java.util.LinkedHashMap<>();
                    for (Map.Entry<?, ?> p : props.entrySet()) {
                        resolved.put(p.getKey(), p.getValue() instanceof String ps
                                ? Placeholders.resolve(field + "." + p.getKey(), ps, env) : p.getValue());
                    }
                    v = resolved;
                }
            } catch (ConfigException ex) {
                c.problem(field, ex.getMessage());
                ok = false;
                continue;
            }
            m.put(e.getKey(), v);
        }
        if (!ok) {
            return null;
        }
        List<String> errors = new ArrayList<>();
        NodeConfig n = NodeFields.fromMap(m, at, NodeConfig.DEFAULT_PORT, errors, secrets);
        for (String err : errors) {
            c.problem(lineKey(at, err), err);
        }
        return n;
    }

    /** The most precise key of a node-field message ({@code at.port must be...}) that has a line. */
    private static String lineKey(String at, String message) {
        if (message.startsWith(at + ".")) {
            int end = at.length() + 1;
            while (end < message.length() && message.charAt(end) != ' ') {
                end++;
            }
            return message.substring(0, end);
        }
        return at;
    }

    private static void yaml(Path file, String text, Map<String, Object> values, Map<String, Integer> lines) {
        ConfigYaml.Document doc;
        try {
            doc = ConfigYaml.parse(text);
        } catch (ConfigYaml.YamlException e) {
            throw new ConfigException("file", file + ": " + e.getMessage());
        }
        Object section = doc.root().get(SECTION);
        if (!(section instanceof Map<?, ?> map)) {
            Integer line = doc.keyLines().get(SECTION);
            String found = section instanceof String ? " (found a single value: is a space missing after a colon?)"
                    : "";
            throw new ConfigException("file", file + (line == null ? "" : ": line " + line) + ": expected a "
                    + "top-level 'readsplit:' map holding the settings (readsplit:\\n  primary: db1:5432 ...)" + found);
        }
        lines.putAll(doc.keyLines());
        try {
            sections(map, values, lines);
        } catch (ConfigException e) {
            throw new ConfigException(e.key(), file + ": " + e.getMessage());
        }
    }

    private static void sections(Map<?, ?> map, Map<String, Object> values, Map<String, Integer> lines) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = SECTION + "." + e.getKey();
            Object v = e.getValue();
            String bare = String.valueOf(e.getKey());
            if ((bare.equals("primary") && v instanceof Map<?, ?>)
                    || (bare.equals("replicas") && v instanceof List<?>)) {
                values.put(key, v);
            } else {
                flatten(key, v, values, lines);
            }
        }
    }

    private static void flatten(String key, Object v, Map<String, Object> out, Map<String, Integer> lines) {
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                flatten(key + "." + e.getKey(), e.getValue(), out, lines);
            }
        } else if (v instanceof List<?> list) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < list.size(); i++) {
                Object o = list.get(i);
                if (o instanceof Map<?, ?> || o instanceof List<?>) {
                    Integer line = lines.get(key + "[" + i + "]");
                    throw new ConfigException(key, "line " + line + ": only lists of single values are supported"
                            + " under '" + key + "'");
                }
                if (o != null) {
                    sb.append(sb.length() == 0 ? "" : ",").append(o);
                }
            }
            out.put(key, sb.toString());
        } else if (v != null) {
            out.put(key, v.toString());
        }
    }

    /** The line of each key in a properties file (simple lines only; continuation lines are not tracked). */
    private static Map<String, Integer> propertyLines(String text) {
        Map<String, Integer> lines = new HashMap<>();
        String[] raw = text.split("\r\n|\r|\n", -1);
        for (int i = 0; i < raw.length; i++) {
            String l = raw[i].stripLeading();
            if (l.isEmpty() || l.charAt(0) == '#' || l.charAt(0) == '!') {
                continue;
            }
            int end = 0;
            while (end < l.length() && " \t\f=:".indexOf(l.charAt(end)) < 0) {
                end++;
            }
            lines.putIfAbsent(l.substring(0, end), i + 1);
        }
        return lines;
    }
}

package dev.readsplit.config;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * {@link ReadsplitConfig#fromFile}: a {@code .properties} file or a YAML file in the {@link MiniYaml} subset, both
 * funnelled through {@link ReadsplitConfig#fromProperties} so that the keys, value syntax and checks are the same.
 * Every problem is prefixed with the file and, where known, {@code line N}.
 */
final class FileConfig {

    private FileConfig() {
    }

    static ReadsplitConfig read(Path file) {
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
        Properties props = new Properties();
        Map<String, Integer> lines;
        if (yaml) {
            lines = new HashMap<>();
            yaml(file, text, props, lines);
        } else {
            try {
                props.load(new StringReader(text));
            } catch (IOException | IllegalArgumentException e) { // malformed \\uXXXX
                throw new ConfigException("file", file + ": not a valid properties file: " + e.getMessage());
            }
            lines = propertyLines(text);
        }
        try {
            return ReadsplitConfig.fromProperties(props);
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

    private static void yaml(Path file, String text, Properties props, Map<String, Integer> lines) {
        MiniYaml.Document doc;
        try {
            doc = MiniYaml.parse(text);
        } catch (MiniYaml.YamlException e) {
            throw new ConfigException("file", file + ": " + e.getMessage());
        }
        Object section = doc.root().get("readsplit");
        if (!(section instanceof Map<?, ?> map)) {
            Integer line = doc.keyLines().get("readsplit");
            throw new ConfigException("file", file + (line == null ? "" : ": line " + line) + ": expected a "
                    + "top-level 'readsplit:' map holding the settings (readsplit:\\n  primary: db1:5432 ...)");
        }
        flatten("readsplit", map, props);
        lines.putAll(doc.keyLines());
    }

    private static void flatten(String path, Map<?, ?> map, Properties out) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = path + "." + e.getKey();
            Object v = e.getValue();
            if (v instanceof Map<?, ?> m) {
                flatten(key, m, out);
            } else if (v instanceof List<?> list) {
                StringBuilder sb = new StringBuilder();
                for (Object o : list) {
                    if (o != null) {
                        sb.append(sb.length() == 0 ? "" : ",").append(o);
                    }
                }
                out.setProperty(key, sb.toString());
            } else if (v != null) {
                out.setProperty(key, v.toString());
            }
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

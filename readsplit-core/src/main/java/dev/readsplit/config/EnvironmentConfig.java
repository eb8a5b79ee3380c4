package dev.readsplit.config;

import org.postgresql.PGProperty;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Reads a {@link ReadsplitConfig} from environment variables ({@link ReadsplitConfig#fromEnvironment}), accepting
 * the names used by the Node.js service (seed 003) and the Python service (seed 002) so that their deployments
 * move over unchanged, plus every Readsplit key as {@code READSPLIT_<KEY>} in upper snake case.
 *
 * <h2>Variables</h2>
 * <ul>
 * <li><b>Readsplit:</b> {@code READSPLIT_<KEY>} for every key of {@link ReadsplitConfig#fromProperties}
 * ({@code READSPLIT_CONSISTENCY}, {@code READSPLIT_HEALTH_CHECK_INTERVAL}, {@code READSPLIT_MAX_LAG},
 * {@code READSPLIT_PRIMARY}, {@code READSPLIT_REPLICAS}, ...), with the same value syntax, and
 * {@code READSPLIT_JDBC_<PROPERTY>} for a pgjdbc property ({@code READSPLIT_JDBC_SSLMODE},
 * {@code READSPLIT_JDBC_APPLICATION_NAME}; matched ignoring case and underscores). An unknown
 * {@code READSPLIT_*} variable is an error that suggests the closest name.</li>
 * <li><b>Seed 002 (Python):</b> {@code DATABASE_URL} (primary: {@code postgresql://user:pass@host:port/db},
 * {@code postgres://...}, {@code jdbc:postgresql://host:port/db?user=..&password=..}, or a whole
 * {@code jdbc:readsplit:postgresql://primary,replica/db?key=value} URL whose parameters count as seed-002
 * settings); {@code DATABASE_READ_URLS} (comma-separated replica URLs) or {@code DATABASE_READ_URL} (one
 * replica URL; ignored when {@code DATABASE_READ_URLS} is set); {@code DATABASE_POOL_SIZE} (primary pool),
 * {@code DATABASE_READ_POOL_SIZE} (replica pool), {@code DATABASE_REPLICA_FALLBACK} ({@code true/false/1/0/yes/no}
 * → {@code fallbackToPrimary}). User, password and database of {@code DATABASE_URL} are the data-source
 * defaults; those of a replica URL belong to that replica. Other URL query parameters ({@code sslmode=require})
 * are pgjdbc properties of that node.</li>
 * <li><b>Seed 003 (Node.js):</b> {@code DB_HOST}, {@code DB_PORT} (default 5432), {@code DB_NAME},
 * {@code DB_USER}, {@code DB_PASSWORD}; {@code DB_REPLICAS}, a JSON array of
 * {@code {"host":"r1","port":5432,"database":"app","user":"u","password":"p"}} where every field but
 * {@code host} is optional and defaults to the primary's (also accepted: {@code zone}, {@code weight},
 * {@code name}); {@code REPLICA_HEALTH_CHECK_INTERVAL} (ms), {@code DB_POOL_MAX} (both pools),
 * {@code DB_POOL_MIN} ({@code minIdle}), {@code DB_POOL_CONNECT_TIMEOUT} (ms), {@code DB_POOL_IDLE} (ms idle
 * timeout, 0 = never).</li>
 * </ul>
 * An empty seed variable counts as unset (as {@code process.env.X || default} and {@code os.environ.get} with a
 * falsy check do). {@code READSPLIT_*} values are taken as they are, like property values.
 *
 * <h2>Precedence</h2>
 * Per setting, {@code READSPLIT_*} wins over the seed-002 names, which win over the seed-003 names. A variable
 * that is overridden is ignored and not validated. In particular:
 * <ul>
 * <li>When both {@code DATABASE_URL} and {@code DB_HOST} are set, that is <em>not</em> an error:
 * {@code DATABASE_URL} wins, and the whole seed-003 primary group ({@code DB_HOST}, {@code DB_PORT},
 * {@code DB_NAME}, {@code DB_USER}, {@code DB_PASSWORD}) is ignored, so credentials never mix between the two
 * styles.</li>
 * <li>{@code READSPLIT_PRIMARY}, {@code READSPLIT_DATABASE}, {@code READSPLIT_USER} and
 * {@code READSPLIT_PASSWORD} each override just their part of {@code DATABASE_URL} or the {@code DB_*}
 * group.</li>
 * <li>Replicas: {@code READSPLIT_REPLICAS}, else {@code DATABASE_READ_URLS}, else {@code DATABASE_READ_URL},
 * else the replicas of a {@code jdbc:readsplit:} {@code DATABASE_URL}, else {@code DB_REPLICAS}.</li>
 * <li>Pool sizes: {@code READSPLIT_PRIMARY_POOL_SIZE}/{@code READSPLIT_REPLICA_POOL_SIZE} over
 * {@code READSPLIT_POOL_SIZE} over {@code DATABASE_POOL_SIZE}/{@code DATABASE_READ_POOL_SIZE} over
 * {@code DB_POOL_MAX}.</li>
 * </ul>
 * With no primary at all the error names {@code DATABASE_URL}, {@code DB_HOST} and {@code READSPLIT_PRIMARY}.
 *
 * <h2>Errors</h2>
 * Every problem names the variable, the value and what was expected, and all of them are reported together in
 * one {@link ConfigException}. Passwords are never shown: URLs appear as {@code postgresql://user:****@host/db},
 * and as a last guard every known secret value is replaced by {@code ****} in the final messages.
 */
final class EnvironmentConfig {

    static final String PREFIX = "READSPLIT_";
    private static final String JDBC = "JDBC_";

    /** {@code HEALTH_CHECK_INTERVAL} → {@code healthCheckInterval}. */
    private static final Map<String, String> ENV_NAMES = new LinkedHashMap<>();

    static {
        for (String key : ConfigKeys.knownKeys()) {
            ENV_NAMES.put(upperSnake(key), key);
        }
    }

    /**
     * The winning value of one setting. {@code value} goes through the shared key table; {@code direct} (for nodes
     * and pgjdbc properties) is applied to the builder as it is. Neither means the variable was invalid (already
     * reported) and only keeps lower-precedence variables from filling in.
     */
    private record Setting(String variable, String value, ConfigKeys.Source source,
                           Consumer<ReadsplitConfig.Builder> direct) {
        static Setting failed(String variable) {
            return new Setting(variable, null, null, null);
        }
    }

    private final Map<String, String> env;
    private final ConfigKeys.Collector collector = new ConfigKeys.Collector("");
    private final Map<String, Setting> settings = new LinkedHashMap<>();
    private final Set<String> secrets = new HashSet<>();
    private NodeConfig primaryNode;
    /** The {@code DB_REPLICAS} objects, validated; nodes are made once the primary's port is known. */
    private List<Map<?, ?>> jsonReplicas;

    private EnvironmentConfig(Map<String, String> env) {
        this.env = env;
    }

    static ReadsplitConfig fromEnvironment(Map<String, String> env) {
        if (env == null) {
            throw new NullPointerException("env");
        }
        return new EnvironmentConfig(env).read();
    }

    private ReadsplitConfig read() {
        readsplitVariables();
        seed002();
        seed003();
        if (!settings.containsKey("primary")) {
            collector.problem("primary", "no primary configured: set DATABASE_URL "
                    + "(postgresql://user:****@host:port/db), DB_HOST (with DB_PORT, DB_NAME, DB_USER, DB_PASSWORD) "
                    + "or READSPLIT_PRIMARY (host[:port])");
        }
        resolveJsonReplicas();

        ReadsplitConfig.Builder b = ReadsplitConfig.builder();
        for (Map.Entry<String, Setting> e : settings.entrySet()) {
            String key = e.getKey();
            Setting s = e.getValue();
            if (s.direct() != null) {
                collector.display(key, s.variable());
                try {
                    s.direct().accept(b);
                } catch (ConfigException ex) {
                    collector.problem(s.variable(), s.variable() + ": " + ex.getMessage());
                }
            } else if (s.value() != null) {
                collector.apply(b, key, s.variable(), s.value(), s.source());
            } else {
                collector.display(key, s.variable());
                collector.suppress(s.variable());
            }
        }
        try {
            return collector.build(b);
        } catch (ConfigException e) {
            throw scrub(e);
        }
    }

    // ---- READSPLIT_* ----------------------------------------------------------------------------------------

    private void readsplitVariables() {
        Map<String, String> sorted = new TreeMap<>();
        env.forEach((k, v) -> {
            if (k != null && k.startsWith(PREFIX) && v != null) {
                sorted.put(k, v);
            }
        });
        String poolSizeVar = null;
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            String var = e.getKey();
            String value = e.getValue();
            String name = var.substring(PREFIX.length());
            if (name.startsWith(JDBC) && name.length() > JDBC.length()) {
                jdbcProperty(var, name.substring(JDBC.length()), value);
                continue;
            }
            String key = ENV_NAMES.get(name);
            if (key == null) {
                String suggestion = ConfigKeys.suggest(name.replace("_", ""));
                collector.problem(var, "unknown variable " + var + (suggestion == null
                        ? " (see ReadsplitConfig.fromProperties for the keys; write them in upper snake case)"
                        : " \u2014 did you mean " + PREFIX + upperSnake(suggestion) + "?"));
                continue;
            }
            if (key.equals("password") || key.equals("adminToken")) {
                secrets.add(value);
            }
            switch (key) {
                case "poolSize" -> poolSizeVar = var; // after the specific pool sizes, which win
                case "primary" -> primary(var, () -> NodeConfig.parse(var, value));
                default -> settings.put(key, new Setting(var, value, ConfigKeys.Source.PROPERTIES, null));
            }
        }
        if (poolSizeVar != null) {
            String v = sorted.get(poolSizeVar);
            string("primaryPoolSize", poolSizeVar, v);
            string("replicaPoolSize", poolSizeVar, v);
        }
    }

    private void jdbcProperty(String var, String envName, String value) {
        String wanted = envName.replace("_", "").toLowerCase(Locale.ROOT);
        for (PGProperty p : PGProperty.values()) {
            String name = p.getName();
            if (name.replace("_", "").replace("-", "").toLowerCase(Locale.ROOT).equals(wanted)) {
                if (!settings.containsKey("jdbc." + name)) {
                    settings.put("jdbc." + name, new Setting(var, null, null, b -> b.jdbcProperty(name, value)));
                }
                return;
            }
        }
        collector.problem(var, "unknown variable " + var + ": '" + envName + "' is not a pgjdbc property "
                + "(expected READSPLIT_JDBC_<PROPERTY>, e.g. READSPLIT_JDBC_SSLMODE)");
    }

    // ---- seed 002 -------------------------------------------------------------------------------------------

    private void seed002() {
        String url = get("DATABASE_URL");
        if (url != null) {
            databaseUrl(url);
        }
        if (!settings.containsKey("replicas")) {
            String urls = get("DATABASE_READ_URLS");
            String var = urls != null ? "DATABASE_READ_URLS" : "DATABASE_READ_URL";
            String text = urls != null ? urls : get("DATABASE_READ_URL");
            if (text != null) {
                replicaUrls(var, text);
            }
        }
        string("primaryPoolSize", "DATABASE_POOL_SIZE", get("DATABASE_POOL_SIZE"));
        string("replicaPoolSize", "DATABASE_READ_POOL_SIZE", get("DATABASE_READ_POOL_SIZE"));
        // SQLAlchemy's max_overflow: connections beyond pool_size; the pool's maximum is the sum
        string("primaryPoolOverflow", "DATABASE_MAX_OVERFLOW", get("DATABASE_MAX_OVERFLOW"));
        string("replicaPoolOverflow", "DATABASE_READ_MAX_OVERFLOW", get("DATABASE_READ_MAX_OVERFLOW"));
        string("fallbackToPrimary", "DATABASE_REPLICA_FALLBACK", get("DATABASE_REPLICA_FALLBACK"));
    }

    private void databaseUrl(String url) {
        String var = "DATABASE_URL";
        if (ReadsplitUrl.accepts(url)) {
            ReadsplitUrl.Parts parts;
            try {
                parts = ReadsplitUrl.split(url);
            } catch (ConfigException e) {
                for (ConfigException.Problem p : e.problems()) {
                    collector.problem(var, var + ": " + p.message());
                }
                primary(var, null);
                return;
            }
            List<NodeConfig> nodes = parts.nodes();
            primary(var, () -> nodes.get(0));
            if (nodes.size() > 1 && !settings.containsKey("replicas")) {
                List<NodeConfig> reps = List.copyOf(nodes.subList(1, nodes.size()));
                settings.put("replicas", new Setting(var, null, null, b -> b.replicas(reps)));
            }
            if (parts.database() != null) {
                string("database", var, parts.database());
            }
            for (Map.Entry<String, String> p : parts.params().entrySet()) {
                String key = p.getKey();
                if (key.equals("password") || key.equals("adminToken")) {
                    secrets.add(p.getValue());
                }
                if (!settings.containsKey(key)) {
                    settings.put(key, new Setting(var, p.getValue(), ConfigKeys.Source.URL, null));
                }
            }
            return;
        }
        PostgresUrl u = PostgresUrl.parse(var, url, secrets);
        if (u == null) {
            collectUrlProblems(var, url);
            primary(var, null);
            return;
        }
        primary(var, () -> u.node);
        string("database", var, u.database);
        string("user", var, u.user);
        string("password", var, u.password);
    }

    /**
     * The replica URLs of {@code DATABASE_READ_URLS}: comma-separated, or a JSON list of strings (what pydantic
     * settings write for {@code list[str]}: {@code ["postgresql+asyncpg://r1/db", "postgresql+asyncpg://r2/db"]}).
     */
    private List<String> urlList(String var, String text) {
        if (!text.trim().startsWith("[")) {
            List<String> out = new ArrayList<>();
            for (String one : text.split(",")) {
                if (!one.isBlank()) {
                    out.add(one.trim());
                }
            }
            return out;
        }
        Object json;
        try {
            json = ConfigJson.parse(text);
        } catch (ConfigJson.MalformedException e) {
            collector.problem(var, var + ": " + e.getMessage());
            return null;
        }
        List<?> list = (List<?>) json; // starts with '[' and parsed whole: an array
        List<String> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i) instanceof String u && !u.isBlank()) {
                out.add(u.trim());
            } else {
                Object v = list.get(i);
                collector.problem(var, var + "[" + i + "] must be a URL string (postgresql://user:password@host:port"
                        + "/database): got " + (v instanceof String ? "an empty string" : NodeFields.describe(v, true)));
                ok = false;
            }
        }
        return ok ? out : null;
    }

    private void replicaUrls(String var, String text) {
        List<NodeConfig> nodes = new ArrayList<>();
        boolean failed = false;
        List<String> urls = urlList(var, text);
        if (urls == null) {
            settings.put("replicas", Setting.failed(var));
            return;
        }
        for (String url : urls) {
            PostgresUrl u = PostgresUrl.parse(var, url, secrets);
            if (u == null) {
                collectUrlProblems(var, url);
                failed = true;
                continue;
            }
            try {
                nodes.add(u.node.toBuilder().database(u.database).user(u.user).password(u.password).build());
            } catch (ConfigException e) {
                collector.problem(var, var + ": " + e.getMessage() + " (in " + PostgresUrl.maskUrl(url) + ")");
                failed = true;
            }
        }
        if (failed) {
            settings.put("replicas", Setting.failed(var));
        } else {
            settings.put("replicas", new Setting(var, null, null, b -> b.replicas(nodes)));
        }
    }

    private void collectUrlProblems(String var, String url) {
        for (String p : PostgresUrl.problems(var, url, secrets)) {
            collector.problem(var, p);
        }
    }

    // ---- seed 003 -------------------------------------------------------------------------------------------

    private void seed003() {
        if (get("DATABASE_URL") == null) {
            String host = get("DB_HOST");
            if (host != null) {
                String port = get("DB_PORT");
                primary("DB_HOST", () -> {
                    NodeConfig.Builder nb = NodeConfig.builder();
                    try {
                        nb.host(host);
                    } catch (ConfigException e) {
                        throw new ConfigException("DB_HOST", e.getMessage());
                    }
                    if (port != null) {
                        nb.port(port("DB_PORT", port));
                    }
                    return nb.build();
                });
            }
            string("database", "DB_NAME", get("DB_NAME"));
            string("user", "DB_USER", get("DB_USER"));
            String password = get("DB_PASSWORD");
            if (password != null) {
                secrets.add(password);
            }
            string("password", "DB_PASSWORD", password);
        }
        String replicas = get("DB_REPLICAS");
        if (replicas != null && !settings.containsKey("replicas")) {
            jsonReplicas = dbReplicas(replicas);
            // Invalid, or a placeholder until resolveJsonReplicas() knows the primary's port.
            settings.put("replicas", Setting.failed("DB_REPLICAS"));
        }
        millis("healthCheckInterval", "REPLICA_HEALTH_CHECK_INTERVAL");
        String max = get("DB_POOL_MAX");
        string("primaryPoolSize", "DB_POOL_MAX", max);
        string("replicaPoolSize", "DB_POOL_MAX", max);
        string("minIdle", "DB_POOL_MIN", get("DB_POOL_MIN"));
        millis("connectionTimeout", "DB_POOL_CONNECT_TIMEOUT");
        millis("idleTimeout", "DB_POOL_IDLE");
    }

    private void millis(String key, String var) {
        String v = get(var);
        if (v == null || settings.containsKey(key)) {
            return;
        }
        String t = v.trim();
        if (!t.matches("\\d{1,18}")) {
            collector.problem(var, var + " must be a whole number of milliseconds: '" + t + "'");
            settings.put(key, Setting.failed(var));
            return;
        }
        settings.put(key, new Setting(var, t + "ms", ConfigKeys.Source.PROPERTIES, null));
    }

    private static int port(String var, String text) {
        String t = text.trim();
        try {
            int p = Integer.parseInt(t);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(var, var + " must be a port number in 1..65535: '" + t + "'");
    }

    /** Parses {@code DB_REPLICAS}; null (with problems recorded) when invalid. */
    private List<Map<?, ?>> dbReplicas(String text) {
        String var = "DB_REPLICAS";
        Object json;
        try {
            json = ConfigJson.parse(text);
        } catch (ConfigJson.MalformedException e) {
            collector.problem(var, var + ": " + e.getMessage());
            return null;
        }
        if (!(json instanceof List<?> list)) {
            collector.problem(var, var + " must be a JSON array of {\"host\", \"port\", \"database\", \"user\", "
                    + "\"password\"} objects: got " + NodeFields.describe(json, false));
            return null;
        }
        // Collect every password first so that no message below can show one.
        for (Object o : list) {
            if (o instanceof Map<?, ?> m && m.get("password") instanceof String p) {
                secrets.add(p);
            }
        }
        List<Map<?, ?>> out = new ArrayList<>();
        boolean ok = true;
        for (int i = 0; i < list.size(); i++) {
            String at = var + "[" + i + "]";
            if (!(list.get(i) instanceof Map<?, ?> m)) {
                collector.problem(var, at + " must be an object with at least \"host\": got "
                        + NodeFields.describe(list.get(i), false));
                ok = false;
                continue;
            }
            List<String> errors = new ArrayList<>();
            NodeFields.fromMap(m, at, NodeConfig.DEFAULT_PORT, errors, secrets);
            if (!errors.isEmpty()) {
                errors.forEach(e -> collector.problem(var, e));
                ok = false;
                continue;
            }
            out.add(m);
        }
        return ok ? out : null;
    }

    /** Turns the {@code DB_REPLICAS} entries into nodes; the port defaults to the primary's. */
    private void resolveJsonReplicas() {
        if (jsonReplicas == null || !"DB_REPLICAS".equals(settings.get("replicas").variable())) {
            return;
        }
        int defaultPort = primaryNode == null ? NodeConfig.DEFAULT_PORT : primaryNode.port();
        List<NodeConfig> nodes = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < jsonReplicas.size(); i++) {
            NodeConfig n = NodeFields.fromMap(jsonReplicas.get(i), "DB_REPLICAS[" + i + "]", defaultPort, errors,
                    secrets);
            if (n != null) {
                nodes.add(n);
            }
        }
        if (errors.isEmpty()) {
            settings.put("replicas", new Setting("DB_REPLICAS", null, null, b -> b.replicas(nodes)));
        } else {
            errors.forEach(e -> collector.problem("DB_REPLICAS", e));
        }
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    @FunctionalInterface
    private interface NodeSupplier {
        NodeConfig get();
    }

    /** Records the primary from {@code var} unless a higher-precedence variable gave one; null = already failed. */
    private void primary(String var, NodeSupplier supplier) {
        if (settings.containsKey("primary")) {
            return;
        }
        if (supplier == null) {
            settings.put("primary", Setting.failed(var));
            return;
        }
        try {
            NodeConfig node = supplier.get();
            primaryNode = node;
            settings.put("primary", new Setting(var, null, null, b -> b.primary(node)));
        } catch (ConfigException e) {
            String failedVar = var;
            for (ConfigException.Problem p : e.problems()) {
                String m = p.message();
                if (m.startsWith(p.key()) && p.key().matches("[A-Z][A-Z0-9_]*")) {
                    collector.problem(p.key(), m); // names its own variable (DB_PORT, READSPLIT_PRIMARY)
                    failedVar = p.key();
                } else {
                    collector.problem(var, var + ": " + m);
                }
            }
            settings.put("primary", Setting.failed(failedVar));
        }
    }

    /** A plain setting from {@code var} unless a higher-precedence variable gave {@code key}. */
    private void string(String key, String var, String value) {
        if (value != null && !settings.containsKey(key)) {
            settings.put(key, new Setting(var, value, ConfigKeys.Source.PROPERTIES, null));
        }
    }

    /** A seed variable's value, or null when unset or empty. */
    private String get(String var) {
        String v = env.get(var);
        return v == null || v.isEmpty() ? null : v;
    }

    private ConfigException scrub(ConfigException e) {
        List<ConfigException.Problem> out = new ArrayList<>();
        for (ConfigException.Problem p : e.problems()) {
            out.add(new ConfigException.Problem(p.key(), scrub(p.message(), secrets)));
        }
        return new ConfigException(out);
    }

    static String scrub(String message, Set<String> secrets) {
        return Redactor.ofValues(secrets).redact(message);
    }

    /** {@code healthCheckInterval} → {@code HEALTH_CHECK_INTERVAL}. */
    static String upperSnake(String key) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (Character.isUpperCase(c) && i > 0) {
                sb.append('_');
            }
            sb.append(Character.toUpperCase(c));
        }
        return sb.toString();
    }
}

package dev.readsplit.config;

import java.time.Duration;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One PostgreSQL node as configured. Immutable. Its role is only what the configuration expects: the router
 * observes each node's real role with {@code pg_is_in_recovery()}.
 *
 * <p>{@code database}, {@code user}, {@code password} and {@code zone} may be null on a node built alone; a
 * {@link ReadsplitConfig} fills the first three from its data-source-wide defaults. {@code name} defaults to
 * {@code host:port}. {@code jdbcProperties} are passed to pgjdbc as they are (sorted, unmodifiable); they may
 * not contain {@code user} or {@code password}, which have their own fields so that the password is always a
 * {@link Secret}.
 *
 * <p>Per-node settings (seed 004's per-replica {@code max_lag_seconds}, {@code min_pool_size},
 * {@code max_pool_size}, {@code weight}, {@code region}): {@code zone} (the zone or region matched against
 * {@code localZone}), {@code weight} (the weighted balancer's share), {@code maxLag} (this replica's lag limit,
 * overriding the data source's {@code maxLag}), {@code minPoolSize} and {@code maxPoolSize} (this node's pool,
 * overriding {@code minIdle} and the data source's pool size). Null means "the data source's value"; see
 * {@link LagSettings#maxLag(NodeConfig)} and {@link PoolSettings#maxPoolSize(NodeConfig, boolean)}.
 *
 * <p>{@link #toString()} never shows the password or any jdbc property whose name contains
 * {@code password}, {@code secret} or {@code token}.
 */
public record NodeConfig(String name, String host, int port, String database, String user, Secret password,
                         String zone, int weight, Duration maxLag, Integer minPoolSize, Integer maxPoolSize,
                         Map<String, String> jdbcProperties, String url) {

    /** PostgreSQL's default port, used when a host is given without one. */
    public static final int DEFAULT_PORT = 5432;

    /** Validates every field; see the class documentation for the defaults. */
    public NodeConfig {
        if (url != null) {
            url = checkUrl(url);
        }
        if (url == null || host != null) {
            host = checkHost(host);
            checkPort(port);
        }
        checkWeight(weight);
        checkPoolSizes(minPoolSize, maxPoolSize);
        if (maxLag != null) {
            checkMaxLag(maxLag);
        }
        name = name == null ? (host != null ? address(host, port) : urlName(url)) : checkNotBlank("name", name);
        database = database == null ? null : checkNotBlank("database", database);
        user = user == null ? null : checkNotBlank("user", user);
        zone = zone == null ? null : checkNotBlank("zone", zone);
        jdbcProperties = copyProperties(jdbcProperties);
    }

    /** The node settings without the per-node overrides ({@code maxLag}, pool sizes: the data source's). */
    public NodeConfig(String name, String host, int port, String database, String user, Secret password,
                      String zone, int weight, Map<String, String> jdbcProperties, String url) {
        this(name, host, port, database, user, password, zone, weight, null, null, null, jdbcProperties, url);
    }

    /** A node at {@code host:port} with every other field defaulted. */
    public static NodeConfig of(String host, int port) {
        return new NodeConfig(null, host, port, null, null, null, null, 1, Map.of(), null);
    }

    /**
     * A node of a database other than PostgreSQL (the generic JDBC dialect), given by its whole JDBC URL, e.g.
     * {@code jdbc:sqlite:/data/replica1.db}. Such nodes have no replication introspection: their role is the
     * configured one, health is {@code SELECT 1}, and there is no lag measurement.
     */
    public static NodeConfig ofUrl(String jdbcUrl) {
        return new NodeConfig(null, null, 0, null, null, null, null, 1, Map.of(), jdbcUrl);
    }

    /** Whether this node is PostgreSQL (host and port, or a {@code jdbc:postgresql:} URL). */
    public boolean isPostgres() {
        return url == null || url.startsWith("jdbc:postgresql:");
    }

    private static String checkUrl(String url) {
        if (url.isBlank() || !url.startsWith("jdbc:") || url.startsWith("jdbc:readsplit:")) {
            throw new ConfigException("url", "url must be a JDBC URL of the node itself (jdbc:...): '"
                    + ReadsplitUrl.mask(url) + "'");
        }
        return url;
    }

    /** A readable default name for a URL node: the last path segment ({@code replica1.db}). */
    private static String urlName(String url) {
        String u = url;
        int q = u.indexOf('?');
        if (q > 0) {
            u = u.substring(0, q);
        }
        int slash = Math.max(u.lastIndexOf('/'), u.lastIndexOf(':'));
        return slash >= 0 && slash < u.length() - 1 ? u.substring(slash + 1) : u;
    }

    /**
     * Parses {@code host[:port][;attribute=value]...}; IPv6 hosts in brackets ({@code [::1]:5432}). The port
     * defaults to {@value #DEFAULT_PORT}. Attributes: {@code zone} (also {@code region}), {@code weight},
     * {@code name}, {@code maxLag} (a duration: {@code 5s}; also {@code max_lag_seconds}, a number of seconds),
     * {@code minPoolSize} and {@code maxPoolSize} (also {@code min_pool_size}, {@code max_pool_size}).
     *
     * @throws ConfigException naming the key {@code node} and the text
     */
    public static NodeConfig parse(String spec) {
        return parse("node", spec);
    }

    static NodeConfig parse(String key, String spec) {
        String s = spec == null ? "" : spec.trim();
        if (s.isEmpty()) {
            throw new ConfigException(key, key + " must be host[:port]: ''");
        }
        String[] parts = s.split(";");
        Builder b = builder();
        hostPort(key, parts[0].trim(), b);
        for (int i = 1; i < parts.length; i++) {
            String attr = parts[i].trim();
            int eq = attr.indexOf('=');
            String k = eq < 0 ? attr : attr.substring(0, eq).trim();
            String v = eq < 0 ? "" : attr.substring(eq + 1).trim();
            try {
                if (!NodeFields.applyText(b, k, v)) {
                    throw new ConfigException(key, key + " has an unknown node attribute '" + k
                            + "' (expected " + NodeFields.ATTRIBUTES + "): '" + s + "'");
                }
            } catch (ConfigException e) {
                throw e.key().equals(key) ? e
                        : new ConfigException(key, key + ": " + e.getMessage() + " (in '" + s + "')");
            }
        }
        return b.build();
    }

    /** Splits {@code host[:port]} / {@code [v6]:port} into the builder. */
    static void hostPort(String key, String text, Builder b) {
        String host;
        String port = null;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0) {
                throw new ConfigException(key, key + " has an unclosed '[' in host: '" + text + "'");
            }
            host = text.substring(1, close);
            String rest = text.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new ConfigException(key, key + " must be host[:port]: '" + text + "'");
                }
                port = rest.substring(1);
            }
        } else {
            int colon = text.indexOf(':');
            if (colon >= 0 && text.indexOf(':', colon + 1) >= 0) {
                throw new ConfigException(key, key + " must put an IPv6 address in brackets ([::1]:5432): '"
                        + text + "'");
            }
            host = colon < 0 ? text : text.substring(0, colon);
            port = colon < 0 ? null : text.substring(colon + 1);
        }
        try {
            b.host(host);
            b.port(port == null ? DEFAULT_PORT : parseInt(key, "port", port));
        } catch (ConfigException e) {
            throw e.key().equals(key) ? e
                    : new ConfigException(key, key + ": " + e.getMessage() + " (in '" + text + "')");
        }
    }

    static int parseInt(String key, String field, String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(field, field + " must be an integer: '" + text.trim() + "'");
        }
    }

    /** A builder for one node. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this node's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.host = host;
        b.port = port;
        b.database = database;
        b.user = user;
        b.password = password;
        b.zone = zone;
        b.weight = weight;
        b.maxLag = maxLag;
        b.minPoolSize = minPoolSize;
        b.maxPoolSize = maxPoolSize;
        b.jdbcProperties.putAll(jdbcProperties);
        b.url = url;
        return b;
    }

    /** {@code host:port}, with IPv6 hosts in brackets. */
    public String address() {
        return host == null ? ReadsplitUrl.mask(url) : address(host, port);
    }

    /**
     * The pgjdbc URL of this node, {@code jdbc:postgresql://host:port/database}, without credentials or
     * properties (pass {@link #user()}, {@link #password()} and {@link #jdbcProperties()} as {@code Properties}).
     */
    public String jdbcUrl() {
        if (url != null) {
            return url;
        }
        return "jdbc:postgresql://" + address() + "/" + (database == null ? "" : encode(database));
    }

    private static String encode(String s) {
        return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** This node with the data-source-wide defaults applied where it has no value of its own. */
    NodeConfig withDefaults(String defaultDatabase, String defaultUser, Secret defaultPassword,
                            Map<String, String> defaultProperties) {
        Map<String, String> props = jdbcProperties;
        if (!defaultProperties.isEmpty()) {
            props = new TreeMap<>(defaultProperties);
            props.putAll(jdbcProperties);
        }
        return new NodeConfig(name, host, port, database == null ? defaultDatabase : database,
                user == null ? defaultUser : user, password == null ? defaultPassword : password, zone, weight,
                maxLag, minPoolSize, maxPoolSize, props, url);
    }

    @Override
    public String toString() {
        return "NodeConfig[name=" + name + ", host=" + host + ", port=" + port + ", database=" + database
                + ", user=" + user + ", password=" + (password == null ? "null" : password) + ", zone=" + zone
 + ", weight=" + weight
                + (maxLag == null ? "" : ", maxLag=" + maxLag)
                + (minPoolSize == null ? "" : ", minPoolSize=" + minPoolSize)
                + (maxPoolSize == null ? "" : ", maxPoolSize=" + maxPoolSize)
                + ", jdbcProperties=" + maskedProperties(jdbcProperties)
                + (url == null ? "" : ", url=" + ReadsplitUrl.mask(url)) + "]";
    }

    static String maskedProperties(Map<String, String> props) {
        StringBuilder sb = new StringBuilder("{");
        for (Map.Entry<String, String> e : props.entrySet()) {
            if (sb.length() > 1) {
                sb.append(", ");
            }
            sb.append(e.getKey()).append('=').append(isSecretKey(e.getKey()) ? "****" : e.getValue());
        }
        return sb.append('}').toString();
    }

    /** Whether a property of this name holds a secret (its value is never printed). */
    static boolean isSecretKey(String key) {
        String k = key.toLowerCase(Locale.ROOT);
        return k.contains("password") || k.contains("secret") || k.contains("token");
    }

    static String address(String host, int port) {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    static String checkHost(String host) {
        if (host == null || host.isBlank()) {
            throw new ConfigException("host", "host must not be blank: '" + (host == null ? "" : host) + "'");
        }
        String h = host.trim();
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            if (Character.isISOControl(c)) {
                // a NUL or other control character would end up in metric labels and log lines
                throw new ConfigException("host", "host must not contain a control character (U+"
                        + String.format("%04X", (int) c) + " at position " + i + ")");
            }
            if (Character.isWhitespace(c) || c == '/' || c == ',' || c == '?' || c == '@') {
                throw new ConfigException("host", "host must not contain '" + c + "': '" + h + "'");
            }
        }
        return h;
    }

    static void checkPort(int port) {
        if (port < 1 || port > 65535) {
            throw new ConfigException("port", "port must be in 1..65535: " + port);
        }
    }

    static void checkWeight(int weight) {
        if (weight < 1) {
            throw new ConfigException("weight", "weight must be at least 1: " + weight);
        }
    }

    static void checkMaxLag(Duration maxLag) {
        if (maxLag.isNegative() || maxLag.isZero()) {
            throw new ConfigException("maxLag", "maxLag must be positive: " + maxLag);
        }
    }

    static void checkPoolSizes(Integer min, Integer max) {
        if (min != null && min < 0) {
            throw new ConfigException("minPoolSize", "minPoolSize must not be negative: " + min);
        }
        if (max != null && max < 1) {
            throw new ConfigException("maxPoolSize", "maxPoolSize must be at least 1: " + max);
        }
        if (max != null && max > ReadsplitConfig.MAX_POOL_SIZE) {
            throw new ConfigException("maxPoolSize", "maxPoolSize must be at most " + ReadsplitConfig.MAX_POOL_SIZE
                    + ": " + max);
        }
        if (min != null && max != null && min > max) {
            throw new ConfigException("minPoolSize", "minPoolSize (" + min + ") must not exceed maxPoolSize ("
                    + max + ")");
        }
    }

    static String checkNotBlank(String key, String value) {
        if (value.isBlank()) {
            throw new ConfigException(key, key + " must not be blank: '" + value + "'");
        }
        return value.trim();
    }

    static Map<String, String> copyProperties(Map<String, String> props) {
        if (props == null || props.isEmpty()) {
            return Map.of();
        }
        TreeMap<String, String> copy = new TreeMap<>();
        for (Map.Entry<String, String> e : props.entrySet()) {
            checkProperty(e.getKey(), e.getValue());
            copy.put(e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(copy);
    }

    static void checkProperty(String key, String value) {
        if (key == null || key.isBlank()) {
            throw new ConfigException("jdbcProperties", "jdbcProperties must not have a blank name");
        }
        String k = key.toLowerCase(Locale.ROOT);
        if (k.equals("user") || k.equals("password")) {
            throw new ConfigException("jdbcProperties", "jdbcProperties must not contain '" + key
                    + "'; set " + k + " on the node or the data source");
        }
        if (value == null) {
            throw new ConfigException("jdbcProperties", "jdbcProperties value of '" + key + "' must not be null");
        }
    }

    /** Builder for {@link NodeConfig}; each setter validates its argument at once. */
    public static final class Builder {
        private String name;
        private String host;
        private int port = DEFAULT_PORT;
        private String database;
        private String user;
        private Secret password;
        private String zone;
        private String url;
        private int weight = 1;
        private Duration maxLag;
        private Integer minPoolSize;
        private Integer maxPoolSize;
        private final Map<String, String> jdbcProperties = new TreeMap<>();

        private Builder() {
        }

        /** Display name used in logs, metrics and errors; defaults to {@code host:port}. */
        public Builder name(String name) {
            this.name = name == null ? null : checkNotBlank("name", name);
            return this;
        }

        public Builder host(String host) {
            this.host = checkHost(host);
            return this;
        }

        public Builder port(int port) {
            checkPort(port);
            this.port = port;
            return this;
        }

        public Builder database(String database) {
            this.database = database == null ? null : checkNotBlank("database", database);
            return this;
        }

        public Builder user(String user) {
            this.user = user == null ? null : checkNotBlank("user", user);
            return this;
        }

        public Builder password(Secret password) {
            this.password = password;
            return this;
        }

        public Builder password(String password) {
            this.password = Secret.ofNullable(password);
            return this;
        }

        /** The node's zone or region, matched against {@code localZone}; null for none. */
        public Builder zone(String zone) {
            this.zone = zone == null ? null : checkNotBlank("zone", zone);
            return this;
        }

        /** Relative share for the weighted balancer; at least 1 (default 1). */
        public Builder weight(int weight) {
            checkWeight(weight);
            this.weight = weight;
            return this;
        }

        /** This replica's lag limit (excluded from new reads above it); null for the data source's {@code maxLag}. */
        public Builder maxLag(Duration maxLag) {
            if (maxLag != null) {
                checkMaxLag(maxLag);
            }
            this.maxLag = maxLag;
            return this;
        }

        /** Minimum idle connections of this node's pool; null for the data source's {@code minIdle}. */
        public Builder minPoolSize(Integer size) {
            checkPoolSizes(size, null);
            this.minPoolSize = size;
            return this;
        }

        /** Maximum size of this node's pool; null for the data source's pool size (plus overflow). */
        public Builder maxPoolSize(Integer size) {
            checkPoolSizes(null, size);
            this.maxPoolSize = size;
            return this;
        }

        /** A pgjdbc connection property for this node (e.g. {@code sslmode}). */
        public Builder jdbcProperty(String key, String value) {
            checkProperty(key, value);
            jdbcProperties.put(key, value);
            return this;
        }

        /** The node's whole JDBC URL, for databases other than PostgreSQL (see {@link NodeConfig#ofUrl}). */
        public Builder url(String url) {
            this.url = checkUrl(url);
            return this;
        }

        public Builder jdbcProperties(Map<String, String> properties) {
            properties.forEach(this::jdbcProperty);
            return this;
        }

        /**
         * @throws ConfigException if no host was set
         */
        public NodeConfig build() {
            if (host == null && url == null) {
                throw new ConfigException("host", "host is required");
            }
            checkPoolSizes(minPoolSize, maxPoolSize);
            return new NodeConfig(name, host, port, database, user, password, zone, weight, maxLag, minPoolSize,
                    maxPoolSize, jdbcProperties, url);
        }
    }
}

package dev.readsplit.config;

import dev.readsplit.Consistency;
import dev.readsplit.balance.BalancerKind;
import dev.readsplit.consistency.CausalScope;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

import static dev.readsplit.config.ConfigChecks.atLeastOne;
import static dev.readsplit.config.ConfigChecks.notBlank;
import static dev.readsplit.config.ConfigChecks.notNegative;
import static dev.readsplit.config.ConfigChecks.notNull;
import static dev.readsplit.config.ConfigChecks.positive;

/**
 * The complete, validated configuration of one Readsplit data source. Immutable and thread-safe. The settings
 * come in groups, each an immutable record valid by construction: {@link #pool()}, {@link #health()},
 * {@link #lag()}, {@link #routing()}, {@link #failover()} and {@link #topology()}; the nodes and the admin token
 * are here. The keys stay flat ({@code readsplit.healthCheckInterval} is {@code health().interval()}; each
 * record's Javadoc lists its keys).
 *
 * <p>Made by {@link #builder()} (each setter checks its argument at once, {@link Builder#build()} runs the
 * cross-field checks and reports all of them together), {@link #fromProperties(Properties)} or
 * {@link ReadsplitUrl#parse}. Every failure is a {@link ConfigException} naming the key and the bad value;
 * no password or token ever appears in a message or in {@link #toString()}.
 *
 * <p>The nodes returned by {@link #primary()} and {@link #replicas()} already carry the data-source-wide
 * {@code database}, {@code user}, {@code password} and jdbc properties where they had none of their own.
 */
public final class ReadsplitConfig {

    /** Upper bound of any one node pool's maximum size (pool size plus overflow, or a node's own maximum). */
    public static final int MAX_POOL_SIZE = PoolSettings.MAX_POOL_SIZE;

    private final String name;
    private final NodeConfig primary;
    private final List<NodeConfig> replicas;
    private final PoolSettings pool;
    private final HealthSettings health;
    private final LagSettings lag;
    private final RoutingSettings routing;
    private final FailoverSettings failover;
    private final TopologySettings topology;
    private final Secret adminToken;

    private ReadsplitConfig(Builder b) {
        this.name = b.name;
        this.primary = b.primary.withDefaults(b.database, b.user, b.password, b.jdbcProperties);
        List<NodeConfig> reps = new ArrayList<>(b.replicas.size());
        for (NodeConfig r : b.replicas) {
            reps.add(r.withDefaults(b.database, b.user, b.password, b.jdbcProperties));
        }
        this.replicas = List.copyOf(reps);
        this.pool = b.pool.build();
        this.health = b.health.build();
        this.lag = b.lag.build();
        this.routing = b.routing.build();
        this.failover = b.failover.build();
        this.topology = b.topology.build();
        this.adminToken = b.adminToken;
    }

    /** A builder with every default. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration (nodes with their resolved credentials). */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.primary = primary;
        b.replicas.addAll(replicas);
        b.pool = new PoolSettings.Builder(pool);
        b.health = new HealthSettings.Builder(health);
        b.lag = new LagSettings.Builder(lag);
        b.routing = new RoutingSettings.Builder(routing);
        b.failover = new FailoverSettings.Builder(failover);
        b.topology = new TopologySettings.Builder(topology);
        b.adminToken = adminToken;
        return b;
    }

    /**
     * Reads every {@code readsplit.*} key of {@code properties} (other keys are ignored). Unknown
     * {@code readsplit.*} keys are errors that suggest the closest known key. All problems (unparseable values,
     * invalid values, unknown keys, cross-field problems) are reported together in one {@link ConfigException}.
     *
     * <p>Keys: {@code name, primary, replicas, database, user, password, primaryPoolSize, replicaPoolSize,
     * poolSize} (both), {@code primaryPoolOverflow, replicaPoolOverflow, minIdle, connectionTimeout, idleTimeout, maxLifetime, balancer, localZone,
     * consistency, fallbackToPrimary, healthCheckInterval, healthCheckTimeout, failureThreshold,
     * recoveryThreshold, maxLagBytes, maxLag, lagReadmitRatio, readYourWritesWait, writeFunctions,
     * readFunctions, shadowMode, lagAlertInfo, lagAlertWarning, lagAlertError, lagAlertCritical, adminToken,
     * failoverPolicy, minHealthyReplicas, failoverStepTimeout, topologySource, patroniUrls}
     * and {@code jdbc.<name>} (a pgjdbc property for every node). {@code primary} is
     * {@code host[:port][;zone=Z][;weight=N][;name=X][;maxLag=D][;minPoolSize=N][;maxPoolSize=N]} (see
     * {@link NodeConfig#parse}), {@code replicas} a comma-separated list of the same.
     * Durations: {@code 500ms, 2s, 1m, PT2S}, or a bare number of milliseconds. Byte sizes: {@code 16MB},
     * {@code 512kB} (1024-based, as PostgreSQL), or a bare number of bytes.
     */
    public static ReadsplitConfig fromProperties(Properties properties) {
        Objects.requireNonNull(properties, "properties");
        Map<String, String> values = new TreeMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith(ConfigKeys.PREFIX)) {
                values.put(key.substring(ConfigKeys.PREFIX.length()), properties.getProperty(key));
            }
        }
        ConfigKeys.Collector c = new ConfigKeys.Collector(ConfigKeys.PREFIX);
        Builder b = builder();
        for (Map.Entry<String, String> e : values.entrySet()) {
            c.apply(b, e.getKey(), e.getValue(), ConfigKeys.Source.PROPERTIES);
        }
        return c.build(b);
    }

    /**
     * Reads the configuration from environment variables: pass {@code System.getenv()} in production. Accepts
     * {@code READSPLIT_<KEY>} for every key of {@link #fromProperties} in upper snake case
     * ({@code READSPLIT_HEALTH_CHECK_INTERVAL}) and, so that existing deployments move over unchanged, the names
     * of the Node.js service ({@code DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD, DB_REPLICAS} (JSON),
     * {@code REPLICA_HEALTH_CHECK_INTERVAL, DB_POOL_MAX, DB_POOL_MIN, DB_POOL_CONNECT_TIMEOUT, DB_POOL_IDLE}) and
     * of the Python service ({@code DATABASE_URL, DATABASE_READ_URL, DATABASE_READ_URLS, DATABASE_POOL_SIZE,
     * DATABASE_READ_POOL_SIZE, DATABASE_REPLICA_FALLBACK}). Other variables are ignored.
     *
     * <p>Precedence, per setting: {@code READSPLIT_*} over the Python names over the Node.js names. When both
     * {@code DATABASE_URL} and {@code DB_HOST} are set, {@code DATABASE_URL} wins (not an error) and
     * {@code DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD} are ignored. See {@code EnvironmentConfig} for the
     * full rules.
     *
     * @throws ConfigException with every problem, each naming the variable and its value (passwords masked)
     */
    public static ReadsplitConfig fromEnvironment(Map<String, String> env) {
        return EnvironmentConfig.fromEnvironment(Objects.requireNonNull(env, "env"));
    }

    /**
     * Reads a configuration file: {@code .properties} (the keys of {@link #fromProperties}) or {@code .yml} /
     * {@code .yaml} with a top-level {@code readsplit:} map whose keys are the same keys without the prefix
     * (nested maps flatten with dots, lists join with commas). In YAML, {@code primary} and each entry of
     * {@code replicas} may also be a map of node fields ({@code host, port, database, user, password, zone,
     * weight, maxLag, minPoolSize, maxPoolSize, jdbc}, and seed 004's {@code region, max_lag_seconds,
     * min_pool_size, max_pool_size}). Every value may hold {@code ${VAR}} or {@code ${VAR:default}}, taken from
     * the process environment, so that a file can take its password from it: {@code password: ${DB_PASSWORD}}
     * (write <code>$${</code> for a literal <code>${</code>). YAML anchors, aliases, tags, duplicate keys and a
     * second document are errors naming the line. Other top-level YAML keys are ignored, as non-{@code
     * readsplit.*} properties are.
     *
     * @throws ConfigException naming the file and, where known, the line of every problem
     */
    public static ReadsplitConfig fromFile(java.nio.file.Path file) {
        return fromFile(file, System.getenv());
    }

    /** {@link #fromFile(java.nio.file.Path)} with the placeholders taken from {@code env}. */
    public static ReadsplitConfig fromFile(java.nio.file.Path file, Map<String, String> env) {
        return FileConfig.read(Objects.requireNonNull(file, "file"), Objects.requireNonNull(env, "env"));
    }

    public String name() {
        return name;
    }

    public NodeConfig primary() {
        return primary;
    }

    public List<NodeConfig> replicas() {
        return replicas;
    }

    /** Pool sizes and timeouts of the node pools. */
    public PoolSettings pool() {
        return pool;
    }

    /** How nodes are health-checked. */
    public HealthSettings health() {
        return health;
    }

    /** Lag limits, readmission and alert thresholds. */
    public LagSettings lag() {
        return lag;
    }

    /** Balancer, zone, consistency and the classifier's function lists. */
    public RoutingSettings routing() {
        return routing;
    }

    /** Supervised failover and switchover. */
    public FailoverSettings failover() {
        return failover;
    }

    /** Where the topology comes from besides SQL observation. */
    public TopologySettings topology() {
        return topology;
    }

    /** The admin endpoint's bearer token, or null for none. */
    public Secret adminToken() {
        return adminToken;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReadsplitConfig c && toComparable().equals(c.toComparable());
    }

    @Override
    public int hashCode() {
        return toComparable().hashCode();
    }

    private List<Object> toComparable() {
        return java.util.Arrays.asList(name, primary, replicas, pool, health, lag, routing, failover, topology,
                adminToken);
    }

    /** Every setting; passwords and the admin token appear as {@code ****}. */
    @Override
    public String toString() {
        return "ReadsplitConfig[name=" + name + ", primary=" + primary + ", replicas=" + replicas + ", " + pool
                + ", " + health + ", " + lag + ", " + routing + ", " + failover + ", " + topology
                + ", adminToken=" + (adminToken == null ? "null" : adminToken) + "]";
    }

    /**
     * Builder for {@link ReadsplitConfig}, one setter per key. Not thread-safe. Each setter validates its
     * argument at once and throws a {@link ConfigException} naming the key and the value; {@link #build()} runs
     * the cross-field checks and reports every problem it finds in one exception.
     */
    public static final class Builder {
        private String name = "readsplit";
        private NodeConfig primary;
        private final List<NodeConfig> replicas = new ArrayList<>();
        private String database;
        private String user;
        private Secret password;
        private final Map<String, String> jdbcProperties = new TreeMap<>();
        private PoolSettings.Builder pool = new PoolSettings.Builder();
        private HealthSettings.Builder health = new HealthSettings.Builder();
        private LagSettings.Builder lag = new LagSettings.Builder();
        private RoutingSettings.Builder routing = new RoutingSettings.Builder();
        private FailoverSettings.Builder failover = new FailoverSettings.Builder();
        private TopologySettings.Builder topology = new TopologySettings.Builder();
        private Secret adminToken;

        private Builder() {
        }


        /** Data source name, used as the prefix of log lines and error messages (default {@code readsplit}). */
        public Builder name(String name) {
            this.name = notBlank("name", name);
            return this;
        }

        public Builder primary(NodeConfig primary) {
            this.primary = notNull("primary", primary);
            return this;
        }

        public Builder primary(String host, int port) {
            return primary(NodeConfig.of(host, port));
        }

        /** Replaces the replica list. */
        public Builder replicas(Collection<NodeConfig> replicas) {
            notNull("replicas", replicas);
            for (NodeConfig r : replicas) {
                notNull("replicas", r);
            }
            this.replicas.clear();
            this.replicas.addAll(replicas);
            return this;
        }

        public Builder addReplica(NodeConfig replica) {
            replicas.add(notNull("replicas", replica));
            return this;
        }

        public Builder addReplica(String host, int port) {
            return addReplica(NodeConfig.of(host, port));
        }

        /** Database for every node that names none. */
        public Builder database(String database) {
            this.database = database == null ? null : notBlank("database", database);
            return this;
        }

        /** User for every node that names none. */
        public Builder user(String user) {
            this.user = user == null ? null : notBlank("user", user);
            return this;
        }

        /** Password for every node that has none. */
        public Builder password(Secret password) {
            this.password = password;
            return this;
        }

        public Builder password(String password) {
            return password(Secret.ofNullable(password));
        }

        /** A pgjdbc property for every node (a node's own value wins), e.g. {@code sslmode=require}. */
        public Builder jdbcProperty(String key, String value) {
            NodeConfig.checkProperty(key, value);
            jdbcProperties.put(key, value);
            return this;
        }

        // ---- pool ---------------------------------------------------------------------------------------------

        public Builder primaryPoolSize(int size) {
            pool.primarySize = atLeastOne("primaryPoolSize", size);
            return this;
        }

        public Builder replicaPoolSize(int size) {
            pool.replicaSize = atLeastOne("replicaPoolSize", size);
            return this;
        }

        /**
         * Connections the primary's pool may open beyond {@code primaryPoolSize} (default 0): seed 002's
         * {@code DATABASE_MAX_OVERFLOW}. The pool's maximum is the sum; idle connections above {@code minIdle}
         * close after {@code idleTimeout}, as SQLAlchemy's overflow connections do on return.
         */
        public Builder primaryPoolOverflow(int overflow) {
            pool.primaryOverflow = PoolSettings.overflow("primaryPoolOverflow", overflow);
            return this;
        }

        /** Connections each replica's pool may open beyond {@code replicaPoolSize} (default 0). */
        public Builder replicaPoolOverflow(int overflow) {
            pool.replicaOverflow = PoolSettings.overflow("replicaPoolOverflow", overflow);
            return this;
        }

        /** Minimum idle connections per node pool: 0 up to the pool size (checked in {@link #build()}). */
        public Builder minIdle(int minIdle) {
            pool.minIdle = PoolSettings.minIdle(minIdle);
            return this;
        }

        /** Maximum wait for a pooled connection; at least 250ms (HikariCP's minimum). */
        public Builder connectionTimeout(Duration timeout) {
            pool.connectionTimeout = PoolSettings.connectionTimeout(timeout);
            return this;
        }

        /** Idle connections above {@code minIdle} are closed after this; zero means never. */
        public Builder idleTimeout(Duration timeout) {
            pool.idleTimeout = notNegative("idleTimeout", timeout);
            return this;
        }

        /** Connections are replaced after this; zero means never. */
        public Builder maxLifetime(Duration lifetime) {
            pool.maxLifetime = notNegative("maxLifetime", lifetime);
            return this;
        }

        // ---- routing and consistency ---------------------------------------------------------------------------

        public Builder balancer(BalancerKind balancer) {
            routing.balancer = notNull("balancer", balancer);
            return this;
        }

        /** Prefer replicas in this zone, falling back to others; null turns zone preference off. */
        public Builder localZone(String zone) {
            routing.localZone = zone == null ? null : notBlank("localZone", zone);
            return this;
        }

        public Builder consistency(Consistency consistency) {
            routing.consistency = notNull("consistency", consistency);
            return this;
        }

        /**
         * Whose writes a read under read-your-writes must see: one connection, every connection opened on the thread
         * (the default), or every connection of the data source. See {@code docs/consistency.md}.
         */
        public Builder causalScope(CausalScope scope) {
            routing.causalScope = Objects.requireNonNull(scope, "causalScope");
            return this;
        }

        /** How long a read may wait for a replica to replay the session's token; zero means do not wait. */
        public Builder readYourWritesWait(Duration wait) {
            routing.readYourWritesWait = notNegative("readYourWritesWait", wait);
            return this;
        }

        public Builder fallbackToPrimary(boolean fallback) {
            routing.fallbackToPrimary = fallback;
            return this;
        }

        /** Route everything to the primary while recording where each statement would have gone. */
        public Builder shadowMode(boolean shadow) {
            routing.shadowMode = shadow;
            return this;
        }

        /** Adds function names the classifier must treat as writing (lower-cased). */
        public Builder writeFunctions(Collection<String> names) {
            RoutingSettings.addFunctions("writeFunctions", names, routing.writeFunctions);
            return this;
        }

        /** Adds function names the classifier may treat as read-only (lower-cased). */
        public Builder readFunctions(Collection<String> names) {
            RoutingSettings.addFunctions("readFunctions", names, routing.readFunctions);
            return this;
        }

        // ---- health ---------------------------------------------------------------------------------------------

        public Builder healthCheckInterval(Duration interval) {
            health.interval = positive("healthCheckInterval", interval);
            return this;
        }

        /** At most one minute, and at most ten health-check intervals (checked in {@link #build()}). */
        public Builder healthCheckTimeout(Duration timeout) {
            health.timeout = HealthSettings.timeout(timeout);
            return this;
        }

        /** Consecutive failed checks that mark a node DOWN. */
        public Builder failureThreshold(int n) {
            health.failureThreshold = atLeastOne("failureThreshold", n);
            return this;
        }

        /** Consecutive successful checks that bring a DOWN node back. */
        public Builder recoveryThreshold(int n) {
            health.recoveryThreshold = atLeastOne("recoveryThreshold", n);
            return this;
        }

        // ---- lag ------------------------------------------------------------------------------------------------

        /** Replicas further behind than this many bytes of WAL are excluded from new reads. */
        public Builder maxLagBytes(long bytes) {
            lag.maxLagBytes = LagSettings.maxLagBytes(bytes);
            return this;
        }

        /** Replicas further behind than this are excluded from new reads. */
        public Builder maxLag(Duration maxLag) {
            lag.maxLag = positive("maxLag", maxLag);
            return this;
        }

        /** Hysteresis: an excluded replica is readmitted below {@code ratio × limit}; strictly between 0 and 1. */
        public Builder lagReadmitRatio(double ratio) {
            lag.readmitRatio = LagSettings.readmitRatio(ratio);
            return this;
        }

        public Builder lagAlertInfo(Duration threshold) {
            lag.alertInfo = positive("lagAlertInfo", threshold);
            return this;
        }

        public Builder lagAlertWarning(Duration threshold) {
            lag.alertWarning = positive("lagAlertWarning", threshold);
            return this;
        }

        public Builder lagAlertError(Duration threshold) {
            lag.alertError = positive("lagAlertError", threshold);
            return this;
        }

        public Builder lagAlertCritical(Duration threshold) {
            lag.alertCritical = positive("lagAlertCritical", threshold);
            return this;
        }

        // ---- admin, failover, topology source -------------------------------------------------------------------

        /** Bearer token required by the admin endpoint; null for none. */
        public Builder adminToken(Secret token) {
            if (token != null && token.isEmpty()) {
                throw new ConfigException("adminToken", "adminToken must not be empty");
            }
            this.adminToken = token;
            return this;
        }

        public Builder adminToken(String token) {
            return adminToken(Secret.ofNullable(token));
        }

        /** {@link FailoverPolicy#SUPERVISED} lets Readsplit promote a replica itself; default NONE (follow only). */
        public Builder failoverPolicy(FailoverPolicy policy) {
            failover.policy = notNull("failoverPolicy", policy);
            return this;
        }

        /** Quorum for supervised failover: healthy replicas needed before one is promoted (default 1). */
        public Builder minHealthyReplicas(int n) {
            failover.minHealthyReplicas = atLeastOne("minHealthyReplicas", n);
            return this;
        }

        /** Bound of each failover/switchover step (default 10s, at most 5 minutes). */
        public Builder failoverStepTimeout(Duration timeout) {
            failover.stepTimeout = FailoverSettings.stepTimeout(timeout);
            return this;
        }

        /** {@link TopologySource#PATRONI} follows Patroni's view (needs {@link #patroniUrls}); default SQL only. */
        public Builder topologySource(TopologySource source) {
            topology.source = notNull("topologySource", source);
            return this;
        }

        /**
         * Patroni REST API base URLs, one per Patroni node or one behind a load balancer ({@code http://pg1:8008}).
         * Each must be an absolute {@code http} or {@code https} URL with a host and without credentials (they would
         * end up in logs and status).
         */
        public Builder patroniUrls(List<String> urls) {
            notNull("patroniUrls", urls);
            List<java.net.URI> parsed = new ArrayList<>(urls.size());
            for (String u : urls) {
                parsed.add(TopologySettings.patroniUrl(u));
            }
            topology.patroniUrls.clear();
            topology.patroniUrls.addAll(parsed);
            return this;
        }

        /**
         * Runs the cross-field checks and returns the configuration.
         *
         * @throws ConfigException carrying every problem found, one per line of the message
         */
        public ReadsplitConfig build() {
            List<ConfigException.Problem> problems = problems();
            if (!problems.isEmpty()) {
                throw new ConfigException(problems);
            }
            return new ReadsplitConfig(this);
        }

        /** The cross-field problems, in a stable order: each group's own, then those between groups. */
        List<ConfigException.Problem> problems() {
            List<ConfigException.Problem> p = new ArrayList<>();
            if (primary == null) {
                p.add(new ConfigException.Problem("primary", "primary is required"));
            }
            checkDuplicates(p);
            p.addAll(pool.problems());
            for (int i = -1; i < replicas.size(); i++) {
                NodeConfig n = i < 0 ? primary : replicas.get(i);
                if (n == null || n.minPoolSize() == null || n.maxPoolSize() != null) {
                    continue;
                }
                int max = i < 0 ? pool.primarySize + pool.primaryOverflow : pool.replicaSize + pool.replicaOverflow;
                if (n.minPoolSize() > max) {
                    p.add(new ConfigException.Problem(i < 0 ? "primary" : "replicas", (i < 0 ? "primary" : "replicas["
                            + i + "]") + ": minPoolSize (" + n.minPoolSize() + ") must not exceed the pool's maximum ("
                            + max + ")"));
                }
            }
            p.addAll(health.problems());
            p.addAll(lag.problems());
            p.addAll(routing.problems());
            if (failover.policy == FailoverPolicy.SUPERVISED && failover.minHealthyReplicas > replicas.size()) {
                p.add(new ConfigException.Problem("minHealthyReplicas", "minHealthyReplicas ("
                        + failover.minHealthyReplicas + ") exceeds the " + replicas.size() + " configured replicas:"
                        + " supervised failover could never reach its quorum"));
            }
            if (topology.source == TopologySource.PATRONI && failover.policy == FailoverPolicy.SUPERVISED) {
                p.add(new ConfigException.Problem("failoverPolicy", "failoverPolicy=supervised with topologySource=patroni:"
                        + " Patroni promotes; a second system promoting on its own is how a cluster ends with two"
                        + " primaries. Use failoverPolicy=none (Readsplit follows Patroni's leader)"));
            }
            p.addAll(topology.problems());
            if (!routing.fallbackToPrimary && replicas.isEmpty()) {
                p.add(new ConfigException.Problem("fallbackToPrimary",
                        "fallbackToPrimary=false needs at least one replica (every read would fail)"));
            }
            return p;
        }

        /**
         * One problem per address given more than once and per name given to more than one address, each naming
         * where it appears (the first few places and how many in all): a list of 5,000 copies of one host is one
         * problem, not 12.5 million. Linear in the number of nodes.
         */
        private void checkDuplicates(List<ConfigException.Problem> p) {
            Map<String, List<String>> byAddress = new LinkedHashMap<>();
            Map<String, NodeConfig> secondAt = new HashMap<>();
            Map<String, List<String>> byName = new LinkedHashMap<>();
            Map<String, Set<String>> addressesOfName = new HashMap<>();
            for (int i = -1; i < replicas.size(); i++) {
                NodeConfig n = i < 0 ? primary : replicas.get(i);
                if (n == null) {
                    continue;
                }
                String label = i < 0 ? "primary" : "replicas[" + i + "]";
                String address = n.host() != null ? n.host().toLowerCase(Locale.ROOT) + ":" + n.port() : n.jdbcUrl();
                List<String> at = byAddress.computeIfAbsent(address, k -> new ArrayList<>());
                at.add(label);
                if (at.size() == 2) {
                    secondAt.put(address, n); // the message names the repeated address as the repeat spells it
                }
                byName.computeIfAbsent(n.name(), k -> new ArrayList<>()).add(label + " (" + n.address() + ")");
                addressesOfName.computeIfAbsent(n.name(), k -> new HashSet<>()).add(address);
            }
            for (Map.Entry<String, List<String>> e : byAddress.entrySet()) {
                if (e.getValue().size() > 1) {
                    p.add(new ConfigException.Problem(e.getValue().get(0).equals("primary") ? "primary" : "replicas",
                            "duplicate node " + secondAt.get(e.getKey()).address() + ": " + places(e.getValue())));
                }
            }
            for (Map.Entry<String, List<String>> e : byName.entrySet()) {
                if (addressesOfName.get(e.getKey()).size() > 1) {
                    p.add(new ConfigException.Problem(e.getValue().get(0).startsWith("primary") ? "primary" : "replicas",
                            "duplicate node name '" + e.getKey() + "': " + places(e.getValue())));
                }
            }
        }

        /** {@code a and b}, or {@code a, b, c, d, e and 4,995 more (5,000 in all)}. */
        private static String places(List<String> labels) {
            if (labels.size() == 2) {
                return labels.get(0) + " and " + labels.get(1);
            }
            int shown = Math.min(labels.size(), 5);
            String head = String.join(", ", labels.subList(0, shown));
            return labels.size() <= 5 ? head : head + " and " + (labels.size() - shown) + " more ("
                    + labels.size() + " in all)";
        }
    }
}

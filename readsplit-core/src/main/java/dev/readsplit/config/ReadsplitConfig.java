package dev.readsplit.config;

import dev.readsplit.balance.BalancerKind;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.Consistency;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * The complete, validated configuration of one Readsplit data source. Immutable and thread-safe; getters are
 * named like the keys ({@code healthCheckInterval()} ↔ {@code readsplit.healthCheckInterval}).
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

    /** Upper bound for {@code healthCheckTimeout}. */
    static final Duration MAX_HEALTH_CHECK_TIMEOUT = Duration.ofMinutes(1);
    /** HikariCP's minimum connection timeout. */
    static final Duration MIN_CONNECTION_TIMEOUT = Duration.ofMillis(250);
    /** {@code healthCheckTimeout} may be at most this many {@code healthCheckInterval}s. */
    static final int HEALTH_CHECK_TIMEOUT_INTERVALS = 10;
    /** Upper bound of any one node pool's maximum size (pool size plus overflow, or a node's own maximum). */
    public static final int MAX_POOL_SIZE = 10_000;
    /** Upper bound for {@code failoverStepTimeout}. */
    static final Duration MAX_FAILOVER_STEP_TIMEOUT = Duration.ofMinutes(5);

    private final String name;
    private final NodeConfig primary;
    private final List<NodeConfig> replicas;
    private final int primaryPoolSize;
    private final int replicaPoolSize;
    private final int primaryPoolOverflow;
    private final int replicaPoolOverflow;
    private final int minIdle;
    private final Duration connectionTimeout;
    private final Duration idleTimeout;
    private final Duration maxLifetime;
    private final BalancerKind balancer;
    private final String localZone;
    private final Consistency consistency;
    private final CausalScope causalScope;
    private final boolean fallbackToPrimary;
    private final Duration healthCheckInterval;
    private final Duration healthCheckTimeout;
    private final int failureThreshold;
    private final int recoveryThreshold;
    private final long maxLagBytes;
    private final Duration maxLag;
    private final double lagReadmitRatio;
    private final Duration readYourWritesWait;
    private final Set<String> writeFunctions;
    private final Set<String> readFunctions;
    private final boolean shadowMode;
    private final Duration lagAlertInfo;
    private final Duration lagAlertWarning;
    private final Duration lagAlertError;
    private final Duration lagAlertCritical;
    private final Secret adminToken;
    private final FailoverPolicy failoverPolicy;
    private final int minHealthyReplicas;
    private final Duration failoverStepTimeout;
    private final TopologySource topologySource;
    private final List<java.net.URI> patroniUrls;
    private final HedgeConfig hedging;

    private ReadsplitConfig(Builder b) {
        this.name = b.name;
        this.primary = b.primary.withDefaults(b.database, b.user, b.password, b.jdbcProperties);
        List<NodeConfig> reps = new ArrayList<>(b.replicas.size());
        for (NodeConfig r : b.replicas) {
            reps.add(r.withDefaults(b.database, b.user, b.password, b.jdbcProperties));
        }
        this.replicas = List.copyOf(reps);
        this.primaryPoolSize = b.primaryPoolSize;
        this.replicaPoolSize = b.replicaPoolSize;
        this.primaryPoolOverflow = b.primaryPoolOverflow;
        this.replicaPoolOverflow = b.replicaPoolOverflow;
        this.minIdle = b.minIdle;
        this.connectionTimeout = b.connectionTimeout;
        this.idleTimeout = b.idleTimeout;
        this.maxLifetime = b.maxLifetime;
        this.balancer = b.balancer;
        this.localZone = b.localZone;
        this.consistency = b.consistency;
        this.causalScope = b.causalScope;
        this.fallbackToPrimary = b.fallbackToPrimary;
        this.healthCheckInterval = b.healthCheckInterval;
        this.healthCheckTimeout = b.healthCheckTimeout;
        this.failureThreshold = b.failureThreshold;
        this.recoveryThreshold = b.recoveryThreshold;
        this.maxLagBytes = b.maxLagBytes;
        this.maxLag = b.maxLag;
        this.lagReadmitRatio = b.lagReadmitRatio;
        this.readYourWritesWait = b.readYourWritesWait;
        this.writeFunctions = Collections.unmodifiableSet(new LinkedHashSet<>(b.writeFunctions));
        this.readFunctions = Collections.unmodifiableSet(new LinkedHashSet<>(b.readFunctions));
        this.shadowMode = b.shadowMode;
        this.lagAlertInfo = b.lagAlertInfo;
        this.lagAlertWarning = b.lagAlertWarning;
        this.lagAlertError = b.lagAlertError;
        this.lagAlertCritical = b.lagAlertCritical;
        this.adminToken = b.adminToken;
        this.failoverPolicy = b.failoverPolicy;
        this.minHealthyReplicas = b.minHealthyReplicas;
        this.failoverStepTimeout = b.failoverStepTimeout;
        this.topologySource = b.topologySource;
        this.patroniUrls = List.copyOf(b.patroniUrls);
        this.hedging = b.hedging;
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
        b.primaryPoolSize = primaryPoolSize;
        b.replicaPoolSize = replicaPoolSize;
        b.primaryPoolOverflow = primaryPoolOverflow;
        b.replicaPoolOverflow = replicaPoolOverflow;
        b.minIdle = minIdle;
        b.connectionTimeout = connectionTimeout;
        b.idleTimeout = idleTimeout;
        b.maxLifetime = maxLifetime;
        b.balancer = balancer;
        b.localZone = localZone;
        b.consistency = consistency;
        b.causalScope = causalScope;
        b.fallbackToPrimary = fallbackToPrimary;
        b.healthCheckInterval = healthCheckInterval;
        b.healthCheckTimeout = healthCheckTimeout;
        b.failureThreshold = failureThreshold;
        b.recoveryThreshold = recoveryThreshold;
        b.maxLagBytes = maxLagBytes;
        b.maxLag = maxLag;
        b.lagReadmitRatio = lagReadmitRatio;
        b.readYourWritesWait = readYourWritesWait;
        b.writeFunctions.addAll(writeFunctions);
        b.readFunctions.addAll(readFunctions);
        b.shadowMode = shadowMode;
        b.lagAlertInfo = lagAlertInfo;
        b.lagAlertWarning = lagAlertWarning;
        b.lagAlertError = lagAlertError;
        b.lagAlertCritical = lagAlertCritical;
        b.adminToken = adminToken;
        b.failoverPolicy = failoverPolicy;
        b.minHealthyReplicas = minHealthyReplicas;
        b.failoverStepTimeout = failoverStepTimeout;
        b.topologySource = topologySource;
        b.patroniUrls.addAll(patroniUrls);
        b.hedging = hedging;
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
     * failoverPolicy, minHealthyReplicas, failoverStepTimeout, topologySource, patroniUrls, hedgeReads,
     * hedgeLatencyMultiplier, hedgeMinBudget, hedgeMaxBudget, hedgeMaxShare, hedgeBurst}
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

    public int primaryPoolSize() {
        return primaryPoolSize;
    }

    public int replicaPoolSize() {
        return replicaPoolSize;
    }

    /** Connections the primary's pool may open beyond {@code primaryPoolSize} (seed 002's {@code max_overflow}). */
    public int primaryPoolOverflow() {
        return primaryPoolOverflow;
    }

    /** Connections a replica's pool may open beyond {@code replicaPoolSize} ({@code read_max_overflow}). */
    public int replicaPoolOverflow() {
        return replicaPoolOverflow;
    }

    public int minIdle() {
        return minIdle;
    }

    /**
     * The maximum size of {@code node}'s pool: the node's own {@code maxPoolSize}, else the pool size of its role
     * plus that role's overflow ({@code primaryPoolSize + primaryPoolOverflow} for the primary).
     *
     * @param primary whether the node is (configured as) the primary
     */
    public int maxPoolSize(NodeConfig node, boolean primary) {
        if (node.maxPoolSize() != null) {
            return node.maxPoolSize();
        }
        return primary ? primaryPoolSize + primaryPoolOverflow : replicaPoolSize + replicaPoolOverflow;
    }

    /** The minimum idle connections of {@code node}'s pool: its own {@code minPoolSize}, else {@code minIdle}. */
    public int minPoolSize(NodeConfig node, boolean primary) {
        int max = maxPoolSize(node, primary);
        return Math.min(max, node.minPoolSize() != null ? node.minPoolSize() : minIdle);
    }

    /** The lag limit of {@code replica}: its own {@code maxLag}, else the data source's {@link #maxLag()}. */
    public Duration maxLag(NodeConfig replica) {
        return replica.maxLag() != null ? replica.maxLag() : maxLag;
    }

    public Duration connectionTimeout() {
        return connectionTimeout;
    }

    public Duration idleTimeout() {
        return idleTimeout;
    }

    public Duration maxLifetime() {
        return maxLifetime;
    }

    public BalancerKind balancer() {
        return balancer;
    }

    /** The zone whose replicas are preferred, or null when zone preference is off. */
    public String localZone() {
        return localZone;
    }

    public Consistency consistency() {
        return consistency;
    }

    public boolean fallbackToPrimary() {
        return fallbackToPrimary;
    }

    public Duration healthCheckInterval() {
        return healthCheckInterval;
    }

    public Duration healthCheckTimeout() {
        return healthCheckTimeout;
    }

    public int failureThreshold() {
        return failureThreshold;
    }

    public int recoveryThreshold() {
        return recoveryThreshold;
    }

    public long maxLagBytes() {
        return maxLagBytes;
    }

    public Duration maxLag() {
        return maxLag;
    }

    /** A replica excluded for lag is readmitted once its lag is below {@code lagReadmitRatio × limit}. */
    public double lagReadmitRatio() {
        return lagReadmitRatio;
    }

    /** Whose writes a read under read-your-writes must see (default {@code thread}). */
    public CausalScope causalScope() {
        return causalScope;
    }

    public Duration readYourWritesWait() {
        return readYourWritesWait;
    }

    /** Lower-cased function names the classifier must treat as writing. */
    public Set<String> writeFunctions() {
        return writeFunctions;
    }

    /** Lower-cased function names the classifier may treat as read-only. */
    public Set<String> readFunctions() {
        return readFunctions;
    }

    public boolean shadowMode() {
        return shadowMode;
    }

    public Duration lagAlertInfo() {
        return lagAlertInfo;
    }

    public Duration lagAlertWarning() {
        return lagAlertWarning;
    }

    public Duration lagAlertError() {
        return lagAlertError;
    }

    public Duration lagAlertCritical() {
        return lagAlertCritical;
    }

    /** The admin endpoint's bearer token, or null for none. */
    public Secret adminToken() {
        return adminToken;
    }

    /** Whether Readsplit promotes a replica itself when the primary fails (default {@link FailoverPolicy#NONE}). */
    public FailoverPolicy failoverPolicy() {
        return failoverPolicy;
    }

    /** Supervised failover needs at least this many healthy replicas (quorum) to promote one. */
    public int minHealthyReplicas() {
        return minHealthyReplicas;
    }

    /** The bound of every supervised failover/switchover step (connect, promote, repoint, verify). */
    public Duration failoverStepTimeout() {
        return failoverStepTimeout;
    }

    /** Where the topology comes from besides SQL observation (default {@link TopologySource#SQL}). */
    public TopologySource topologySource() {
        return topologySource;
    }

    /** Patroni REST API base URLs ({@code http://host:8008}), asked in turn; empty unless the source is Patroni. */
    public List<java.net.URI> patroniUrls() {
        return patroniUrls;
    }

    /** How reads are hedged and stalled nodes avoided (docs/failover.md, "Hedged reads"). */
    public HedgeConfig hedging() {
        return hedging;
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
        return java.util.Arrays.asList(name, primary, replicas, primaryPoolSize, replicaPoolSize,
                primaryPoolOverflow, replicaPoolOverflow, minIdle,
                connectionTimeout, idleTimeout, maxLifetime, balancer, localZone, consistency, causalScope, fallbackToPrimary,
                healthCheckInterval, healthCheckTimeout, failureThreshold, recoveryThreshold, maxLagBytes, maxLag,
                lagReadmitRatio, readYourWritesWait, writeFunctions, readFunctions, shadowMode, lagAlertInfo,
                lagAlertWarning, lagAlertError, lagAlertCritical, adminToken, failoverPolicy, minHealthyReplicas,
                failoverStepTimeout, topologySource, patroniUrls, hedging);
    }

    /** Every setting; passwords and the admin token appear as {@code ****}. */
    @Override
    public String toString() {
        return "ReadsplitConfig[name=" + name + ", primary=" + primary + ", replicas=" + replicas
                + ", primaryPoolSize=" + primaryPoolSize + ", replicaPoolSize=" + replicaPoolSize
                + (primaryPoolOverflow == 0 ? "" : ", primaryPoolOverflow=" + primaryPoolOverflow)
                + (replicaPoolOverflow == 0 ? "" : ", replicaPoolOverflow=" + replicaPoolOverflow)
                + ", minIdle=" + minIdle + ", connectionTimeout=" + connectionTimeout
                + ", idleTimeout=" + idleTimeout + ", maxLifetime=" + maxLifetime + ", balancer=" + balancer
                + ", localZone=" + localZone + ", consistency=" + consistency + ", causalScope=" + causalScope
                + ", fallbackToPrimary=" + fallbackToPrimary + ", healthCheckInterval=" + healthCheckInterval
                + ", healthCheckTimeout=" + healthCheckTimeout + ", failureThreshold=" + failureThreshold
                + ", recoveryThreshold=" + recoveryThreshold + ", maxLagBytes=" + maxLagBytes
                + ", maxLag=" + maxLag + ", lagReadmitRatio=" + lagReadmitRatio
                + ", readYourWritesWait=" + readYourWritesWait + ", writeFunctions=" + writeFunctions
                + ", readFunctions=" + readFunctions + ", shadowMode=" + shadowMode
                + ", lagAlertInfo=" + lagAlertInfo + ", lagAlertWarning=" + lagAlertWarning
                + ", lagAlertError=" + lagAlertError + ", lagAlertCritical=" + lagAlertCritical
                + ", adminToken=" + (adminToken == null ? "null" : adminToken)
                + ", failoverPolicy=" + failoverPolicy + ", minHealthyReplicas=" + minHealthyReplicas
                + ", failoverStepTimeout=" + failoverStepTimeout + ", topologySource=" + topologySource
                + ", patroniUrls=" + patroniUrls + ", hedging=" + hedging + "]";
    }

    /**
     * Builder for {@link ReadsplitConfig}. Not thread-safe. Each setter validates its argument at once and
     * throws a {@link ConfigException} naming the key and the value; {@link #build()} runs the cross-field
     * checks and reports every problem it finds in one exception.
     */
    public static final class Builder {
        private String name = "readsplit";
        private NodeConfig primary;
        private final List<NodeConfig> replicas = new ArrayList<>();
        private String database;
        private String user;
        private Secret password;
        private final Map<String, String> jdbcProperties = new TreeMap<>();
        private int primaryPoolSize = 10;
        private int replicaPoolSize = 10;
        private int primaryPoolOverflow;
        private int replicaPoolOverflow;
        private int minIdle = 0;
        private Duration connectionTimeout = Duration.ofSeconds(5);
        private Duration idleTimeout = Duration.ofMinutes(10);
        private Duration maxLifetime = Duration.ofMinutes(30);
        private BalancerKind balancer = BalancerKind.ROUND_ROBIN;
        private String localZone;
        private Consistency consistency = Consistency.readYourWrites();
        private boolean fallbackToPrimary = true;
        private Duration healthCheckInterval = Duration.ofSeconds(1);
        private Duration healthCheckTimeout = Duration.ofSeconds(1);
        private int failureThreshold = 3;
        private int recoveryThreshold = 2;
        private long maxLagBytes = 16L * 1024 * 1024;
        private Duration maxLag = Duration.ofSeconds(10);
        private double lagReadmitRatio = 0.5;
        private Duration readYourWritesWait = Duration.ofMillis(100);
        private CausalScope causalScope = CausalScope.DEFAULT;
        private final Set<String> writeFunctions = new LinkedHashSet<>();
        private final Set<String> readFunctions = new LinkedHashSet<>();
        private boolean shadowMode;
        private Duration lagAlertInfo = Duration.ofSeconds(1);
        private Duration lagAlertWarning = Duration.ofSeconds(5);
        private Duration lagAlertError = Duration.ofSeconds(10);
        private Duration lagAlertCritical = Duration.ofSeconds(30);
        private Secret adminToken;
        private FailoverPolicy failoverPolicy = FailoverPolicy.NONE;
        private int minHealthyReplicas = 1;
        private Duration failoverStepTimeout = Duration.ofSeconds(10);
        private TopologySource topologySource = TopologySource.SQL;
        private final List<java.net.URI> patroniUrls = new ArrayList<>();
        private HedgeConfig hedging = HedgeConfig.DEFAULTS;

        private Builder() {
        }

        /** How reads are hedged (default {@link HedgeConfig#DEFAULTS}; docs/failover.md, "Hedged reads"). */
        public Builder hedging(HedgeConfig hedging) {
            this.hedging = notNull("hedging", hedging);
            return this;
        }

        /** Turns hedged reads (and stalled-node avoidance) on or off (default on). */
        public Builder hedgeReads(boolean on) {
            return hedging(hedging.withEnabled(on));
        }

        HedgeConfig hedging() {
            return hedging;
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

        public Builder primaryPoolSize(int size) {
            this.primaryPoolSize = atLeastOne("primaryPoolSize", size);
            return this;
        }

        public Builder replicaPoolSize(int size) {
            this.replicaPoolSize = atLeastOne("replicaPoolSize", size);
            return this;
        }

        /**
         * Connections the primary's pool may open beyond {@code primaryPoolSize} (default 0): seed 002's
         * {@code DATABASE_MAX_OVERFLOW}. The pool's maximum is the sum; idle connections above {@code minIdle}
         * close after {@code idleTimeout}, as SQLAlchemy's overflow connections do on return.
         */
        public Builder primaryPoolOverflow(int overflow) {
            this.primaryPoolOverflow = overflow("primaryPoolOverflow", overflow);
            return this;
        }

        /** Connections each replica's pool may open beyond {@code replicaPoolSize} (default 0). */
        public Builder replicaPoolOverflow(int overflow) {
            this.replicaPoolOverflow = overflow("replicaPoolOverflow", overflow);
            return this;
        }

        private static int overflow(String key, int overflow) {
            if (overflow == -1) {
                throw new ConfigException(key, key + " must not be negative: -1 (SQLAlchemy's max_overflow=-1, no "
                        + "limit, has no equivalent: a connection pool here has a fixed maximum; give a number)");
            }
            if (overflow < 0) {
                throw new ConfigException(key, key + " must not be negative: " + overflow);
            }
            if (overflow > MAX_POOL_SIZE) {
                throw new ConfigException(key, key + " must be at most " + MAX_POOL_SIZE + ": " + overflow);
            }
            return overflow;
        }

        /** Minimum idle connections per node pool: 0 up to the pool size (checked in {@link #build()}). */
        public Builder minIdle(int minIdle) {
            if (minIdle < 0) {
                throw new ConfigException("minIdle", "minIdle must not be negative: " + minIdle);
            }
            this.minIdle = minIdle;
            return this;
        }

        /** Maximum wait for a pooled connection; at least 250ms (HikariCP's minimum). */
        public Builder connectionTimeout(Duration timeout) {
            positive("connectionTimeout", timeout);
            if (timeout.compareTo(MIN_CONNECTION_TIMEOUT) < 0) {
                throw new ConfigException("connectionTimeout",
                        "connectionTimeout must be at least " + MIN_CONNECTION_TIMEOUT + ": " + timeout);
            }
            this.connectionTimeout = timeout;
            return this;
        }

        /** Idle connections above {@code minIdle} are closed after this; zero means never. */
        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = notNegative("idleTimeout", timeout);
            return this;
        }

        /** Connections are replaced after this; zero means never. */
        public Builder maxLifetime(Duration lifetime) {
            this.maxLifetime = notNegative("maxLifetime", lifetime);
            return this;
        }

        public Builder balancer(BalancerKind balancer) {
            this.balancer = notNull("balancer", balancer);
            return this;
        }

        /** Prefer replicas in this zone, falling back to others; null turns zone preference off. */
        public Builder localZone(String zone) {
            this.localZone = zone == null ? null : notBlank("localZone", zone);
            return this;
        }

        public Builder consistency(Consistency consistency) {
            this.consistency = notNull("consistency", consistency);
            return this;
        }

        public Builder fallbackToPrimary(boolean fallback) {
            this.fallbackToPrimary = fallback;
            return this;
        }

        public Builder healthCheckInterval(Duration interval) {
            this.healthCheckInterval = positive("healthCheckInterval", interval);
            return this;
        }

        /** At most one minute, and at most ten health-check intervals (checked in {@link #build()}). */
        public Builder healthCheckTimeout(Duration timeout) {
            positive("healthCheckTimeout", timeout);
            if (timeout.compareTo(MAX_HEALTH_CHECK_TIMEOUT) > 0) {
                throw new ConfigException("healthCheckTimeout",
                        "healthCheckTimeout must be at most " + MAX_HEALTH_CHECK_TIMEOUT + ": " + timeout);
            }
            this.healthCheckTimeout = timeout;
            return this;
        }

        /** Consecutive failed checks that mark a node DOWN. */
        public Builder failureThreshold(int n) {
            this.failureThreshold = atLeastOne("failureThreshold", n);
            return this;
        }

        /** Consecutive successful checks that bring a DOWN node back. */
        public Builder recoveryThreshold(int n) {
            this.recoveryThreshold = atLeastOne("recoveryThreshold", n);
            return this;
        }

        /** Replicas further behind than this many bytes of WAL are excluded from new reads. */
        public Builder maxLagBytes(long bytes) {
            if (bytes <= 0) {
                throw new ConfigException("maxLagBytes", "maxLagBytes must be positive: " + bytes);
            }
            this.maxLagBytes = bytes;
            return this;
        }

        /** Replicas further behind than this are excluded from new reads. */
        public Builder maxLag(Duration lag) {
            this.maxLag = positive("maxLag", lag);
            return this;
        }

        /** Hysteresis: an excluded replica is readmitted below {@code ratio × limit}; strictly between 0 and 1. */
        public Builder lagReadmitRatio(double ratio) {
            if (!(ratio > 0 && ratio < 1)) {
                throw new ConfigException("lagReadmitRatio",
                        "lagReadmitRatio must be strictly between 0 and 1: " + ratio);
            }
            this.lagReadmitRatio = ratio;
            return this;
        }

        /**
         * Whose writes a read under read-your-writes must see: one connection, every connection opened on the thread
         * (the default), or every connection of the data source. See {@code docs/consistency.md}.
         */
        public Builder causalScope(CausalScope scope) {
            this.causalScope = java.util.Objects.requireNonNull(scope, "causalScope");
            return this;
        }

        /** How long a read may wait for a replica to replay the session's token; zero means do not wait. */
        public Builder readYourWritesWait(Duration wait) {
            this.readYourWritesWait = notNegative("readYourWritesWait", wait);
            return this;
        }

        /** Adds function names the classifier must treat as writing (lower-cased). */
        public Builder writeFunctions(Collection<String> names) {
            addFunctions("writeFunctions", names, writeFunctions);
            return this;
        }

        /** Adds function names the classifier may treat as read-only (lower-cased). */
        public Builder readFunctions(Collection<String> names) {
            addFunctions("readFunctions", names, readFunctions);
            return this;
        }

        /** Route everything to the primary while recording where each statement would have gone. */
        public Builder shadowMode(boolean shadow) {
            this.shadowMode = shadow;
            return this;
        }

        public Builder lagAlertInfo(Duration threshold) {
            this.lagAlertInfo = positive("lagAlertInfo", threshold);
            return this;
        }

        public Builder lagAlertWarning(Duration threshold) {
            this.lagAlertWarning = positive("lagAlertWarning", threshold);
            return this;
        }

        public Builder lagAlertError(Duration threshold) {
            this.lagAlertError = positive("lagAlertError", threshold);
            return this;
        }

        public Builder lagAlertCritical(Duration threshold) {
            this.lagAlertCritical = positive("lagAlertCritical", threshold);
            return this;
        }

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
            this.failoverPolicy = notNull("failoverPolicy", policy);
            return this;
        }

        /** Quorum for supervised failover: healthy replicas needed before one is promoted (default 1). */
        public Builder minHealthyReplicas(int n) {
            this.minHealthyReplicas = atLeastOne("minHealthyReplicas", n);
            return this;
        }

        /** Bound of each failover/switchover step (default 10s, at most 5 minutes). */
        public Builder failoverStepTimeout(Duration timeout) {
            positive("failoverStepTimeout", timeout);
            if (timeout.compareTo(MAX_FAILOVER_STEP_TIMEOUT) > 0) {
                throw new ConfigException("failoverStepTimeout",
                        "failoverStepTimeout must be at most " + MAX_FAILOVER_STEP_TIMEOUT + ": " + timeout);
            }
            this.failoverStepTimeout = timeout;
            return this;
        }

        /** {@link TopologySource#PATRONI} follows Patroni's view (needs {@link #patroniUrls}); default SQL only. */
        public Builder topologySource(TopologySource source) {
            this.topologySource = notNull("topologySource", source);
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
                parsed.add(patroniUrl(u));
            }
            this.patroniUrls.clear();
            this.patroniUrls.addAll(parsed);
            return this;
        }

        private static java.net.URI patroniUrl(String text) {
            if (text == null || text.isBlank()) {
                throw new ConfigException("patroniUrls", "patroniUrls must not contain an empty URL");
            }
            java.net.URI u;
            try {
                u = new java.net.URI(text.trim());
            } catch (java.net.URISyntaxException e) {
                throw new ConfigException("patroniUrls", "patroniUrls: not a URL: '" + text.trim() + "' (" + e.getReason() + ")");
            }
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
            if (u.getRawUserInfo() != null) {
                throw new ConfigException("patroniUrls", "patroniUrls: a URL must not carry credentials: "
                        + scheme + "://****@" + u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : ""));
            }
            if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null) {
                throw new ConfigException("patroniUrls", "patroniUrls: expected http://host:port (Patroni's REST API),"
                        + " got '" + text.trim() + "'");
            }
            return u;
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

        /** The cross-field problems, in a stable order. */
        List<ConfigException.Problem> problems() {
            List<ConfigException.Problem> p = new ArrayList<>();
            if (primary == null) {
                p.add(new ConfigException.Problem("primary", "primary is required"));
            }
            checkDuplicates(p);
            poolMaximum(p, "primaryPoolOverflow", "primaryPoolSize", primaryPoolSize, primaryPoolOverflow);
            poolMaximum(p, "replicaPoolOverflow", "replicaPoolSize", replicaPoolSize, replicaPoolOverflow);
            for (int i = -1; i < replicas.size(); i++) {
                NodeConfig n = i < 0 ? primary : replicas.get(i);
                if (n == null || n.minPoolSize() == null || n.maxPoolSize() != null) {
                    continue;
                }
                int max = i < 0 ? primaryPoolSize + primaryPoolOverflow : replicaPoolSize + replicaPoolOverflow;
                if (n.minPoolSize() > max) {
                    p.add(new ConfigException.Problem(i < 0 ? "primary" : "replicas", (i < 0 ? "primary" : "replicas["
                            + i + "]") + ": minPoolSize (" + n.minPoolSize() + ") must not exceed the pool's maximum ("
                            + max + ")"));
                }
            }
            int smallest = Math.min(primaryPoolSize, replicaPoolSize);
            if (minIdle > smallest) {
                String pool = primaryPoolSize <= replicaPoolSize ? "primaryPoolSize" : "replicaPoolSize";
                p.add(new ConfigException.Problem("minIdle",
                        "minIdle (" + minIdle + ") must not exceed " + pool + " (" + smallest + ")"));
            }
            if (!idleTimeout.isZero() && !maxLifetime.isZero() && idleTimeout.compareTo(maxLifetime) >= 0) {
                p.add(new ConfigException.Problem("idleTimeout", "idleTimeout (" + idleTimeout
                        + ") must be less than maxLifetime (" + maxLifetime + ")"));
            }
            Duration limit = healthCheckInterval.multipliedBy(HEALTH_CHECK_TIMEOUT_INTERVALS);
            if (healthCheckTimeout.compareTo(limit) > 0) {
                p.add(new ConfigException.Problem("healthCheckTimeout", "healthCheckTimeout (" + healthCheckTimeout
                        + ") must not exceed " + HEALTH_CHECK_TIMEOUT_INTERVALS + " x healthCheckInterval ("
                        + limit + ")"));
            }
            increasing(p, "lagAlertInfo", lagAlertInfo, "lagAlertWarning", lagAlertWarning);
            increasing(p, "lagAlertWarning", lagAlertWarning, "lagAlertError", lagAlertError);
            increasing(p, "lagAlertError", lagAlertError, "lagAlertCritical", lagAlertCritical);
            for (String f : writeFunctions) {
                if (readFunctions.contains(f)) {
                    p.add(new ConfigException.Problem("readFunctions",
                            "function '" + f + "' is in both writeFunctions and readFunctions"));
                }
            }
            if (failoverPolicy == FailoverPolicy.SUPERVISED && minHealthyReplicas > replicas.size()) {
                p.add(new ConfigException.Problem("minHealthyReplicas", "minHealthyReplicas (" + minHealthyReplicas
                        + ") exceeds the " + replicas.size() + " configured replicas: supervised failover could"
                        + " never reach its quorum"));
            }
            if (topologySource == TopologySource.PATRONI && failoverPolicy == FailoverPolicy.SUPERVISED) {
                p.add(new ConfigException.Problem("failoverPolicy", "failoverPolicy=supervised with topologySource=patroni:"
                        + " Patroni promotes; a second system promoting on its own is how a cluster ends with two"
                        + " primaries. Use failoverPolicy=none (Readsplit follows Patroni's leader)"));
            }
            if (topologySource == TopologySource.PATRONI && patroniUrls.isEmpty()) {
                p.add(new ConfigException.Problem("patroniUrls", "topologySource=patroni needs at least one of"
                        + " patroniUrls (Patroni's REST API, e.g. http://pg1:8008)"));
            }
            if (topologySource != TopologySource.PATRONI && !patroniUrls.isEmpty()) {
                p.add(new ConfigException.Problem("patroniUrls", "patroniUrls is set but topologySource is "
                        + topologySource.name().toLowerCase(java.util.Locale.ROOT) + " (set topologySource=patroni)"));
            }
            if (hedging.maxBudget().compareTo(hedging.minBudget()) < 0) {
                p.add(new ConfigException.Problem("hedgeMaxBudget", "hedgeMaxBudget (" + hedging.maxBudget()
                        + ") must not be below hedgeMinBudget (" + hedging.minBudget() + ")"));
            }
            if (!fallbackToPrimary && replicas.isEmpty()) {
                p.add(new ConfigException.Problem("fallbackToPrimary",
                        "fallbackToPrimary=false needs at least one replica (every read would fail)"));
            }
            return p;
        }

        private static void poolMaximum(List<ConfigException.Problem> p, String overflowKey, String sizeKey, int size,
                                        int overflow) {
            if ((long) size + overflow > MAX_POOL_SIZE) {
                p.add(new ConfigException.Problem(overflowKey, sizeKey + " + " + overflowKey + " (" + size + " + "
                        + overflow + ") must be at most " + MAX_POOL_SIZE));
            }
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

        private static void increasing(List<ConfigException.Problem> p, String lowKey, Duration low,
                                       String highKey, Duration high) {
            if (high.compareTo(low) <= 0) {
                p.add(new ConfigException.Problem(highKey,
                        highKey + " (" + high + ") must be greater than " + lowKey + " (" + low + ")"));
            }
        }

        private static void addFunctions(String key, Collection<String> names, Set<String> into) {
            notNull(key, names);
            for (String n : names) {
                if (n == null || n.isBlank()) {
                    throw new ConfigException(key, key + " must not contain a blank name: '"
                            + (n == null ? "" : n) + "'");
                }
                String f = n.trim().toLowerCase(Locale.ROOT);
                for (int i = 0; i < f.length(); i++) {
                    char c = f.charAt(i);
                    if (!(Character.isLetterOrDigit(c) || c == '_' || c == '$' || c == '.')) {
                        throw new ConfigException(key, key + " must contain function names: '" + n.trim() + "'");
                    }
                }
            }
            for (String n : names) {
                into.add(n.trim().toLowerCase(Locale.ROOT));
            }
        }

        private static <T> T notNull(String key, T value) {
            if (value == null) {
                throw new ConfigException(key, key + " must not be null");
            }
            return value;
        }

        private static String notBlank(String key, String value) {
            notNull(key, value);
            if (value.isBlank()) {
                throw new ConfigException(key, key + " must not be blank: '" + value + "'");
            }
            return value.trim();
        }

        private static int atLeastOne(String key, int value) {
            if (value < 1) {
                throw new ConfigException(key, key + " must be at least 1: " + value);
            }
            return value;
        }

        private static Duration positive(String key, Duration d) {
            notNull(key, d);
            if (d.isNegative() || d.isZero()) {
                throw new ConfigException(key, key + " must be positive: " + d);
            }
            return d;
        }

        private static Duration notNegative(String key, Duration d) {
            notNull(key, d);
            if (d.isNegative()) {
                throw new ConfigException(key, key + " must not be negative: " + d);
            }
            return d;
        }
    }
}

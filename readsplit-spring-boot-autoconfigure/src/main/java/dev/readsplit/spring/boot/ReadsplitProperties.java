package dev.readsplit.spring.boot;

import dev.readsplit.balance.BalancerKind;
import dev.readsplit.config.FailoverPolicy;
import dev.readsplit.config.TopologySource;
import dev.readsplit.consistency.CausalScope;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The {@code readsplit.*} properties: every key of Readsplit's configuration ({@code docs/operations.md}), under
 * Boot's relaxed names ({@code readsplit.health-check-interval} and {@code readsplit.healthCheckInterval} are the
 * same key), plus the Boot-only groups {@code readsplit.web.*} and {@code readsplit.shutdown.*}.
 *
 * <p>A setting left unset keeps Readsplit's own default (given in the generated metadata). The values are handed
 * to Readsplit's validating configuration builder as they are, so every rule (ranges, cross-field checks) is
 * the library's; a value it rejects fails the start with the Boot property name
 * ({@link ReadsplitConfigurationException}).
 */
@ConfigurationProperties(prefix = "readsplit")
public class ReadsplitProperties {

    /** Data source name, the prefix of Readsplit's log lines, error messages and metric tags. */
    private String name;
    /** The primary node: host[:port][;zone=Z][;weight=N][;name=X]. Setting it turns on the readsplit.* mode. */
    private String primary;
    /** The replica nodes, each host[:port][;zone=Z][;weight=N][;name=X]. */
    private List<String> replicas = new ArrayList<>();
    /** Database name for every node that names none. */
    private String database;
    /** User for every node that names none. */
    private String user;
    /** Password for every node that has none. Take it from any of Boot's sources: an environment variable
     *  (READSPLIT_PASSWORD), a config tree (spring.config.import=configtree:/run/secrets/), a vault. */
    private String password;
    /** Maximum connections of the primary's pool and of each replica's pool (sets both). */
    private Integer poolSize;
    /** Maximum connections of the primary's pool. */
    private Integer primaryPoolSize;
    /** Maximum connections of each replica's pool. */
    private Integer replicaPoolSize;
    /** Connections the primary's pool may open beyond primary-pool-size (seed 002's max_overflow). */
    private Integer primaryPoolOverflow;
    /** Connections a replica's pool may open beyond replica-pool-size (seed 002's read_max_overflow). */
    private Integer replicaPoolOverflow;
    /** Minimum idle connections per node pool (0 up to the pool size). */
    private Integer minIdle;
    /** Maximum wait for a pooled connection (at least 250ms). */
    private Duration connectionTimeout;
    /** Idle connections above min-idle are closed after this; 0 means never. */
    private Duration idleTimeout;
    /** Connections are replaced after this; 0 means never. */
    private Duration maxLifetime;
    /** How reads are spread over the eligible replicas. */
    private BalancerKind balancer;
    /** Prefer replicas in this zone, falling back to other zones; unset turns zone preference off. */
    private String localZone;
    /** Default read consistency: eventual, bounded_staleness:DURATION, read_your_writes or strong. */
    private String consistency;
    /** Who shares a read-your-writes position: connection, thread (every connection opened on the thread) or
     *  data-source (every connection of the data source). See docs/consistency.md. */
    private CausalScope causalScope;
    /** Whether reads go to the primary when no replica is eligible (false: an error naming why). */
    private Boolean fallbackToPrimary;
    /** Interval between two health checks of a node. */
    private Duration healthCheckInterval;
    /** Bound of one health check (at most 1 minute and 10 intervals). */
    private Duration healthCheckTimeout;
    /** Consecutive failed checks that mark a node DOWN. */
    private Integer failureThreshold;
    /** Consecutive successful checks that bring a DOWN node back. */
    private Integer recoveryThreshold;
    /** Replicas further behind than this much WAL are excluded from new reads. */
    private DataSize maxLagBytes;
    /** Replicas further behind than this are excluded from new reads. */
    private Duration maxLag;
    /** Hysteresis: an excluded replica is readmitted below this fraction of the limit (between 0 and 1). */
    private Double lagReadmitRatio;
    /** How long a read may wait for a replica to replay the session's position; 0 means go to the primary. */
    private Duration readYourWritesWait;
    /** Function names the classifier must treat as writing. */
    private List<String> writeFunctions = new ArrayList<>();
    /** Function names the classifier may treat as read-only. */
    private List<String> readFunctions = new ArrayList<>();
    /** Route everything to the primary while recording where each statement would have gone. */
    private Boolean shadowMode;
    /** Replica lag above which an INFO lag event is raised. */
    private Duration lagAlertInfo;
    /** Replica lag above which a WARNING lag event is raised. */
    private Duration lagAlertWarning;
    /** Replica lag above which an ERROR lag event is raised. */
    private Duration lagAlertError;
    /** Replica lag above which a CRITICAL lag event is raised. */
    private Duration lagAlertCritical;
    /** Bearer token of Readsplit's own admin server (readsplit-admin); unset for none. */
    private String adminToken;
    /** What Readsplit does when the primary fails: none (follow an HA manager) or supervised (promote itself). */
    private FailoverPolicy failoverPolicy;
    /** Supervised failover needs at least this many healthy replicas to promote one. */
    private Integer minHealthyReplicas;
    /** Bound of each supervised failover or switchover step. */
    private Duration failoverStepTimeout;
    /** Where the primary and the readable replicas are learned: sql (each node's own answer) or patroni. */
    private TopologySource topologySource;
    /** Patroni REST URLs (e.g. http://10.0.0.1:8008), polled for GET /cluster when topology-source is patroni. */
    private List<String> patroniUrls = new ArrayList<>();
    /** Hedge a replica read past its latency budget on another node, and avoid stalled nodes (docs/failover.md). */
    private Boolean hedgeReads;
    /** A read's latency budget as a multiple of its node's recent p99. */
    private Double hedgeLatencyMultiplier;
    /** The latency budget's floor. */
    private Duration hedgeMinBudget;
    /** The latency budget's cap (and the budget of a node not measured yet). */
    private Duration hedgeMaxBudget;
    /** The share of reads that may be hedged, above 0 and at most 0.5. */
    private Double hedgeMaxShare;
    /** Hedges that may start at once. */
    private Integer hedgeBurst;
    /** pgjdbc properties for every node (a node's own value wins), e.g. readsplit.jdbc.sslmode=require. */
    private Map<String, String> jdbc = new LinkedHashMap<>();

    private final Web web = new Web();
    private final Shutdown shutdown = new Shutdown();
    private final Health health = new Health();

    /**
     * The settings that were given, as Readsplit's own {@code readsplit.<key>} properties. Node keys
     * ({@code primary}, {@code replicas}) are left out when {@code withNodes} is false (the nodes then come
     * from {@code spring.datasource.url} or the seed environment names).
     */
    Properties toCoreProperties(boolean withNodes) {
        Properties p = new Properties();
        if (withNodes) {
            put(p, "primary", primary);
            if (!replicas.isEmpty()) {
                put(p, "replicas", String.join(",", replicas));
            }
            put(p, "database", database);
            put(p, "user", user);
            put(p, "password", password);
        }
        put(p, "name", name);
        put(p, "poolSize", poolSize);
        put(p, "primaryPoolSize", primaryPoolSize);
        put(p, "replicaPoolSize", replicaPoolSize);
        put(p, "primaryPoolOverflow", primaryPoolOverflow);
        put(p, "replicaPoolOverflow", replicaPoolOverflow);
        put(p, "minIdle", minIdle);
        put(p, "connectionTimeout", connectionTimeout);
        put(p, "idleTimeout", idleTimeout);
        put(p, "maxLifetime", maxLifetime);
        put(p, "balancer", balancer == null ? null : balancer.name().toLowerCase(Locale.ROOT));
        put(p, "localZone", localZone);
        put(p, "consistency", consistency);
        put(p, "causalScope", causalScope);
        put(p, "fallbackToPrimary", fallbackToPrimary);
        put(p, "healthCheckInterval", healthCheckInterval);
        put(p, "healthCheckTimeout", healthCheckTimeout);
        put(p, "failureThreshold", failureThreshold);
        put(p, "recoveryThreshold", recoveryThreshold);
        put(p, "maxLagBytes", maxLagBytes == null ? null : maxLagBytes.toBytes());
        put(p, "maxLag", maxLag);
        put(p, "lagReadmitRatio", lagReadmitRatio);
        put(p, "readYourWritesWait", readYourWritesWait);
        if (!writeFunctions.isEmpty()) {
            put(p, "writeFunctions", String.join(",", writeFunctions));
        }
        if (!readFunctions.isEmpty()) {
            put(p, "readFunctions", String.join(",", readFunctions));
        }
        put(p, "shadowMode", shadowMode);
        put(p, "lagAlertInfo", lagAlertInfo);
        put(p, "lagAlertWarning", lagAlertWarning);
        put(p, "lagAlertError", lagAlertError);
        put(p, "lagAlertCritical", lagAlertCritical);
        put(p, "adminToken", adminToken);
        put(p, "failoverPolicy", failoverPolicy == null ? null : failoverPolicy.name().toLowerCase(Locale.ROOT));
        put(p, "minHealthyReplicas", minHealthyReplicas);
        put(p, "failoverStepTimeout", failoverStepTimeout);
        put(p, "topologySource", topologySource == null ? null : topologySource.name().toLowerCase(Locale.ROOT));
        if (!patroniUrls.isEmpty()) {
            put(p, "patroniUrls", String.join(",", patroniUrls));
        }
        put(p, "hedgeReads", hedgeReads);
        put(p, "hedgeLatencyMultiplier", hedgeLatencyMultiplier);
        put(p, "hedgeMinBudget", hedgeMinBudget);
        put(p, "hedgeMaxBudget", hedgeMaxBudget);
        put(p, "hedgeMaxShare", hedgeMaxShare);
        put(p, "hedgeBurst", hedgeBurst);
        for (Map.Entry<String, String> e : jdbc.entrySet()) {
            put(p, "jdbc." + e.getKey(), e.getValue());
        }
        return p;
    }

    private static void put(Properties p, String key, Object value) {
        if (value == null) {
            return;
        }
        String text = value instanceof Duration d ? d.toMillis() + "ms" : value.toString();
        p.setProperty("readsplit." + key, text);
    }

    /** Request-scoped read-your-writes for servlet applications ({@code docs/spring-boot.md}). */
    public static class Web {
        private final CausalToken causalToken = new CausalToken();

        public CausalToken getCausalToken() {
            return causalToken;
        }
    }

    /** The causal-token filter: token read from a cookie or header at request start, written on the response. */
    public static class CausalToken {
        /** Whether the servlet filter carrying the session's causal token between requests is on. */
        private boolean enabled;
        /** Cookie that carries the token; empty to use the header only. */
        private String cookieName = "readsplit-causal";
        /** Request and response header that carries the token; empty to use the cookie only. */
        private String headerName = "Readsplit-Causal-Token";
        /** Max-Age of the cookie; a token older than the replicas' lag is harmless, so short is fine. */
        private Duration cookieMaxAge = Duration.ofMinutes(5);
        /** Whether the cookie is marked Secure (sent over HTTPS only). */
        private boolean cookieSecure;

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getCookieName() {
            return cookieName;
        }

        public void setCookieName(String cookieName) {
            this.cookieName = cookieName;
        }

        public String getHeaderName() {
            return headerName;
        }

        public void setHeaderName(String headerName) {
            this.headerName = headerName;
        }

        public Duration getCookieMaxAge() {
            return cookieMaxAge;
        }

        public void setCookieMaxAge(Duration cookieMaxAge) {
            this.cookieMaxAge = cookieMaxAge;
        }

        public boolean isCookieSecure() {
            return cookieSecure;
        }

        public void setCookieSecure(boolean cookieSecure) {
            this.cookieSecure = cookieSecure;
        }
    }

    /** Graceful shutdown in Boot's lifecycle: after the web server stops, running statements drain. */
    public static class Shutdown {
        /** How long the shutdown waits for statements in flight on any node before the pools are closed. */
        private Duration drainTimeout = Duration.ofSeconds(30);

        public Duration getDrainTimeout() {
            return drainTimeout;
        }

        public void setDrainTimeout(Duration drainTimeout) {
            this.drainTimeout = drainTimeout;
        }
    }

    /** Actuator health of the Readsplit data source. */
    public static class Health {
        /** Healthy replicas readiness needs. Unset: 0 when fallback-to-primary is on (reads fall back), else 1. */
        private Integer minReplicas;

        public Integer getMinReplicas() {
            return minReplicas;
        }

        public void setMinReplicas(Integer minReplicas) {
            this.minReplicas = minReplicas;
        }
    }

    public Web getWeb() {
        return web;
    }

    public Shutdown getShutdown() {
        return shutdown;
    }

    public Health getHealth() {
        return health;
    }

    public String getName() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String getPrimary() {
        return primary;
    }

    public void setPrimary(String primary) {
        this.primary = primary;
    }

    public List<String> getReplicas() {
        return replicas;
    }

    public void setReplicas(List<String> replicas) {
        this.replicas = replicas;
    }

    public String getDatabase() {
        return database;
    }

    public void setDatabase(String database) {
        this.database = database;
    }

    public String getUser() {
        return user;
    }

    public void setUser(String user) {
        this.user = user;
    }

    public String getPassword() {
        return password;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    public Integer getPoolSize() {
        return poolSize;
    }

    public void setPoolSize(Integer poolSize) {
        this.poolSize = poolSize;
    }

    public Integer getPrimaryPoolSize() {
        return primaryPoolSize;
    }

    public void setPrimaryPoolSize(Integer primaryPoolSize) {
        this.primaryPoolSize = primaryPoolSize;
    }

    public Integer getReplicaPoolSize() {
        return replicaPoolSize;
    }

    public void setReplicaPoolSize(Integer replicaPoolSize) {
        this.replicaPoolSize = replicaPoolSize;
    }

    public Integer getPrimaryPoolOverflow() {
        return primaryPoolOverflow;
    }

    public void setPrimaryPoolOverflow(Integer primaryPoolOverflow) {
        this.primaryPoolOverflow = primaryPoolOverflow;
    }

    public Integer getReplicaPoolOverflow() {
        return replicaPoolOverflow;
    }

    public void setReplicaPoolOverflow(Integer replicaPoolOverflow) {
        this.replicaPoolOverflow = replicaPoolOverflow;
    }

    public Integer getMinIdle() {
        return minIdle;
    }

    public void setMinIdle(Integer minIdle) {
        this.minIdle = minIdle;
    }

    public Duration getConnectionTimeout() {
        return connectionTimeout;
    }

    public void setConnectionTimeout(Duration connectionTimeout) {
        this.connectionTimeout = connectionTimeout;
    }

    public Duration getIdleTimeout() {
        return idleTimeout;
    }

    public void setIdleTimeout(Duration idleTimeout) {
        this.idleTimeout = idleTimeout;
    }

    public Duration getMaxLifetime() {
        return maxLifetime;
    }

    public void setMaxLifetime(Duration maxLifetime) {
        this.maxLifetime = maxLifetime;
    }

    public BalancerKind getBalancer() {
        return balancer;
    }

    public void setBalancer(BalancerKind balancer) {
        this.balancer = balancer;
    }

    public String getLocalZone() {
        return localZone;
    }

    public void setLocalZone(String localZone) {
        this.localZone = localZone;
    }

    public String getConsistency() {
        return consistency;
    }

    public void setConsistency(String consistency) {
        this.consistency = consistency;
    }

    public CausalScope getCausalScope() {
        return causalScope;
    }

    public void setCausalScope(CausalScope causalScope) {
        this.causalScope = causalScope;
    }

    public Boolean getFallbackToPrimary() {
        return fallbackToPrimary;
    }

    public void setFallbackToPrimary(Boolean fallbackToPrimary) {
        this.fallbackToPrimary = fallbackToPrimary;
    }

    public Duration getHealthCheckInterval() {
        return healthCheckInterval;
    }

    public void setHealthCheckInterval(Duration healthCheckInterval) {
        this.healthCheckInterval = healthCheckInterval;
    }

    public Duration getHealthCheckTimeout() {
        return healthCheckTimeout;
    }

    public void setHealthCheckTimeout(Duration healthCheckTimeout) {
        this.healthCheckTimeout = healthCheckTimeout;
    }

    public Integer getFailureThreshold() {
        return failureThreshold;
    }

    public void setFailureThreshold(Integer failureThreshold) {
        this.failureThreshold = failureThreshold;
    }

    public Integer getRecoveryThreshold() {
        return recoveryThreshold;
    }

    public void setRecoveryThreshold(Integer recoveryThreshold) {
        this.recoveryThreshold = recoveryThreshold;
    }

    public DataSize getMaxLagBytes() {
        return maxLagBytes;
    }

    public void setMaxLagBytes(DataSize maxLagBytes) {
        this.maxLagBytes = maxLagBytes;
    }

    public Duration getMaxLag() {
        return maxLag;
    }

    public void setMaxLag(Duration maxLag) {
        this.maxLag = maxLag;
    }

    public Double getLagReadmitRatio() {
        return lagReadmitRatio;
    }

    public void setLagReadmitRatio(Double lagReadmitRatio) {
        this.lagReadmitRatio = lagReadmitRatio;
    }

    public Duration getReadYourWritesWait() {
        return readYourWritesWait;
    }

    public void setReadYourWritesWait(Duration readYourWritesWait) {
        this.readYourWritesWait = readYourWritesWait;
    }

    public List<String> getWriteFunctions() {
        return writeFunctions;
    }

    public void setWriteFunctions(List<String> writeFunctions) {
        this.writeFunctions = writeFunctions;
    }

    public List<String> getReadFunctions() {
        return readFunctions;
    }

    public void setReadFunctions(List<String> readFunctions) {
        this.readFunctions = readFunctions;
    }

    public Boolean getShadowMode() {
        return shadowMode;
    }

    public void setShadowMode(Boolean shadowMode) {
        this.shadowMode = shadowMode;
    }

    public Duration getLagAlertInfo() {
        return lagAlertInfo;
    }

    public void setLagAlertInfo(Duration lagAlertInfo) {
        this.lagAlertInfo = lagAlertInfo;
    }

    public Duration getLagAlertWarning() {
        return lagAlertWarning;
    }

    public void setLagAlertWarning(Duration lagAlertWarning) {
        this.lagAlertWarning = lagAlertWarning;
    }

    public Duration getLagAlertError() {
        return lagAlertError;
    }

    public void setLagAlertError(Duration lagAlertError) {
        this.lagAlertError = lagAlertError;
    }

    public Duration getLagAlertCritical() {
        return lagAlertCritical;
    }

    public void setLagAlertCritical(Duration lagAlertCritical) {
        this.lagAlertCritical = lagAlertCritical;
    }

    public String getAdminToken() {
        return adminToken;
    }

    public void setAdminToken(String adminToken) {
        this.adminToken = adminToken;
    }

    public FailoverPolicy getFailoverPolicy() {
        return failoverPolicy;
    }

    public void setFailoverPolicy(FailoverPolicy failoverPolicy) {
        this.failoverPolicy = failoverPolicy;
    }

    public Integer getMinHealthyReplicas() {
        return minHealthyReplicas;
    }

    public void setMinHealthyReplicas(Integer minHealthyReplicas) {
        this.minHealthyReplicas = minHealthyReplicas;
    }

    public Duration getFailoverStepTimeout() {
        return failoverStepTimeout;
    }

    public void setFailoverStepTimeout(Duration failoverStepTimeout) {
        this.failoverStepTimeout = failoverStepTimeout;
    }

    public TopologySource getTopologySource() {
        return topologySource;
    }

    public void setTopologySource(TopologySource topologySource) {
        this.topologySource = topologySource;
    }

    public List<String> getPatroniUrls() {
        return patroniUrls;
    }

    public void setPatroniUrls(List<String> patroniUrls) {
        this.patroniUrls = patroniUrls;
    }

    public Boolean getHedgeReads() {
        return hedgeReads;
    }

    public void setHedgeReads(Boolean hedgeReads) {
        this.hedgeReads = hedgeReads;
    }

    public Double getHedgeLatencyMultiplier() {
        return hedgeLatencyMultiplier;
    }

    public void setHedgeLatencyMultiplier(Double hedgeLatencyMultiplier) {
        this.hedgeLatencyMultiplier = hedgeLatencyMultiplier;
    }

    public Duration getHedgeMinBudget() {
        return hedgeMinBudget;
    }

    public void setHedgeMinBudget(Duration hedgeMinBudget) {
        this.hedgeMinBudget = hedgeMinBudget;
    }

    public Duration getHedgeMaxBudget() {
        return hedgeMaxBudget;
    }

    public void setHedgeMaxBudget(Duration hedgeMaxBudget) {
        this.hedgeMaxBudget = hedgeMaxBudget;
    }

    public Double getHedgeMaxShare() {
        return hedgeMaxShare;
    }

    public void setHedgeMaxShare(Double hedgeMaxShare) {
        this.hedgeMaxShare = hedgeMaxShare;
    }

    public Integer getHedgeBurst() {
        return hedgeBurst;
    }

    public void setHedgeBurst(Integer hedgeBurst) {
        this.hedgeBurst = hedgeBurst;
    }

    public Map<String, String> getJdbc() {
        return jdbc;
    }

    public void setJdbc(Map<String, String> jdbc) {
        this.jdbc = jdbc;
    }

    /** Never the password or the admin token. */
    @Override
    public String toString() {
        return "ReadsplitProperties[primary=" + primary + ", replicas=" + replicas + ", password="
                + (password == null ? "null" : "****") + ", adminToken=" + (adminToken == null ? "null" : "****")
                + "]";
    }
}

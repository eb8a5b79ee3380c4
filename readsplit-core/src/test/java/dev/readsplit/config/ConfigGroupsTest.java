package dev.readsplit.config;

import dev.readsplit.Consistency;
import dev.readsplit.balance.BalancerKind;
import dev.readsplit.consistency.CausalScope;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The settings groups of {@link ReadsplitConfig}: every flat key lands in exactly one group, each group record is
 * valid by construction (its constructor refuses what the builder refuses, naming the same key), and
 * {@code toBuilder()} carries every group over.
 */
class ConfigGroupsTest {

    private static final Map<String, Function<ReadsplitConfig, Object>> GROUPS = new LinkedHashMap<>();

    static {
        GROUPS.put("pool", ReadsplitConfig::pool);
        GROUPS.put("health", ReadsplitConfig::health);
        GROUPS.put("lag", ReadsplitConfig::lag);
        GROUPS.put("routing", ReadsplitConfig::routing);
        GROUPS.put("failover", ReadsplitConfig::failover);
        GROUPS.put("topology", ReadsplitConfig::topology);
        GROUPS.put("adminToken", ReadsplitConfig::adminToken);
    }

    /** Key, a value other than the default, the group it belongs to, what the group's accessor then returns. */
    static Stream<Arguments> keys() {
        return Stream.of(
                k("primaryPoolSize", "20", "pool", c -> c.pool().primarySize(), 20),
                k("replicaPoolSize", "21", "pool", c -> c.pool().replicaSize(), 21),
                k("primaryPoolOverflow", "3", "pool", c -> c.pool().primaryOverflow(), 3),
                k("replicaPoolOverflow", "4", "pool", c -> c.pool().replicaOverflow(), 4),
                k("minIdle", "2", "pool", c -> c.pool().minIdle(), 2),
                k("connectionTimeout", "750ms", "pool", c -> c.pool().connectionTimeout(), Duration.ofMillis(750)),
                k("idleTimeout", "1m", "pool", c -> c.pool().idleTimeout(), Duration.ofMinutes(1)),
                k("maxLifetime", "40m", "pool", c -> c.pool().maxLifetime(), Duration.ofMinutes(40)),
                k("healthCheckInterval", "250ms", "health", c -> c.health().interval(), Duration.ofMillis(250)),
                k("healthCheckTimeout", "2s", "health", c -> c.health().timeout(), Duration.ofSeconds(2)),
                k("failureThreshold", "5", "health", c -> c.health().failureThreshold(), 5),
                k("recoveryThreshold", "4", "health", c -> c.health().recoveryThreshold(), 4),
                k("maxLagBytes", "1MB", "lag", c -> c.lag().maxLagBytes(), 1024L * 1024),
                k("maxLag", "3s", "lag", c -> c.lag().maxLag(), Duration.ofSeconds(3)),
                k("lagReadmitRatio", "0.25", "lag", c -> c.lag().readmitRatio(), 0.25),
                k("lagAlertInfo", "500ms", "lag", c -> c.lag().alertInfo(), Duration.ofMillis(500)),
                k("lagAlertWarning", "6s", "lag", c -> c.lag().alertWarning(), Duration.ofSeconds(6)),
                k("lagAlertError", "11s", "lag", c -> c.lag().alertError(), Duration.ofSeconds(11)),
                k("lagAlertCritical", "1m", "lag", c -> c.lag().alertCritical(), Duration.ofMinutes(1)),
                k("balancer", "least_outstanding", "routing", c -> c.routing().balancer(),
                        BalancerKind.LEAST_OUTSTANDING),
                k("localZone", "eu-1", "routing", c -> c.routing().localZone(), "eu-1"),
                k("consistency", "strong", "routing", c -> c.routing().consistency(), Consistency.strong()),
                k("causalScope", "data-source", "routing", c -> c.routing().causalScope(), CausalScope.DATA_SOURCE),
                k("readYourWritesWait", "0", "routing", c -> c.routing().readYourWritesWait(), Duration.ZERO),
                k("fallbackToPrimary", "false", "routing", c -> c.routing().fallbackToPrimary(), false),
                k("shadowMode", "true", "routing", c -> c.routing().shadowMode(), true),
                k("writeFunctions", "Audit_Log", "routing", c -> c.routing().writeFunctions(), Set.of("audit_log")),
                k("readFunctions", "pure_fn", "routing", c -> c.routing().readFunctions(), Set.of("pure_fn")),
                k("failoverPolicy", "supervised", "failover", c -> c.failover().policy(), FailoverPolicy.SUPERVISED),
                k("minHealthyReplicas", "3", "failover", c -> c.failover().minHealthyReplicas(), 3),
                k("failoverStepTimeout", "20s", "failover", c -> c.failover().stepTimeout(), Duration.ofSeconds(20)),
                k("adminToken", "t0ken", "adminToken", c -> c.adminToken(), Secret.of("t0ken")));
    }

    private static Arguments k(String key, String value, String group, Function<ReadsplitConfig, Object> accessor,
                               Object expected) {
        return Arguments.of(key, value, group, accessor, expected);
    }

    private static ReadsplitConfig withKey(String key, String value) {
        Properties p = new Properties();
        p.setProperty("readsplit.primary", "db-primary:5432");
        p.setProperty("readsplit.replicas", "db-replica:5432");
        p.setProperty("readsplit." + key, value);
        return ReadsplitConfig.fromProperties(p);
    }

    @ParameterizedTest(name = "{0} is in {2}")
    @MethodSource("keys")
    void everyKeyChangesItsGroupAndNoOther(String key, String value, String group,
                                           Function<ReadsplitConfig, Object> accessor, Object expected) {
        ReadsplitConfig defaults = withKey("name", "readsplit");
        ReadsplitConfig changed = withKey(key, value);
        assertThat(accessor.apply(changed)).isEqualTo(expected);
        List<String> differing = new ArrayList<>();
        GROUPS.forEach((name, g) -> {
            if (!java.util.Objects.equals(g.apply(defaults), g.apply(changed))) {
                differing.add(name);
            }
        });
        assertThat(differing).containsExactly(group);
        assertThat(changed.toBuilder().build()).isEqualTo(changed);
    }

    @Test
    void theTopologyGroupHoldsThePatroniSettings() {
        ReadsplitConfig c = ReadsplitConfig.builder().primary("db-primary", 5432).topologySource(TopologySource.PATRONI)
                .patroniUrls(List.of("http://pg1:8008", "http://pg2:8008")).build();
        assertThat(c.topology().source()).isEqualTo(TopologySource.PATRONI);
        assertThat(c.topology().patroniUrls())
                .containsExactly(URI.create("http://pg1:8008"), URI.create("http://pg2:8008"));
        assertThat(c.toBuilder().build().topology()).isEqualTo(c.topology());
    }

    @Test
    void everyKnownKeyIsCoveredHere() {
        List<String> covered = keys().map(a -> (String) a.get()[0]).toList();
        List<String> elsewhere = List.of("name", "primary", "replicas", "database", "user", "password", "poolSize",
                "topologySource", "patroniUrls");
        assertThat(ConfigKeys.knownKeys()).containsExactlyInAnyOrderElementsOf(
                Stream.concat(covered.stream(), elsewhere.stream()).toList());
    }

    @Test
    void groupRecordsRefuseWhatTheBuilderRefuses() {
        ConfigException minIdle = assertThrows(ConfigException.class, () -> new PoolSettings(5, 10, 0, 0, 6,
                Duration.ofSeconds(5), Duration.ofMinutes(10), Duration.ofMinutes(30)));
        assertThat(minIdle.key()).isEqualTo("minIdle");
        assertThat(minIdle.getMessage()).isEqualTo("minIdle (6) must not exceed primaryPoolSize (5)");

        ConfigException timeout = assertThrows(ConfigException.class, () -> new PoolSettings(5, 10, 0, 0, 0,
                Duration.ofMillis(100), Duration.ofMinutes(10), Duration.ofMinutes(30)));
        assertThat(timeout.key()).isEqualTo("connectionTimeout");

        ConfigException health = assertThrows(ConfigException.class,
                () -> new HealthSettings(Duration.ofSeconds(1), Duration.ofSeconds(11), 3, 2));
        assertThat(health.key()).isEqualTo("healthCheckTimeout");
        assertThat(health.getMessage()).contains("must not exceed 10 x healthCheckInterval");

        ConfigException alerts = assertThrows(ConfigException.class, () -> new LagSettings(1, Duration.ofSeconds(1),
                0.5, Duration.ofSeconds(5), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30)));
        assertThat(alerts.key()).isEqualTo("lagAlertWarning");

        ConfigException functions = assertThrows(ConfigException.class, () -> new RoutingSettings(
                BalancerKind.ROUND_ROBIN, null, Consistency.eventual(), CausalScope.THREAD, Duration.ZERO, true, false,
                Set.of("f"), Set.of("F")));
        assertThat(functions.getMessage()).isEqualTo("function 'f' is in both writeFunctions and readFunctions");

        ConfigException step = assertThrows(ConfigException.class,
                () -> new FailoverSettings(FailoverPolicy.NONE, 1, Duration.ofMinutes(6)));
        assertThat(step.key()).isEqualTo("failoverStepTimeout");

        ConfigException patroni = assertThrows(ConfigException.class,
                () -> new TopologySettings(TopologySource.PATRONI, List.of()));
        assertThat(patroni.key()).isEqualTo("patroniUrls");
        ConfigException credentials = assertThrows(ConfigException.class, () -> new TopologySettings(
                TopologySource.PATRONI, List.of(URI.create("http://u:pw@pg1:8008"))));
        assertThat(credentials.getMessage()).doesNotContain("pw").contains("must not carry credentials");
    }

    @Test
    void groupRecordsAreImmutable() {
        RoutingSettings r = withKey("writeFunctions", "a,b").routing();
        assertThrows(UnsupportedOperationException.class, () -> r.writeFunctions().add("c"));
        List<URI> urls = new ArrayList<>(List.of(URI.create("http://pg1:8008")));
        TopologySettings t = new TopologySettings(TopologySource.PATRONI, urls);
        urls.clear();
        assertThat(t.patroniUrls()).hasSize(1);
    }

    @Test
    void toStringShowsEveryGroupAndNoSecret() {
        ReadsplitConfig c = ReadsplitConfig.builder().primary("db-primary", 5432).password("pw-s3cret")
                .adminToken("t0ken-s3cret").build();
        assertThat(c.toString()).contains("PoolSettings[", "HealthSettings[", "LagSettings[", "RoutingSettings[",
                "FailoverSettings[", "TopologySettings[").doesNotContain("s3cret");
    }
}

package dev.readsplit.spring.boot;

import dev.readsplit.config.ReadsplitConfig;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

import java.io.InputStream;
import java.lang.reflect.Method;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The readsplit.* properties against core's configuration: same keys, same defaults, faithful conversion. */
class ReadsplitPropertiesTest {

    private static final Pattern PROPERTY = Pattern.compile(
            "\\{\\s*\"name\"\\s*:\\s*\"(readsplit\\.[a-z0-9.-]+)\"[^}]*?\"defaultValue\"\\s*:\\s*(\"[^\"]*\"|[^,}\\s]+)");

    private static ReadsplitProperties bind(Map<String, String> values) {
        return new Binder(new MapConfigurationPropertySource(values)).bind("readsplit", ReadsplitProperties.class)
                .orElseGet(ReadsplitProperties::new);
    }

    /** Every defaultValue of the generated metadata, by Boot property name. */
    private static Map<String, String> metadataDefaults() throws Exception {
        Map<String, String> out = new HashMap<>();
        try (InputStream in = ReadsplitPropertiesTest.class.getResourceAsStream(
                "/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("generated configuration metadata").isNotNull();
            Matcher m = PROPERTY.matcher(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            while (m.find()) {
                out.put(m.group(1), m.group(2).replace("\"", ""));
            }
        }
        return out;
    }

    @Test
    void theMetadataDefaultsAreCoresDefaults() throws Exception {
        Map<String, String> defaults = metadataDefaults();
        assertThat(defaults).containsKeys("readsplit.health-check-interval", "readsplit.max-lag-bytes",
                "readsplit.balancer", "readsplit.consistency", "readsplit.failover-policy");
        Map<String, String> values = new HashMap<>();
        values.put("readsplit.primary", "db.example:5432");
        for (Map.Entry<String, String> e : defaults.entrySet()) {
            String key = e.getKey();
            if (key.startsWith("readsplit.web.") || key.startsWith("readsplit.shutdown.")
                    || key.startsWith("readsplit.health.") || key.equals("readsplit.enabled")) {
                continue;
            }
            values.put(key, e.getValue());
        }
        ReadsplitConfig fromDefaults = ReadsplitConfig.fromProperties(bind(values).toCoreProperties(true));
        ReadsplitConfig core = ReadsplitConfig.builder().primary("db.example", 5432).build();
        assertThat(fromDefaults).isEqualTo(core);
    }

    @Test
    void unsetPropertiesAreLeftToCore() {
        Properties p = bind(Map.of("readsplit.primary", "h:1")).toCoreProperties(true);
        assertThat(p.stringPropertyNames()).containsExactly("readsplit.primary");
        assertThat(bind(Map.of()).toCoreProperties(true)).isEmpty();
    }

    @Test
    void everyValueReachesCore() {
        Map<String, String> v = new HashMap<>();
        v.put("readsplit.primary", "p:5432;zone=a");
        v.put("readsplit.replicas", "r1:5433;zone=a,r2:5434;zone=b;weight=3");
        v.put("readsplit.database", "app");
        v.put("readsplit.user", "u");
        v.put("readsplit.password", "pw");
        v.put("readsplit.primary-pool-size", "7");
        v.put("readsplit.replica-pool-size", "9");
        v.put("readsplit.min-idle", "2");
        v.put("readsplit.primary-pool-overflow", "3");
        v.put("readsplit.replica-pool-overflow", "4");
        v.put("readsplit.connection-timeout", "750ms");
        v.put("readsplit.idle-timeout", "2m");
        v.put("readsplit.max-lifetime", "1h");
        v.put("readsplit.balancer", "latency-aware");
        v.put("readsplit.local-zone", "a");
        v.put("readsplit.consistency", "bounded_staleness:3s");
        v.put("readsplit.fallback-to-primary", "false");
        v.put("readsplit.health-check-interval", "250ms");
        v.put("readsplit.health-check-timeout", "2s");
        v.put("readsplit.failure-threshold", "4");
        v.put("readsplit.recovery-threshold", "5");
        v.put("readsplit.max-lag-bytes", "1MB");
        v.put("readsplit.max-lag", "4s");
        v.put("readsplit.lag-readmit-ratio", "0.25");
        v.put("readsplit.read-your-writes-wait", "40ms");
        v.put("readsplit.write-functions", "audit_log,bump");
        v.put("readsplit.read-functions", "pure_fn");
        v.put("readsplit.shadow-mode", "true");
        v.put("readsplit.lag-alert-info", "2s");
        v.put("readsplit.lag-alert-warning", "6s");
        v.put("readsplit.lag-alert-error", "11s");
        v.put("readsplit.lag-alert-critical", "31s");
        v.put("readsplit.admin-token", "tok");
        v.put("readsplit.failover-policy", "supervised");
        v.put("readsplit.min-healthy-replicas", "2");
        v.put("readsplit.failover-step-timeout", "20s");
        v.put("readsplit.jdbc.sslmode", "require");
        ReadsplitConfig c = ReadsplitConfig.fromProperties(bind(v).toCoreProperties(true));
        assertThat(c.primary().zone()).isEqualTo("a");
        assertThat(c.replicas()).hasSize(2);
        assertThat(c.replicas().get(1).weight()).isEqualTo(3);
        assertThat(c.primary().database()).isEqualTo("app");
        assertThat(c.primary().password().reveal()).isEqualTo("pw");
        assertThat(c.pool().primarySize()).isEqualTo(7);
        assertThat(c.pool().replicaSize()).isEqualTo(9);
        assertThat(c.pool().minIdle()).isEqualTo(2);
        assertThat(c.pool().primaryOverflow()).isEqualTo(3);
        assertThat(c.pool().replicaOverflow()).isEqualTo(4);
        assertThat(c.pool().connectionTimeout()).hasMillis(750);
        assertThat(c.pool().idleTimeout()).hasMinutes(2);
        assertThat(c.pool().maxLifetime()).hasHours(1);
        assertThat(c.routing().balancer().name()).isEqualTo("LATENCY_AWARE");
        assertThat(c.routing().localZone()).isEqualTo("a");
        assertThat(c.routing().consistency().toString()).contains("bounded_staleness");
        assertThat(c.routing().fallbackToPrimary()).isFalse();
        assertThat(c.health().interval()).hasMillis(250);
        assertThat(c.health().timeout()).hasSeconds(2);
        assertThat(c.health().failureThreshold()).isEqualTo(4);
        assertThat(c.health().recoveryThreshold()).isEqualTo(5);
        assertThat(c.lag().maxLagBytes()).isEqualTo(1024 * 1024);
        assertThat(c.lag().maxLag()).hasSeconds(4);
        assertThat(c.lag().readmitRatio()).isEqualTo(0.25);
        assertThat(c.routing().readYourWritesWait()).hasMillis(40);
        assertThat(c.routing().writeFunctions()).contains("audit_log", "bump");
        assertThat(c.routing().readFunctions()).contains("pure_fn");
        assertThat(c.routing().shadowMode()).isTrue();
        assertThat(c.lag().alertInfo()).hasSeconds(2);
        assertThat(c.lag().alertWarning()).hasSeconds(6);
        assertThat(c.lag().alertError()).hasSeconds(11);
        assertThat(c.lag().alertCritical()).hasSeconds(31);
        assertThat(c.adminToken().reveal()).isEqualTo("tok");
        assertThat(c.failover().policy().name()).isEqualTo("SUPERVISED");
        assertThat(c.failover().minHealthyReplicas()).isEqualTo(2);
        assertThat(c.failover().stepTimeout()).hasSeconds(20);
        assertThat(c.primary().jdbcProperties()).containsEntry("sslmode", "require");
    }

    /**
     * A drift guard: every key core reads has a readsplit.* property here. Core's key table is package-private,
     * so the test reads it reflectively; when core gains a key, this fails until the property is added.
     */
    @Test
    void everyCoreKeyHasABootProperty() throws Exception {
        Class<?> keys = Class.forName("dev.readsplit.config.ConfigKeys");
        Method known = keys.getDeclaredMethod("knownKeys");
        known.setAccessible(true);
        @SuppressWarnings("unchecked")
        Set<String> coreKeys = new LinkedHashSet<>((Set<String>) known.invoke(null));
        Set<String> bootKeys = new LinkedHashSet<>();
        for (java.beans.PropertyDescriptor d : java.beans.Introspector.getBeanInfo(ReadsplitProperties.class)
                .getPropertyDescriptors()) {
            bootKeys.add(d.getName());
        }
        coreKeys.removeAll(bootKeys);
        assertThat(coreKeys).as("core keys with no readsplit.* property").isEmpty();
    }

    @Test
    void namesTranslateBetweenCoreBootAndEnvironment() {
        assertThat(ReadsplitConfigurationException.bootName("readsplit.healthCheckTimeout"))
                .isEqualTo("readsplit.health-check-timeout");
        assertThat(ReadsplitConfigurationException.bootName("readsplit.jdbc.sslMode")).isEqualTo("readsplit.jdbc.sslMode");
        assertThat(ReadsplitConfigFactory.environmentName("readsplit.maxLagBytes")).isEqualTo("READSPLIT_MAX_LAG_BYTES");
        assertThat(ReadsplitConfigFactory.environmentName("readsplit.jdbc.sslmode")).isEqualTo("READSPLIT_JDBC_SSLMODE");
    }

    @Test
    void aRejectedValueIsReportedUnderItsBootName() {
        org.springframework.mock.env.MockEnvironment env = new org.springframework.mock.env.MockEnvironment()
                .withProperty("readsplit.primary", "db:5432").withProperty("readsplit.password", "pw-secret");
        ReadsplitProperties p = bind(Map.of("readsplit.primary", "db:5432", "readsplit.password", "pw-secret",
                "readsplit.health-check-timeout", "5m", "readsplit.failure-threshold", "0"));
        ReadsplitConfigurationException e = org.junit.jupiter.api.Assertions.assertThrows(
                ReadsplitConfigurationException.class, () -> ReadsplitConfigFactory.create(env, p));
        System.out.println(new ReadsplitConfigurationFailureAnalyzer().analyze(e).getDescription());
        assertThat(e.problems()).extracting(ReadsplitConfigurationException.Problem::property)
                .contains("readsplit.health-check-timeout", "readsplit.failure-threshold");
        for (ReadsplitConfigurationException.Problem problem : e.problems()) {
            assertThat(problem.message()).contains(problem.property());
        }
        assertThat(e.getMessage()).doesNotContain("pw-secret");
        assertThat(e.reason()).isEqualTo(dev.readsplit.ReadsplitException.Reason.INVALID_CONFIG);
        assertThat(e.getCause()).isInstanceOf(dev.readsplit.config.ConfigException.class);
    }

    @Test
    void toStringHidesSecrets() {
        ReadsplitProperties p = bind(Map.of("readsplit.password", "hunter2", "readsplit.admin-token", "t0ken"));
        assertThat(p.toString()).doesNotContain("hunter2").doesNotContain("t0ken");
    }
}

package dev.readsplit.config;

import dev.readsplit.balance.BalancerKind;
import dev.readsplit.Consistency;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PropertiesConfigTest {

    static final String PASSWORD = "s3cr3t-Pa55";

    static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void readsEveryKey() {
        ReadsplitConfig c = ReadsplitConfig.fromProperties(props(
                "readsplit.name", "orders",
                "readsplit.primary", "pg-a:5432;zone=eu-1a",
                "readsplit.replicas", "pg-b:5433;zone=eu-1b;weight=2, pg-c",
                "readsplit.database", "shop",
                "readsplit.user", "app",
                "readsplit.password", PASSWORD,
                "readsplit.primaryPoolSize", "20",
                "readsplit.replicaPoolSize", "15",
                "readsplit.minIdle", "2",
                "readsplit.connectionTimeout", "3s",
                "readsplit.idleTimeout", "5m",
                "readsplit.maxLifetime", "PT1H",
                "readsplit.balancer", "least_outstanding",
                "readsplit.localZone", "eu-1a",
                "readsplit.consistency", "bounded_staleness:2s",
                "readsplit.fallbackToPrimary", "false",
                "readsplit.healthCheckInterval", "500ms",
                "readsplit.healthCheckTimeout", "250",
                "readsplit.failureThreshold", "5",
                "readsplit.recoveryThreshold", "4",
                "readsplit.maxLagBytes", "64MB",
                "readsplit.maxLag", "1.5s",
                "readsplit.lagReadmitRatio", "0.8",
                "readsplit.readYourWritesWait", "0",
                "readsplit.writeFunctions", "Audit, bump_counter",
                "readsplit.readFunctions", "pure_fn",
                "readsplit.shadowMode", "yes",
                "readsplit.lagAlertInfo", "2s",
                "readsplit.lagAlertWarning", "4s",
                "readsplit.lagAlertError", "8s",
                "readsplit.lagAlertCritical", "1m",
                "readsplit.adminToken", "tok",
                "readsplit.jdbc.sslmode", "require",
                "unrelated.key", "ignored"));
        assertThat(c.name()).isEqualTo("orders");
        assertThat(c.primary().address()).isEqualTo("pg-a:5432");
        assertThat(c.primary().zone()).isEqualTo("eu-1a");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("pg-b:5433", "pg-c:5432");
        assertThat(c.replicas().get(0).weight()).isEqualTo(2);
        assertThat(c.replicas().get(1).database()).isEqualTo("shop");
        assertThat(c.replicas().get(1).user()).isEqualTo("app");
        assertThat(c.replicas().get(1).password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.replicas().get(1).jdbcProperties()).containsEntry("sslmode", "require");
        assertThat(c.pool().primarySize()).isEqualTo(20);
        assertThat(c.pool().replicaSize()).isEqualTo(15);
        assertThat(c.pool().minIdle()).isEqualTo(2);
        assertThat(c.pool().connectionTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.pool().idleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.pool().maxLifetime()).isEqualTo(Duration.ofHours(1));
        assertThat(c.routing().balancer()).isEqualTo(BalancerKind.LEAST_OUTSTANDING);
        assertThat(c.routing().localZone()).isEqualTo("eu-1a");
        assertThat(c.routing().consistency()).isEqualTo(Consistency.boundedStaleness(Duration.ofSeconds(2)));
        assertThat(c.routing().fallbackToPrimary()).isFalse();
        assertThat(c.health().interval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.health().timeout()).isEqualTo(Duration.ofMillis(250));
        assertThat(c.health().failureThreshold()).isEqualTo(5);
        assertThat(c.health().recoveryThreshold()).isEqualTo(4);
        assertThat(c.lag().maxLagBytes()).isEqualTo(64L << 20);
        assertThat(c.lag().maxLag()).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.lag().readmitRatio()).isEqualTo(0.8);
        assertThat(c.routing().readYourWritesWait()).isZero();
        assertThat(c.routing().writeFunctions()).containsExactly("audit", "bump_counter");
        assertThat(c.routing().readFunctions()).containsExactly("pure_fn");
        assertThat(c.routing().shadowMode()).isTrue();
        assertThat(c.lag().alertCritical()).isEqualTo(Duration.ofMinutes(1));
        assertThat(c.adminToken().reveal()).isEqualTo("tok");
        assertThat(c.toString()).doesNotContain(PASSWORD);
    }

    @Test
    void poolSizeSetsBoth() {
        ReadsplitConfig c = ReadsplitConfig.fromProperties(props("readsplit.primary", "p", "readsplit.poolSize", "7"));
        assertThat(c.pool().primarySize()).isEqualTo(7);
        assertThat(c.pool().replicaSize()).isEqualTo(7);
    }

    @Test
    void unknownKeySuggestsTheClosest() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p", "readsplit.helthCheckInterval", "1s")));
        assertThat(e.key()).isEqualTo("readsplit.helthCheckInterval");
        assertThat(e).hasMessage("unknown key readsplit.helthCheckInterval \u2014 did you mean "
                + "readsplit.healthCheckInterval?");
    }

    @Test
    void unknownKeyWithNothingCloseHasNoSuggestion() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p", "readsplit.frobnicate", "1")));
        assertThat(e).hasMessage("unknown key readsplit.frobnicate");
    }

    @Test
    void valueErrorsNameThePrefixedKeyAndValue() {
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p", "readsplit.healthCheckInterval", "-1s"))))
                .hasMessage("readsplit.healthCheckInterval must be positive: PT-1S");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p", "readsplit.healthCheckInterval", "soon"))))
                .hasMessage("readsplit.healthCheckInterval must be a duration (e.g. 500ms, 2s, 1m, PT2S): 'soon'");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p", "readsplit.balancer", "fastest"))))
                .hasMessage("readsplit.balancer must be one of round_robin, random, weighted, least_outstanding, "
                        + "latency_aware, affinity: 'fastest'");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p", "readsplit.consistency", "sometimes"))))
                .hasMessage("readsplit.consistency: unknown consistency 'sometimes' (expected eventual, "
                        + "bounded_staleness:<duration>, read_your_writes or strong)");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p", "readsplit.shadowMode", "maybe"))))
                .hasMessage("readsplit.shadowMode must be true or false: 'maybe'");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p", "readsplit.maxLagBytes", "lots"))))
                .hasMessage("readsplit.maxLagBytes must be a byte size (e.g. 16MB, 512kB, 1048576): 'lots'");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p:0"))))
                .hasMessage("readsplit.primary: port must be in 1..65535: 0 (in 'p:0')");
    }

    @Test
    void missingPrimaryIsReportedWithThePrefix() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props()));
        assertThat(e.key()).isEqualTo("readsplit.primary");
        assertThat(e).hasMessage("readsplit.primary is required");
    }

    @Test
    void reportsAllProblemsTogether() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "p:99999",
                "readsplit.replicas", "r1:x,r2",
                "readsplit.helthCheckInterval", "1s",
                "readsplit.minIdle", "50",
                "readsplit.password", PASSWORD,
                "readsplit.lagAlertWarning", "500ms")));
        assertThat(e.getMessage().lines()).containsExactly(
                "5 configuration problems:",
                "unknown key readsplit.helthCheckInterval \u2014 did you mean readsplit.healthCheckInterval?",
                "readsplit.primary: port must be in 1..65535: 99999 (in 'p:99999')",
                "readsplit.replicas: port must be an integer: 'x' (in 'r1:x')",
                "readsplit.minIdle (50) must not exceed primaryPoolSize (10)",
                "readsplit.lagAlertWarning (PT0.5S) must be greater than lagAlertInfo (PT1S)");
        assertThat(e.getMessage()).doesNotContain(PASSWORD);
    }

    @Test
    void passwordNeverAppearsInErrors() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.password", PASSWORD, "readsplit.adminToken", PASSWORD, "readsplit.jdbc.sslpassword",
                PASSWORD, "readsplit.jdbc.password", PASSWORD, "readsplit.pasword", PASSWORD)));
        assertThat(e.getMessage()).doesNotContain(PASSWORD)
                .contains("unknown key readsplit.pasword \u2014 did you mean readsplit.password?")
                .contains("readsplit.primary is required")
                .contains("readsplit.jdbc.password: jdbcProperties must not contain 'password'; set password on "
                        + "the node or the data source");
        assertThat(e.problems()).extracting(ConfigException.Problem::key)
                .contains("readsplit.jdbc.password", "readsplit.pasword", "readsplit.primary");
    }
}

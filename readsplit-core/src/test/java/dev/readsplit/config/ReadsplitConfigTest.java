package dev.readsplit.config;

import dev.readsplit.balance.BalancerKind;
import dev.readsplit.Consistency;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ReadsplitConfigTest {

    static final String PASSWORD = "s3cr3t-Pa55";

    static ReadsplitConfig.Builder minimal() {
        return ReadsplitConfig.builder().primary("db-primary", 5432);
    }

    @Test
    void defaults() {
        ReadsplitConfig c = minimal().build();
        assertThat(c.name()).isEqualTo("readsplit");
        assertThat(c.primary().address()).isEqualTo("db-primary:5432");
        assertThat(c.primary().name()).isEqualTo("db-primary:5432");
        assertThat(c.replicas()).isEmpty();
        assertThat(c.pool().primarySize()).isEqualTo(10);
        assertThat(c.pool().replicaSize()).isEqualTo(10);
        assertThat(c.pool().minIdle()).isZero();
        assertThat(c.pool().connectionTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.pool().idleTimeout()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.pool().maxLifetime()).isEqualTo(Duration.ofMinutes(30));
        assertThat(c.routing().balancer()).isEqualTo(BalancerKind.AFFINITY);
        assertThat(c.routing().localZone()).isNull();
        assertThat(c.routing().consistency()).isEqualTo(Consistency.readYourWrites());
        assertThat(c.routing().fallbackToPrimary()).isTrue();
        assertThat(c.health().interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.health().timeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.health().failureThreshold()).isEqualTo(3);
        assertThat(c.health().recoveryThreshold()).isEqualTo(2);
        assertThat(c.lag().maxLagBytes()).isEqualTo(16L * 1024 * 1024);
        assertThat(c.lag().maxLag()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.lag().readmitRatio()).isEqualTo(0.5);
        assertThat(c.routing().readYourWritesWait()).isEqualTo(Duration.ofMillis(100));
        assertThat(c.routing().writeFunctions()).isEmpty();
        assertThat(c.routing().readFunctions()).isEmpty();
        assertThat(c.routing().shadowMode()).isFalse();
        assertThat(c.lag().alertInfo()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.lag().alertWarning()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.lag().alertError()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.lag().alertCritical()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.adminToken()).isNull();
    }

    static Stream<Arguments> atOnceValidations() {
        return Stream.of(
                Arguments.of("name", (Executable) () -> minimal().name(" "), "name must not be blank: ' '"),
                Arguments.of("primary", (Executable) () -> minimal().primary(null), "primary must not be null"),
                Arguments.of("primaryPoolSize", (Executable) () -> minimal().primaryPoolSize(0),
                        "primaryPoolSize must be at least 1: 0"),
                Arguments.of("replicaPoolSize", (Executable) () -> minimal().replicaPoolSize(-3),
                        "replicaPoolSize must be at least 1: -3"),
                Arguments.of("minIdle", (Executable) () -> minimal().minIdle(-1), "minIdle must not be negative: -1"),
                Arguments.of("connectionTimeout", (Executable) () -> minimal().connectionTimeout(Duration.ZERO),
                        "connectionTimeout must be positive: PT0S"),
                Arguments.of("connectionTimeout",
                        (Executable) () -> minimal().connectionTimeout(Duration.ofMillis(100)),
                        "connectionTimeout must be at least PT0.25S: PT0.1S"),
                Arguments.of("idleTimeout", (Executable) () -> minimal().idleTimeout(Duration.ofSeconds(-5)),
                        "idleTimeout must not be negative: PT-5S"),
                Arguments.of("maxLifetime", (Executable) () -> minimal().maxLifetime(null),
                        "maxLifetime must not be null"),
                Arguments.of("balancer", (Executable) () -> minimal().balancer(null), "balancer must not be null"),
                Arguments.of("localZone", (Executable) () -> minimal().localZone(""), "localZone must not be blank: ''"),
                Arguments.of("consistency", (Executable) () -> minimal().consistency(null),
                        "consistency must not be null"),
                Arguments.of("healthCheckInterval",
                        (Executable) () -> minimal().healthCheckInterval(Duration.ofSeconds(-1)),
                        "healthCheckInterval must be positive: PT-1S"),
                Arguments.of("healthCheckTimeout",
                        (Executable) () -> minimal().healthCheckTimeout(Duration.ofMinutes(2)),
                        "healthCheckTimeout must be at most PT1M: PT2M"),
                Arguments.of("failureThreshold", (Executable) () -> minimal().failureThreshold(0),
                        "failureThreshold must be at least 1: 0"),
                Arguments.of("recoveryThreshold", (Executable) () -> minimal().recoveryThreshold(0),
                        "recoveryThreshold must be at least 1: 0"),
                Arguments.of("maxLagBytes", (Executable) () -> minimal().maxLagBytes(0),
                        "maxLagBytes must be positive: 0"),
                Arguments.of("maxLag", (Executable) () -> minimal().maxLag(Duration.ZERO),
                        "maxLag must be positive: PT0S"),
                Arguments.of("lagReadmitRatio", (Executable) () -> minimal().lagReadmitRatio(1.0),
                        "lagReadmitRatio must be strictly between 0 and 1: 1.0"),
                Arguments.of("lagReadmitRatio", (Executable) () -> minimal().lagReadmitRatio(0.0),
                        "lagReadmitRatio must be strictly between 0 and 1: 0.0"),
                Arguments.of("lagReadmitRatio", (Executable) () -> minimal().lagReadmitRatio(Double.NaN),
                        "lagReadmitRatio must be strictly between 0 and 1: NaN"),
                Arguments.of("readYourWritesWait",
                        (Executable) () -> minimal().readYourWritesWait(Duration.ofMillis(-1)),
                        "readYourWritesWait must not be negative: PT-0.001S"),
                Arguments.of("writeFunctions", (Executable) () -> minimal().writeFunctions(List.of("ok", " ")),
                        "writeFunctions must not contain a blank name: ' '"),
                Arguments.of("readFunctions", (Executable) () -> minimal().readFunctions(List.of("f(x)")),
                        "readFunctions must contain function names: 'f(x)'"),
                Arguments.of("lagAlertInfo", (Executable) () -> minimal().lagAlertInfo(Duration.ZERO),
                        "lagAlertInfo must be positive: PT0S"),
                Arguments.of("lagAlertCritical", (Executable) () -> minimal().lagAlertCritical(Duration.ofSeconds(-30)),
                        "lagAlertCritical must be positive: PT-30S"),
                Arguments.of("adminToken", (Executable) () -> minimal().adminToken(""), "adminToken must not be empty"),
                Arguments.of("jdbcProperties", (Executable) () -> minimal().jdbcProperty("password", PASSWORD),
                        "jdbcProperties must not contain 'password'; set password on the node or the data source"));
    }

    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("atOnceValidations")
    void settersValidateAtOnce(String key, Executable call, String message) {
        ConfigException e = assertThrows(ConfigException.class, call);
        assertThat(e.key()).isEqualTo(key);
        assertThat(e).hasMessage(message);
        assertThat(e).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void zeroReadYourWritesWaitIsAllowed() {
        assertThat(minimal().readYourWritesWait(Duration.ZERO).build().routing().readYourWritesWait()).isZero();
    }

    @Test
    void primaryIsRequired() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.builder().build());
        assertThat(e.key()).isEqualTo("primary");
        assertThat(e).hasMessage("primary is required");
    }

    @Test
    void duplicateAddressNamesBothNodes() {
        ConfigException e = assertThrows(ConfigException.class, () -> minimal()
                .addReplica("r1", 5432).addReplica("DB-PRIMARY", 5432).build());
        assertThat(e.key()).isEqualTo("primary");
        assertThat(e).hasMessage("duplicate node DB-PRIMARY:5432: primary and replicas[1]");
    }

    @Test
    void duplicateNameNamesBothNodes() {
        ConfigException e = assertThrows(ConfigException.class, () -> minimal()
                .addReplica(NodeConfig.builder().host("r1").name("replica").build())
                .addReplica(NodeConfig.builder().host("r2").name("replica").build())
                .build());
        assertThat(e.key()).isEqualTo("replicas");
        assertThat(e).hasMessage("duplicate node name 'replica': replicas[0] (r1:5432) and replicas[1] (r2:5432)");
    }

    @Test
    void sameHostOtherPortIsNotADuplicate() {
        ReadsplitConfig c = minimal().addReplica("db-primary", 5433).build();
        assertThat(c.replicas()).extracting(NodeConfig::name).containsExactly("db-primary:5433");
    }

    @Test
    void minIdleMustNotExceedTheSmallerPool() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> minimal().replicaPoolSize(4).minIdle(5).build());
        assertThat(e.key()).isEqualTo("minIdle");
        assertThat(e).hasMessage("minIdle (5) must not exceed replicaPoolSize (4)");
        assertThat(minimal().primaryPoolSize(5).replicaPoolSize(5).minIdle(5).build().pool().minIdle()).isEqualTo(5);
    }

    @Test
    void healthCheckTimeoutIsBoundedByTheInterval() {
        ConfigException e = assertThrows(ConfigException.class, () -> minimal()
                .healthCheckInterval(Duration.ofMillis(100)).healthCheckTimeout(Duration.ofSeconds(2)).build());
        assertThat(e.key()).isEqualTo("healthCheckTimeout");
        assertThat(e).hasMessage("healthCheckTimeout (PT2S) must not exceed 10 x healthCheckInterval (PT1S)");
    }

    @Test
    void idleTimeoutMustBeBelowMaxLifetime() {
        ConfigException e = assertThrows(ConfigException.class, () -> minimal()
                .idleTimeout(Duration.ofMinutes(30)).maxLifetime(Duration.ofMinutes(30)).build());
        assertThat(e).hasMessage("idleTimeout (PT30M) must be less than maxLifetime (PT30M)");
        assertThat(minimal().idleTimeout(Duration.ofHours(1)).maxLifetime(Duration.ZERO).build().pool().maxLifetime())
                .isZero();
    }

    @Test
    void lagAlertThresholdsMustStrictlyIncrease() {
        ConfigException e = assertThrows(ConfigException.class, () -> minimal()
                .lagAlertWarning(Duration.ofSeconds(1)).build());
        assertThat(e.key()).isEqualTo("lagAlertWarning");
        assertThat(e).hasMessage("lagAlertWarning (PT1S) must be greater than lagAlertInfo (PT1S)");
    }

    @Test
    void functionInBothListsIsRejected() {
        ConfigException e = assertThrows(ConfigException.class, () -> minimal()
                .writeFunctions(List.of("Audit_Log")).readFunctions(List.of("audit_log")).build());
        assertThat(e).hasMessage("function 'audit_log' is in both writeFunctions and readFunctions");
    }

    @Test
    void functionsAreLowerCased() {
        ReadsplitConfig c = minimal().writeFunctions(List.of("MyApp.Bump_Counter")).readFunctions(List.of("Pure"))
                .build();
        assertThat(c.routing().writeFunctions()).containsExactly("myapp.bump_counter");
        assertThat(c.routing().readFunctions()).containsExactly("pure");
    }

    @Test
    void noFallbackNeedsAReplica() {
        ConfigException e = assertThrows(ConfigException.class, () -> minimal().fallbackToPrimary(false).build());
        assertThat(e).hasMessage("fallbackToPrimary=false needs at least one replica (every read would fail)");
    }

    @Test
    void reportsEveryCrossFieldProblemAtOnceOnePerLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.builder()
                .addReplica("r1", 5432).addReplica("r1", 5432)
                .primaryPoolSize(2).minIdle(3)
                .lagAlertError(Duration.ofSeconds(40))
                .build());
        assertThat(e.getMessage().lines()).containsExactly(
                "4 configuration problems:",
                "primary is required",
                "duplicate node r1:5432: replicas[0] and replicas[1]",
                "minIdle (3) must not exceed primaryPoolSize (2)",
                "lagAlertCritical (PT30S) must be greater than lagAlertError (PT40S)");
        assertThat(e.problems()).extracting(ConfigException.Problem::key)
                .containsExactly("primary", "replicas", "minIdle", "lagAlertCritical");
        assertThat(e.key()).isEqualTo("primary");
    }

    @Test
    void nodesInheritDataSourceCredentialsAndProperties() {
        ReadsplitConfig c = ReadsplitConfig.builder()
                .primary(NodeConfig.builder().host("p").user("owner").build())
                .addReplica(NodeConfig.builder().host("r").jdbcProperty("sslmode", "disable").build())
                .database("app").user("app_user").password(PASSWORD).jdbcProperty("sslmode", "require")
                .build();
        assertThat(c.primary().user()).isEqualTo("owner");
        assertThat(c.primary().database()).isEqualTo("app");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.primary().jdbcProperties()).containsEntry("sslmode", "require");
        assertThat(c.replicas().get(0).user()).isEqualTo("app_user");
        assertThat(c.replicas().get(0).jdbcProperties()).containsEntry("sslmode", "disable");
    }

    @Test
    void toBuilderRoundTrips() {
        ReadsplitConfig c = minimal().addReplica("r1", 5432).balancer(BalancerKind.WEIGHTED).localZone("eu-1a")
                .consistency(Consistency.boundedStaleness(Duration.ofSeconds(2))).password(PASSWORD)
                .adminToken("tok-123").writeFunctions(List.of("f")).build();
        assertThat(c.toBuilder().build()).isEqualTo(c).hasSameHashCodeAs(c);
        assertThat(c.toBuilder().shadowMode(true).build()).isNotEqualTo(c);
    }

    @Test
    void toStringMasksEverySecret() {
        ReadsplitConfig c = ReadsplitConfig.builder()
                .primary(NodeConfig.builder().host("p").password(PASSWORD).jdbcProperty("sslpassword", PASSWORD)
                        .build())
                .addReplica("r", 5432).password(PASSWORD).adminToken(PASSWORD).build();
        assertThat(c.toString()).doesNotContain(PASSWORD).contains("password=****").contains("adminToken=****")
                .contains("sslpassword=****");
        assertThat(c.primary().toString()).doesNotContain(PASSWORD);
        assertThat(c.primary().password().toString()).isEqualTo("****");
    }
}

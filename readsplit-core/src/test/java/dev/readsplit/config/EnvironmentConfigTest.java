package dev.readsplit.config;

import dev.readsplit.balance.BalancerKind;
import dev.readsplit.Consistency;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EnvironmentConfigTest {

    static final String PASSWORD = "Sup3r-S3cret!";
    static final String PASSWORD_ENCODED = "Sup3r-S3cret%21";

    static Map<String, String> env(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    static ReadsplitConfig read(String... kv) {
        return ReadsplitConfig.fromEnvironment(env(kv));
    }

    static ConfigException fail(String... kv) {
        ConfigException e = assertThrows(ConfigException.class, () -> read(kv));
        assertNoPassword(e);
        return e;
    }

    static void assertNoPassword(ConfigException e) {
        assertThat(e.getMessage()).doesNotContain(PASSWORD).doesNotContain(PASSWORD_ENCODED)
                .doesNotContain("S3cret");
        assertThat(e.toString()).doesNotContain("S3cret");
        for (ConfigException.Problem p : e.problems()) {
            assertThat(p.toString()).doesNotContain("S3cret");
            assertThat(p.key()).doesNotContain("S3cret");
        }
    }

    static List<String> keys(ConfigException e) {
        return e.problems().stream().map(ConfigException.Problem::key).toList();
    }

    // ---- seed 003 (Node.js) ----------------------------------------------------------------------------------

    @Test
    void readsEverySeed003Variable() {
        ReadsplitConfig c = read(
                "DB_HOST", "pg-a",
                "DB_PORT", "6543",
                "DB_NAME", "app",
                "DB_USER", "svc",
                "DB_PASSWORD", PASSWORD,
                "DB_REPLICAS", "[{\"host\":\"r1\"},"
                        + "{\"host\":\"r2\",\"port\":5433,\"database\":\"other\",\"user\":\"ro\",\"password\":\"rp\"}]",
                "REPLICA_HEALTH_CHECK_INTERVAL", "2500",
                "DB_POOL_MAX", "20",
                "DB_POOL_MIN", "2",
                "DB_POOL_CONNECT_TIMEOUT", "3000",
                "DB_POOL_IDLE", "60000");
        assertThat(c.primary().host()).isEqualTo("pg-a");
        assertThat(c.primary().port()).isEqualTo(6543);
        assertThat(c.primary().database()).isEqualTo("app");
        assertThat(c.primary().user()).isEqualTo("svc");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.replicas()).hasSize(2);
        NodeConfig r1 = c.replicas().get(0);
        assertThat(r1.host()).isEqualTo("r1");
        assertThat(r1.port()).as("port inherited from the primary").isEqualTo(6543);
        assertThat(r1.database()).isEqualTo("app");
        assertThat(r1.user()).isEqualTo("svc");
        assertThat(r1.password().reveal()).isEqualTo(PASSWORD);
        NodeConfig r2 = c.replicas().get(1);
        assertThat(r2.port()).isEqualTo(5433);
        assertThat(r2.database()).isEqualTo("other");
        assertThat(r2.user()).isEqualTo("ro");
        assertThat(r2.password().reveal()).isEqualTo("rp");
        assertThat(c.health().interval()).isEqualTo(Duration.ofMillis(2500));
        assertThat(c.pool().primarySize()).isEqualTo(20);
        assertThat(c.pool().replicaSize()).isEqualTo(20);
        assertThat(c.pool().minIdle()).isEqualTo(2);
        assertThat(c.pool().connectionTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.pool().idleTimeout()).isEqualTo(Duration.ofMinutes(1));
        assertThat(c.toString()).doesNotContain(PASSWORD).doesNotContain("rp,");
    }

    @Test
    void dbPortDefaultsTo5432AndEmptyVariablesCountAsUnset() {
        ReadsplitConfig c = read("DB_HOST", "pg-a", "DB_PORT", "", "DB_REPLICAS", "", "DB_POOL_MAX", "");
        assertThat(c.primary().port()).isEqualTo(5432);
        assertThat(c.replicas()).isEmpty();
        assertThat(c.pool().primarySize()).isEqualTo(10);
    }

    @Test
    void dbReplicasAcceptsExtraReadsplitFieldsAndStringPorts() {
        ReadsplitConfig c = read("DB_HOST", "pg-a", "DB_REPLICAS",
                "[{\"host\":\"r1\",\"port\":\"5440\",\"zone\":\"eu-1b\",\"weight\":3,\"name\":\"replica-one\","
                        + "\"user\":null}]");
        NodeConfig r = c.replicas().get(0);
        assertThat(r.port()).isEqualTo(5440);
        assertThat(r.zone()).isEqualTo("eu-1b");
        assertThat(r.weight()).isEqualTo(3);
        assertThat(r.name()).isEqualTo("replica-one");
    }

    @Test
    void dbIdleZeroMeansNever() {
        assertThat(read("DB_HOST", "h", "DB_POOL_IDLE", "0").pool().idleTimeout()).isZero();
    }

    // ---- seed 002 (Python) -----------------------------------------------------------------------------------

    @Test
    void readsEverySeed002Variable() {
        ReadsplitConfig c = read(
                "DATABASE_URL", "postgresql://app:" + PASSWORD_ENCODED + "@pg-a:5433/shop?sslmode=require",
                "DATABASE_READ_URLS", "postgres://ro:rp@r1/shop, jdbc:postgresql://r2:5434/reports?user=ro2&password=x",
                "DATABASE_POOL_SIZE", "15",
                "DATABASE_READ_POOL_SIZE", "30",
                "DATABASE_REPLICA_FALLBACK", "false");
        assertThat(c.primary().address()).isEqualTo("pg-a:5433");
        assertThat(c.primary().database()).isEqualTo("shop");
        assertThat(c.primary().user()).isEqualTo("app");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.primary().jdbcProperties()).containsEntry("sslmode", "require");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("r1:5432", "r2:5434");
        assertThat(c.replicas().get(0).user()).isEqualTo("ro");
        assertThat(c.replicas().get(0).password().reveal()).isEqualTo("rp");
        assertThat(c.replicas().get(1).database()).isEqualTo("reports");
        assertThat(c.replicas().get(1).user()).isEqualTo("ro2");
        assertThat(c.replicas().get(1).password().reveal()).isEqualTo("x");
        assertThat(c.pool().primarySize()).isEqualTo(15);
        assertThat(c.pool().replicaSize()).isEqualTo(30);
        assertThat(c.routing().fallbackToPrimary()).isFalse();
    }

    @Test
    void databaseReadUrlGivesOneReplica() {
        ReadsplitConfig c = read("DATABASE_URL", "postgres://u@pg-a/db", "DATABASE_READ_URL", "postgres://u@r1:6000/db");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("r1:6000");
    }

    @Test
    void databaseReadUrlsWinsOverDatabaseReadUrl() {
        ReadsplitConfig c = read("DATABASE_URL", "postgres://u@pg-a/db",
                "DATABASE_READ_URL", "not a url",
                "DATABASE_READ_URLS", "postgres://r1/db,postgres://r2/db");
        assertThat(c.replicas()).extracting(NodeConfig::host).containsExactly("r1", "r2");
    }

    @ParameterizedTest
    @CsvSource({"true,true", "false,false", "1,true", "0,false", "yes,true", "no,false", "YES,true"})
    void replicaFallbackBooleans(String text, boolean expected) {
        ReadsplitConfig c = read("DATABASE_URL", "postgres://pg-a/db", "DATABASE_READ_URL", "postgres://r1/db",
                "DATABASE_REPLICA_FALLBACK", text);
        assertThat(c.routing().fallbackToPrimary()).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "postgres://app:" + PASSWORD_ENCODED + "@pg-a:5433/shop",
        "postgresql://app:" + PASSWORD_ENCODED + "@pg-a:5433/shop",
        "POSTGRESQL://app:" + PASSWORD_ENCODED + "@pg-a:5433/shop",
        "jdbc:postgresql://pg-a:5433/shop?user=app&password=" + PASSWORD_ENCODED,
        "postgresql://pg-a:5433/shop?user=app&password=" + PASSWORD_ENCODED,
    })
    void databaseUrlForms(String url) {
        ReadsplitConfig c = read("DATABASE_URL", url);
        assertThat(c.primary().address()).isEqualTo("pg-a:5433");
        assertThat(c.primary().database()).isEqualTo("shop");
        assertThat(c.primary().user()).isEqualTo("app");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
    }

    @Test
    void databaseUrlMayBeAReadsplitUrl() {
        ReadsplitConfig c = read("DATABASE_URL",
                "jdbc:readsplit:postgresql://pg-a:5432,r1:5433,r2/shop?consistency=strong&user=app&password="
                        + PASSWORD_ENCODED + "&sslmode=require");
        assertThat(c.primary().address()).isEqualTo("pg-a:5432");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("r1:5433", "r2:5432");
        assertThat(c.primary().database()).isEqualTo("shop");
        assertThat(c.primary().user()).isEqualTo("app");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.routing().consistency()).isEqualTo(Consistency.strong());
        assertThat(c.primary().jdbcProperties()).containsEntry("sslmode", "require");
    }

    @Test
    void percentEncodedCredentialsAreDecodedAndPlusStaysPlus() {
        ReadsplitConfig c = read("DATABASE_URL", "postgresql://us%65r:p%40ss%2Fw%3Ard+1%20%C3%A9@pg-a/my%20db");
        assertThat(c.primary().user()).isEqualTo("user");
        assertThat(c.primary().password().reveal()).isEqualTo("p@ss/w:rd+1 \u00e9");
        assertThat(c.primary().database()).isEqualTo("my db");
    }

    @Test
    void ipv6HostInDatabaseUrl() {
        ReadsplitConfig c = read("DATABASE_URL", "postgresql://u@[::1]:5433/db");
        assertThat(c.primary().host()).isEqualTo("::1");
        assertThat(c.primary().port()).isEqualTo(5433);
    }

    // ---- READSPLIT_* -----------------------------------------------------------------------------------------

    @Test
    void readsplitVariablesMapOntoTheKeyTable() {
        ReadsplitConfig c = read(
                "READSPLIT_PRIMARY", "pg-a:5432;zone=eu-1a",
                "READSPLIT_REPLICAS", "pg-b:5432;zone=eu-1b, pg-c",
                "READSPLIT_DATABASE", "shop",
                "READSPLIT_USER", "app",
                "READSPLIT_PASSWORD", PASSWORD,
                "READSPLIT_CONSISTENCY", "strong",
                "READSPLIT_HEALTH_CHECK_INTERVAL", "2s",
                "READSPLIT_MAX_LAG", "5s",
                "READSPLIT_MAX_LAG_BYTES", "1MB",
                "READSPLIT_LOCAL_ZONE", "eu-1a",
                "READSPLIT_BALANCER", "least-outstanding",
                "READSPLIT_WRITE_FUNCTIONS", "nextval_custom",
                "READSPLIT_JDBC_SSLMODE", "require",
                "READSPLIT_JDBC_APPLICATION_NAME", "orders");
        assertThat(c.primary().zone()).isEqualTo("eu-1a");
        assertThat(c.replicas()).extracting(NodeConfig::host).containsExactly("pg-b", "pg-c");
        assertThat(c.primary().database()).isEqualTo("shop");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.routing().consistency()).isEqualTo(Consistency.strong());
        assertThat(c.health().interval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.lag().maxLag()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.lag().maxLagBytes()).isEqualTo(1024 * 1024);
        assertThat(c.routing().localZone()).isEqualTo("eu-1a");
        assertThat(c.routing().balancer()).isEqualTo(BalancerKind.LEAST_OUTSTANDING);
        assertThat(c.routing().writeFunctions()).containsExactly("nextval_custom");
        assertThat(c.primary().jdbcProperties()).containsEntry("sslmode", "require")
                .containsEntry("ApplicationName", "orders");
    }

    @Test
    void everyReadsplitKeyHasAnEnvironmentName() {
        for (String key : ConfigKeys.knownKeys()) {
            String var = EnvironmentConfig.PREFIX + EnvironmentConfig.upperSnake(key);
            assertThat(var).matches("READSPLIT_[A-Z_]+");
            try {
                read("DB_HOST", "h", var, "%%bad%%");
            } catch (ConfigException e) {
                assertThat(e.getMessage()).as(var).doesNotContain("unknown variable");
            }
        }
        assertThat(EnvironmentConfig.upperSnake("healthCheckInterval")).isEqualTo("HEALTH_CHECK_INTERVAL");
        assertThat(EnvironmentConfig.upperSnake("maxLagBytes")).isEqualTo("MAX_LAG_BYTES");
    }

    @Test
    void unknownReadsplitVariableSuggestsTheClosestName() {
        ConfigException e = fail("DB_HOST", "h", "READSPLIT_HEALTH_CHECK_INTERVL", "1s");
        assertThat(e.key()).isEqualTo("READSPLIT_HEALTH_CHECK_INTERVL");
        assertThat(e.getMessage()).isEqualTo("unknown variable READSPLIT_HEALTH_CHECK_INTERVL \u2014 did you mean "
                + "READSPLIT_HEALTH_CHECK_INTERVAL?");
    }

    @Test
    void unknownReadsplitVariableWithoutCloseName() {
        ConfigException e = fail("DB_HOST", "h", "READSPLIT_XYZZY_PLUGH", "1");
        assertThat(e.getMessage()).startsWith("unknown variable READSPLIT_XYZZY_PLUGH").doesNotContain("did you mean");
    }

    @Test
    void unknownJdbcPropertyVariable() {
        ConfigException e = fail("DB_HOST", "h", "READSPLIT_JDBC_NO_SUCH_THING", "1");
        assertThat(e.getMessage()).contains("READSPLIT_JDBC_NO_SUCH_THING").contains("not a pgjdbc property");
    }

    // ---- precedence ------------------------------------------------------------------------------------------

    @Test
    void databaseUrlWinsOverDbHostWithoutError() {
        ReadsplitConfig c = read(
                "DATABASE_URL", "postgresql://app:pw@pg-url:5433/shop",
                "DB_HOST", "pg-host", "DB_PORT", "not-a-port", "DB_NAME", "other", "DB_USER", "other",
                "DB_PASSWORD", PASSWORD);
        assertThat(c.primary().address()).isEqualTo("pg-url:5433");
        assertThat(c.primary().database()).isEqualTo("shop");
        assertThat(c.primary().user()).isEqualTo("app");
        assertThat(c.primary().password().reveal()).isEqualTo("pw");
    }

    @Test
    void readsplitVariablesOverrideOnlyTheirPartOfDatabaseUrl() {
        ReadsplitConfig c = read(
                "DATABASE_URL", "postgresql://app:pw@pg-url:5433/shop",
                "READSPLIT_PRIMARY", "pg-rs:6000",
                "READSPLIT_PASSWORD", "other-pw");
        assertThat(c.primary().address()).isEqualTo("pg-rs:6000");
        assertThat(c.primary().user()).isEqualTo("app");
        assertThat(c.primary().database()).isEqualTo("shop");
        assertThat(c.primary().password().reveal()).isEqualTo("other-pw");
    }

    @Test
    void readsplitPrimaryWinsOverDbHost() {
        ReadsplitConfig c = read("READSPLIT_PRIMARY", "pg-rs", "DB_HOST", "bad host/", "DB_NAME", "app");
        assertThat(c.primary().host()).isEqualTo("pg-rs");
        assertThat(c.primary().database()).as("DB_NAME still fills the database").isEqualTo("app");
    }

    @Test
    void poolSizePrecedence() {
        assertThat(read("DB_HOST", "h", "DB_POOL_MAX", "5", "DATABASE_POOL_SIZE", "7"))
                .extracting(c -> c.pool().primarySize(), c -> c.pool().replicaSize())
                .containsExactly(7, 5);
        assertThat(read("DB_HOST", "h", "DB_POOL_MAX", "5", "DATABASE_READ_POOL_SIZE", "8",
                "READSPLIT_POOL_SIZE", "9"))
                .extracting(c -> c.pool().primarySize(), c -> c.pool().replicaSize())
                .containsExactly(9, 9);
        assertThat(read("DB_HOST", "h", "READSPLIT_POOL_SIZE", "9", "READSPLIT_PRIMARY_POOL_SIZE", "3"))
                .extracting(c -> c.pool().primarySize(), c -> c.pool().replicaSize())
                .containsExactly(3, 9);
    }

    @Test
    void overriddenVariablesAreNotValidated() {
        ReadsplitConfig c = read("DB_HOST", "h",
                "REPLICA_HEALTH_CHECK_INTERVAL", "soon", "READSPLIT_HEALTH_CHECK_INTERVAL", "3s",
                "DB_POOL_MAX", "many", "DATABASE_POOL_SIZE", "4", "DATABASE_READ_POOL_SIZE", "6",
                "DB_REPLICAS", "[{oops", "DATABASE_READ_URLS", "postgres://r1/db",
                "DATABASE_REPLICA_FALLBACK", "perhaps", "READSPLIT_FALLBACK_TO_PRIMARY", "false");
        assertThat(c.health().interval()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.pool().primarySize()).isEqualTo(4);
        assertThat(c.pool().replicaSize()).isEqualTo(6);
        assertThat(c.replicas()).extracting(NodeConfig::host).containsExactly("r1");
        assertThat(c.routing().fallbackToPrimary()).isFalse();
    }

    @Test
    void dbReplicasInheritFromDatabaseUrlPrimary() {
        ReadsplitConfig c = read("DATABASE_URL", "postgresql://app:pw@pg-a:6432/shop",
                "DB_REPLICAS", "[{\"host\":\"r1\"}]");
        NodeConfig r = c.replicas().get(0);
        assertThat(r.address()).isEqualTo("r1:6432");
        assertThat(r.user()).isEqualTo("app");
        assertThat(r.database()).isEqualTo("shop");
        assertThat(r.password().reveal()).isEqualTo("pw");
    }

    @Test
    void readsplitReplicasWinOverEverySeed() {
        ReadsplitConfig c = read("DB_HOST", "h", "READSPLIT_REPLICAS", "rs1",
                "DATABASE_READ_URL", "postgres://r2/db", "DB_REPLICAS", "[{\"host\":\"r3\"}]");
        assertThat(c.replicas()).extracting(NodeConfig::host).containsExactly("rs1");
    }

    // ---- errors ----------------------------------------------------------------------------------------------

    @Test
    void noPrimaryNamesTheVariablesThatCanProvideIt() {
        ConfigException e = fail("DB_PORT", "5432", "DB_PASSWORD", PASSWORD);
        assertThat(e.problems()).hasSize(1);
        assertThat(e.getMessage()).contains("no primary configured").contains("DATABASE_URL").contains("DB_HOST")
                .contains("READSPLIT_PRIMARY");
    }

    @Test
    void emptyEnvironmentHasNoPrimary() {
        assertThat(fail().getMessage()).startsWith("no primary configured");
    }

    @Test
    void malformedDbReplicasMessageIsExact() {
        ConfigException e = fail("DB_HOST", "h", "DB_REPLICAS", "[{\"host\":\"db-r1\" \"port\":5432}]");
        assertThat(e.key()).isEqualTo("DB_REPLICAS");
        assertThat(e.getMessage()).isEqualTo("DB_REPLICAS: malformed JSON at position 17: expected ',' or '}'");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`[{\"host\":\"r1\"},]`  | DB_REPLICAS: malformed JSON at position 15: expected a value",
        "`[{\"host\":\"r1\"}`    | DB_REPLICAS: malformed JSON at position 14: expected ',' or ']'",
        "`[{host:\"r1\"}]`       | DB_REPLICAS: malformed JSON at position 2: expected a string key",
        "`r1,r2`                 | DB_REPLICAS: malformed JSON at position 0: expected a value",
    })
    void malformedDbReplicasAtSeveralPositions(String json, String message) {
        assertThat(fail("DB_HOST", "h", "DB_REPLICAS", json).getMessage()).isEqualTo(message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`{\"host\":\"r1\"}` | DB_REPLICAS must be a JSON array of {\"host\", \"port\", \"database\", \"user\", \"password\"} objects: got an object",
        "`[\"r1\"]`                         | DB_REPLICAS[0] must be an object with at least \"host\": got \"r1\"",
        "`[{\"port\":5432}]`                | DB_REPLICAS[0].host is required",
        "`[{\"host\":42}]`                  | DB_REPLICAS[0].host must be a string: got 42",
        "`[{\"host\":\"r1\",\"port\":\"abc\"}]` | DB_REPLICAS[0].port must be an integer in 1..65535: got \"abc\"",
        "`[{\"host\":\"r1\",\"port\":true}]`  | DB_REPLICAS[0].port must be an integer in 1..65535: got true",
        "`[{\"host\":\"r1\",\"port\":70000}]` | DB_REPLICAS[0].port must be an integer in 1..65535: got 70000",
        "`[{\"host\":\"r1\",\"port\":54.5}]`  | DB_REPLICAS[0].port must be an integer in 1..65535: got 54.5",
        "`[{\"host\":\"r1\",\"user\":[]}]`    | DB_REPLICAS[0].user must be a string: got an array",
        "`[{\"host\":\"r1\",\"hots\":\"x\"}]` | DB_REPLICAS[0] has an unknown field \"hots\" (expected host, port, database, user, password, zone (or region), weight, name, maxLag (or max_lag_seconds), minPoolSize (or min_pool_size), maxPoolSize (or max_pool_size))",
        "`[{\"host\":\"r1\",\"password\":12345678}]` | DB_REPLICAS[0].password must be a string: got a number",
        "`[{\"host\":\"bad host\"}]`        | DB_REPLICAS[0]: host must not contain ' ': 'bad host'",
    })
    void dbReplicasWrongTypes(String json, String message) {
        ConfigException e = fail("DB_HOST", "h", "DB_REPLICAS", json);
        assertThat(e.key()).isEqualTo("DB_REPLICAS");
        assertThat(e.getMessage()).isEqualTo(message);
    }

    @Test
    void dbReplicasReportsEveryBadEntry() {
        ConfigException e = fail("DB_HOST", "h", "DB_REPLICAS",
                "[{\"host\":\"r1\",\"port\":0}, {\"host\":\"r2\"}, {\"port\":1,\"password\":\"" + PASSWORD + "\"}]");
        assertThat(e.problems()).extracting(ConfigException.Problem::message).containsExactly(
                "DB_REPLICAS[0].port must be an integer in 1..65535: got 0",
                "DB_REPLICAS[2].host is required");
    }

    @Test
    void duplicateReplicaOfPrimaryIsReportedUnderTheVariables() {
        ConfigException e = fail("DB_HOST", "h", "DB_REPLICAS", "[{\"host\":\"h\"}]");
        assertThat(e.key()).as("the builder reports a duplicate under the earlier node").isEqualTo("DB_HOST");
        assertThat(e.getMessage()).isEqualTo("DB_HOST: duplicate node h:5432: primary and replicas[0]");
    }

    @Test
    void invalidNumbersNameTheVariableAndValue() {
        ConfigException e = fail("DB_HOST", "h", "DB_PORT", "54x2");
        assertThat(e.getMessage()).isEqualTo("DB_PORT must be a port number in 1..65535: '54x2'");
        assertThat(fail("DB_HOST", "h", "DB_POOL_MAX", "ten").getMessage())
                .isEqualTo("DB_POOL_MAX must be an integer: 'ten'");
        assertThat(fail("DB_HOST", "h", "DB_POOL_MAX", "0").problems()).extracting(ConfigException.Problem::message)
                .containsExactly("DB_POOL_MAX: primaryPoolSize must be at least 1: 0",
                        "DB_POOL_MAX: replicaPoolSize must be at least 1: 0");
        assertThat(fail("DB_HOST", "h", "REPLICA_HEALTH_CHECK_INTERVAL", "1s").getMessage())
                .isEqualTo("REPLICA_HEALTH_CHECK_INTERVAL must be a whole number of milliseconds: '1s'");
        assertThat(fail("DB_HOST", "h", "DATABASE_REPLICA_FALLBACK", "maybe").getMessage())
                .isEqualTo("DATABASE_REPLICA_FALLBACK must be true or false: 'maybe'");
        assertThat(fail("DB_HOST", "h", "READSPLIT_MAX_LAG", "soon").getMessage())
                .isEqualTo("READSPLIT_MAX_LAG must be a duration (e.g. 500ms, 2s, 1m, PT2S): 'soon'");
    }

    @Test
    void crossFieldProblemsNameTheVariable() {
        ConfigException e = fail("DB_HOST", "h", "DB_POOL_MAX", "4", "DB_POOL_MIN", "9");
        assertThat(e.key()).isEqualTo("DB_POOL_MIN");
        assertThat(e.getMessage()).isEqualTo("DB_POOL_MIN: minIdle (9) must not exceed primaryPoolSize (4)");
        ConfigException f = fail("DB_HOST", "h", "DATABASE_REPLICA_FALLBACK", "0");
        assertThat(f.key()).isEqualTo("DATABASE_REPLICA_FALLBACK");
    }

    @Test
    void severalErrorsAreReportedAtOnce() {
        ConfigException e = fail(
                "DB_HOST", "h",
                "DB_PASSWORD", PASSWORD,
                "DB_POOL_MAX", "ten",
                "DB_POOL_IDLE", "soon",
                "DB_REPLICAS", "[{\"host\":\"r1\",\"password\":\"" + PASSWORD + "\",}]",
                "DATABASE_REPLICA_FALLBACK", "maybe",
                "READSPLIT_CONSISTENCY", "sometimes",
                "READSPLIT_MAX_LGA", "1s");
        assertThat(keys(e)).containsExactlyInAnyOrder("DB_POOL_MAX", "DB_POOL_IDLE", "DB_REPLICAS",
                "DATABASE_REPLICA_FALLBACK", "READSPLIT_CONSISTENCY", "READSPLIT_MAX_LGA");
        assertThat(e.getMessage()).startsWith("6 configuration problems:");
    }

    static Stream<Map<String, String>> secretLeaks() {
        return Stream.of(
                env("DATABASE_URL", "mysql://app:" + PASSWORD + "@h/db"),
                env("DATABASE_URL", "postgresql://app:" + PASSWORD + "@h:99999/db"),
                env("DATABASE_URL", "postgresql://app:" + PASSWORD_ENCODED + "@h:port/db"),
                env("DATABASE_URL", "postgresql://app:" + PASSWORD + "%ZZ@h/db"),
                env("DATABASE_URL", "postgresql://app:" + PASSWORD + "/x@h/db"),
                env("DATABASE_URL", "postgresql://app:" + PASSWORD + "@h1,h2/db"),
                env("DATABASE_URL", "postgresql://h/db?user=app&password=" + PASSWORD + "&x=%"),
                env("DATABASE_URL", "jdbc:postgresql://h:0/db?password=" + PASSWORD),
                env("DATABASE_URL", "jdbc:readsplit:postgresql://app:" + PASSWORD + "@h/db"),
                env("DATABASE_URL", "jdbc:readsplit:postgresql://h/db?password=" + PASSWORD + "&consistncy=x"),
                env("DATABASE_URL", "postgres://u:p@h/db", "DATABASE_READ_URLS",
                        "postgres://ro:" + PASSWORD + "@r1:0/db,ftp://ro:" + PASSWORD + "@r2/db"),
                env("DB_HOST", "h", "DB_PASSWORD", PASSWORD, "DB_PORT", "x"),
                env("DB_HOST", "bad/host", "DB_PASSWORD", PASSWORD),
                env("DB_HOST", "h", "DB_REPLICAS", "[{\"host\":\"r1\",\"password\":" + 1 + "}]",
                        "DB_PASSWORD", PASSWORD),
                env("DB_HOST", "h", "DB_REPLICAS", "[{\"host\":\"r1\",\"password\":\"" + PASSWORD + "\",\"port\":-1}]"),
                env("DB_HOST", "h", "DB_REPLICAS", "[{\"host\":\"" + PASSWORD + " x\"}]", "DB_PASSWORD", PASSWORD),
                env("READSPLIT_PASSWORD", PASSWORD, "READSPLIT_PRIMARY", "h", "READSPLIT_ADMIN_TOKEN", ""),
                env("READSPLIT_ADMIN_TOKEN", PASSWORD, "READSPLIT_PRIMARY", ":", "DB_PASSWORD", PASSWORD),
                env("DB_PASSWORD", PASSWORD, "DATABASE_READ_URL", "postgres://u:" + PASSWORD + "@r1/db"));
    }

    @ParameterizedTest
    @MethodSource("secretLeaks")
    void passwordNeverAppearsInErrors(Map<String, String> env) {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromEnvironment(env));
        assertNoPassword(e);
    }

    @Test
    void badDatabaseUrlShowsTheMaskedUrl() {
        ConfigException e = fail("DATABASE_URL", "mysql://app:" + PASSWORD + "@h/db");
        assertThat(e.key()).isEqualTo("DATABASE_URL");
        assertThat(e.getMessage()).contains("'mysql://app:****@h/db'").contains("postgresql://");
        ConfigException p = fail("DATABASE_URL", "postgresql://app:" + PASSWORD + "@h:99999/db");
        assertThat(p.getMessage()).contains("postgresql://app:****@h:99999/db").contains("65535");
    }

    @Test
    void unencodedSlashInPasswordIsReportedWithoutParsingThePassword() {
        ConfigException e = fail("DATABASE_URL", "postgresql://app:" + PASSWORD + "/x@h/db");
        assertThat(e.getMessage()).isEqualTo("DATABASE_URL: the user name or password contains an unencoded '/', "
                + "'?' or '#'; percent-encode them (%2F, %3F, %23) (in postgresql://app:****@h/db)");
    }

    @Test
    void atSignInQueryIsNotMistakenForUserInfo() {
        ReadsplitConfig c = read("DATABASE_URL", "postgresql://h:5433/db?ApplicationName=a@b");
        assertThat(c.primary().jdbcProperties()).containsEntry("ApplicationName", "a@b");
    }

    @Test
    void databaseUrlWithSeveralHostsPointsToReadUrls() {
        ConfigException e = fail("DATABASE_URL", "postgresql://h1,h2/db");
        assertThat(e.getMessage()).contains("must name one host").contains("DATABASE_READ_URLS");
    }

    @Test
    void unknownParameterOfReadsplitDatabaseUrlGetsSuggestion() {
        ConfigException e = fail("DATABASE_URL", "jdbc:readsplit:postgresql://h/db?consistncy=strong");
        assertThat(e.key()).isEqualTo("DATABASE_URL");
        assertThat(e.getMessage()).contains("consistncy").contains("did you mean consistency?");
    }

    @Test
    void maskUrl() {
        assertThat(PostgresUrl.maskUrl("postgresql://user:pa/ss@host/db"))
                .isEqualTo("postgresql://user:****@host/db");
        assertThat(PostgresUrl.maskUrl("postgresql://host/db?user=u&password=pw"))
                .isEqualTo("postgresql://host/db?user=u&password=****");
        assertThat(PostgresUrl.maskUrl("postgresql://user@host/db")).isEqualTo("postgresql://user@host/db");
    }

    @Test
    void fromEnvironmentRejectsNull() {
        assertThrows(NullPointerException.class, () -> ReadsplitConfig.fromEnvironment(null));
    }
}

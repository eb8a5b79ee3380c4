package dev.readsplit.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Issue 9's bad-config matrix, for the sources the per-source tests did not already cover: each kind of
 * invalid config (missing primary, bad port, duplicate nodes, negative intervals, malformed
 * {@code DB_REPLICAS}, unknown keys as likely typos) fails fast with a message naming the key and the value.
 */
class BadConfigTest {

    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    private static Executable env(String... kv) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return () -> ReadsplitConfig.fromEnvironment(m);
    }

    private static Executable url(String url) {
        return () -> ReadsplitUrl.parse(url, new Properties());
    }

    static Stream<Arguments> badConfig() {
        return Stream.of(
                // missing primary
                Arguments.of("properties: no primary", (Executable) () -> ReadsplitConfig.fromProperties(props("readsplit.replicas", "r")),
                        "readsplit.primary is required"),
                Arguments.of("url: no host", url("jdbc:readsplit:postgresql:///db"),
                        "invalid Readsplit URL jdbc:readsplit:postgresql:///db: no host given"),
                // bad port
                Arguments.of("url: port out of range", url("jdbc:readsplit:postgresql://h:99999/db"),
                        "invalid Readsplit URL jdbc:readsplit:postgresql://h:99999/db: host: port must be in 1..65535: 99999 (in 'h:99999')"),
                Arguments.of("url: port not a number", url("jdbc:readsplit:postgresql://h:abc/db"),
                        "invalid Readsplit URL jdbc:readsplit:postgresql://h:abc/db: host: port must be an integer: 'abc' (in 'h:abc')"),
                Arguments.of("env: DB_PORT 0", env("DB_HOST", "h", "DB_PORT", "0"),
                        "DB_PORT must be a port number in 1..65535: '0'"),
                Arguments.of("env: DATABASE_URL port, password masked", env("DATABASE_URL", "postgres://u:S3cret-Pw@h:99999/db"),
                        "DATABASE_URL: port must be in 1..65535: 99999 (in 'h:99999') (in postgres://u:****@h:99999/db)"),
                Arguments.of("properties: primary port 0", (Executable) () -> ReadsplitConfig.fromProperties(props("readsplit.primary", "h:0")),
                        "readsplit.primary: port must be in 1..65535: 0 (in 'h:0')"),
                // duplicate nodes
                Arguments.of("url: primary listed twice", url("jdbc:readsplit:postgresql://h:5432,h:5432/db"),
                        "duplicate node h:5432: primary and replicas[0] (in jdbc:readsplit:postgresql://h:5432,h:5432/db)"),
                Arguments.of("env: DB_REPLICAS duplicate", env("DB_HOST", "h", "DB_REPLICAS", "[{\"host\":\"r\"},{\"host\":\"r\",\"port\":5432}]"),
                        "DB_REPLICAS: duplicate node r:5432: replicas[0] and replicas[1]"),
                Arguments.of("properties: replicas duplicate",
                        (Executable) () -> ReadsplitConfig.fromProperties(props("readsplit.primary", "h", "readsplit.replicas", "r:5432, r:5432")),
                        "duplicate node r:5432: replicas[0] and replicas[1]"),
                // negative intervals
                Arguments.of("url: negative healthCheckInterval", url("jdbc:readsplit:postgresql://h/db?healthCheckInterval=-1s"),
                        "healthCheckInterval must be positive: PT-1S (in jdbc:readsplit:postgresql://h/db?healthCheckInterval=-1s)"),
                Arguments.of("env: negative REPLICA_HEALTH_CHECK_INTERVAL", env("DB_HOST", "h", "REPLICA_HEALTH_CHECK_INTERVAL", "-500"),
                        "REPLICA_HEALTH_CHECK_INTERVAL must be a whole number of milliseconds: '-500'"),
                Arguments.of("env: zero REPLICA_HEALTH_CHECK_INTERVAL", env("DB_HOST", "h", "REPLICA_HEALTH_CHECK_INTERVAL", "0"),
                        "REPLICA_HEALTH_CHECK_INTERVAL: healthCheckInterval must be positive: PT0S"),
                Arguments.of("env: negative DB_POOL_CONNECT_TIMEOUT", env("DB_HOST", "h", "DB_POOL_CONNECT_TIMEOUT", "-1"),
                        "DB_POOL_CONNECT_TIMEOUT must be a whole number of milliseconds: '-1'"),
                Arguments.of("env: negative DB_POOL_IDLE", env("DB_HOST", "h", "DB_POOL_IDLE", "-1"),
                        "DB_POOL_IDLE must be a whole number of milliseconds: '-1'"),
                Arguments.of("builder: negative healthCheckTimeout",
                        (Executable) () -> ReadsplitConfig.builder().primary("h", 5432).healthCheckTimeout(Duration.ofMillis(-1)).build(),
                        "healthCheckTimeout must be positive: PT-0.001S"),
                Arguments.of("builder: negative readYourWritesWait",
                        (Executable) () -> ReadsplitConfig.builder().primary("h", 5432).readYourWritesWait(Duration.ofMillis(-1)).build(),
                        "readYourWritesWait must not be negative: PT-0.001S"),
                // malformed DB_REPLICAS
                Arguments.of("env: DB_REPLICAS an object", env("DB_HOST", "h", "DB_REPLICAS", "{\"host\":\"r\"}"),
                        "DB_REPLICAS must be a JSON array of {\"host\", \"port\", \"database\", \"user\", \"password\"} objects: got an object"),
                Arguments.of("env: DB_REPLICAS truncated", env("DB_HOST", "h", "DB_REPLICAS", "[{\"host\":\"r\""),
                        "DB_REPLICAS: malformed JSON at position 12: expected ',' or '}'"),
                // unknown keys as likely typos
                Arguments.of("url: typo", url("jdbc:readsplit:postgresql://h/db?consistncy=strong"),
                        "unknown key consistncy \u2014 did you mean consistency? (in jdbc:readsplit:postgresql://h/db?consistncy=strong)"),
                Arguments.of("env: typo", env("DB_HOST", "h", "READSPLIT_HEALTH_CHEK_INTERVAL", "1s"),
                        "unknown variable READSPLIT_HEALTH_CHEK_INTERVAL \u2014 did you mean READSPLIT_HEALTH_CHECK_INTERVAL?"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfig")
    void failsFastNamingTheKeyAndValue(String label, Executable parse, String message) {
        ConfigException e = assertThrows(ConfigException.class, parse);
        assertThat(e.getMessage()).isEqualTo(message);
        assertThat(e.getMessage()).doesNotContain("S3cret-Pw");
    }

    @Test
    void propertiesReportEveryNegativeIntervalAtOnce() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "h", "readsplit.healthCheckTimeout", "-2s", "readsplit.readYourWritesWait", "-1ms",
                "readsplit.maxLag", "-1s")));
        assertThat(e.getMessage()).isEqualTo("3 configuration problems:\n"
                + "readsplit.healthCheckTimeout must be positive: PT-2S\n"
                + "readsplit.maxLag must be positive: PT-1S\n"
                + "readsplit.readYourWritesWait must not be negative: PT-0.001S");
    }

    @Test
    void yamlReportsBadPortsNegativeIntervalAndTypoWithTheirLines(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("app.yaml");
        Files.writeString(f, "readsplit:\n  primary: h:70000\n  replicas: [h:70000]\n  healthCheckInterval: -1s\n  maxLagg: 1s\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromFile(f));
        assertThat(e.getMessage()).isEqualTo("4 configuration problems:\n"
                + f + ": line 4: readsplit.healthCheckInterval must be positive: PT-1S\n"
                + f + ": line 5: unknown key readsplit.maxLagg \u2014 did you mean readsplit.maxLag?\n"
                + f + ": line 2: readsplit.primary: port must be in 1..65535: 70000 (in 'h:70000')\n"
                + f + ": line 3: readsplit.replicas: port must be in 1..65535: 70000 (in 'h:70000')");
    }

    @Test
    void yamlWithoutPrimary(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("app.yaml");
        Files.writeString(f, "readsplit:\n  replicas: [r1]\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromFile(f));
        assertThat(e.getMessage()).isEqualTo(f + ": readsplit.primary is required");
    }
}

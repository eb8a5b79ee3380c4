package dev.readsplit.config;

import dev.readsplit.balance.BalancerKind;
import dev.readsplit.Consistency;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ReadsplitUrlTest {

    static final String PASSWORD = "s3cr3t-Pa55";

    @Test
    void firstHostIsPrimaryAndPortDefaults() {
        ReadsplitConfig c = ReadsplitUrl.parse(
                "jdbc:readsplit:postgresql://primary:5432,replica1:5433,replica2/db", null);
        assertThat(c.primary().address()).isEqualTo("primary:5432");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("replica1:5433", "replica2:5432");
        assertThat(c.primary().database()).isEqualTo("db");
        assertThat(c.replicas().get(1).database()).isEqualTo("db");
    }

    @Test
    void parametersMapToConfigKeysAndTheRestPassesThrough() {
        ReadsplitConfig c = ReadsplitUrl.parse("jdbc:readsplit:postgresql://p,[::1]:6432/shop?user=u&password="
                + PASSWORD + "&consistency=bounded_staleness:2s&balancer=random&healthCheckInterval=500ms"
                + "&sslmode=require&ApplicationName=my%20app&localZone=eu-1a", null);
        assertThat(c.replicas()).extracting(NodeConfig::host).containsExactly("::1");
        assertThat(c.primary().user()).isEqualTo("u");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.routing().consistency()).isEqualTo(Consistency.boundedStaleness(Duration.ofSeconds(2)));
        assertThat(c.routing().balancer()).isEqualTo(BalancerKind.RANDOM);
        assertThat(c.health().interval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.routing().localZone()).isEqualTo("eu-1a");
        assertThat(c.primary().jdbcProperties())
                .containsEntry("sslmode", "require").containsEntry("ApplicationName", "my app")
                .doesNotContainKeys("user", "password", "consistency");
        assertThat(c.replicas().get(0).jdbcProperties()).containsEntry("sslmode", "require");
    }

    @Test
    void userAndPasswordFromInfoAndUrlWins() {
        Properties info = new Properties();
        info.setProperty("user", "info_user");
        info.setProperty("password", PASSWORD);
        info.setProperty("someDriverSpecificThing", "x");
        ReadsplitConfig c = ReadsplitUrl.parse("jdbc:readsplit:postgresql://p/db?user=url_user", info);
        assertThat(c.primary().user()).isEqualTo("url_user");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.primary().jdbcProperties()).containsEntry("someDriverSpecificThing", "x");
    }

    @Test
    void noDatabaseMeansPgjdbcDefault() {
        assertThat(ReadsplitUrl.parse("jdbc:readsplit:postgresql://p", null).primary().database()).isNull();
        assertThat(ReadsplitUrl.parse("jdbc:readsplit:postgresql://p/", null).primary().database()).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "jdbc:postgresql://p/db?password=" + PASSWORD
                    + " | invalid Readsplit URL jdbc:postgresql://p/db?password=****: must start with "
                    + "jdbc:readsplit:postgresql://",
            "jdbc:readsplit:postgresql:///db?password=" + PASSWORD
                    + " | invalid Readsplit URL jdbc:readsplit:postgresql:///db?password=****: no host given",
            "jdbc:readsplit:postgresql://p:abc/db?password=" + PASSWORD
                    + " | invalid Readsplit URL jdbc:readsplit:postgresql://p:abc/db?password=****: "
                    + "host: port must be an integer: 'abc' (in 'p:abc')",
            "jdbc:readsplit:postgresql://p,,r/db"
                    + " | invalid Readsplit URL jdbc:readsplit:postgresql://p,,r/db: empty host in the host list",
            "jdbc:readsplit:postgresql://u:" + PASSWORD + "@p/db"
                    + " | invalid Readsplit URL jdbc:readsplit:postgresql://u:****@p/db: credentials before the "
                    + "host are not supported; use ?user=...&password=... or the connection properties",
            "jdbc:readsplit:postgresql://p/a/b"
                    + " | invalid Readsplit URL jdbc:readsplit:postgresql://p/a/b: the database name must not "
                    + "contain '/': 'a/b'"})
    void badUrlsAreNamedWithThePasswordMasked(String url, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitUrl.parse(url, null));
        assertThat(e.key()).isEqualTo("url");
        assertThat(e).hasMessage(message);
        assertThat(e.getMessage()).doesNotContain(PASSWORD);
    }

    @Test
    void badParametersAreAllReportedWithTheMaskedUrl() {
        String url = "jdbc:readsplit:postgresql://p,p/db?password=" + PASSWORD
                + "&consistancy=strong&healthCheckInterval=-1s&replicas=r";
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitUrl.parse(url, null));
        String masked = "jdbc:readsplit:postgresql://p,p/db?password=****&consistancy=strong"
                + "&healthCheckInterval=-1s&replicas=r";
        assertThat(e.getMessage().lines()).containsExactly(
                "4 configuration problems:",
                "unknown key consistancy \u2014 did you mean consistency? (in " + masked + ")",
                "healthCheckInterval must be positive: PT-1S (in " + masked + ")",
                "replicas cannot be a parameter: the URL's host list gives the primary (first host) and the "
                        + "replicas (in " + masked + ")",
                "duplicate node p:5432: primary and replicas[0] (in " + masked + ")");
        assertThat(e.getMessage()).doesNotContain(PASSWORD);
    }

    @Test
    void maskHidesSecretParameters() {
        assertThat(ReadsplitUrl.mask("jdbc:readsplit:postgresql://p/db?user=u&password=x&sslpassword=y&a=b"))
                .isEqualTo("jdbc:readsplit:postgresql://p/db?user=u&password=****&sslpassword=****&a=b");
    }

    @Test
    void accepts() {
        assertThat(ReadsplitUrl.accepts("jdbc:readsplit:postgresql://p/db")).isTrue();
        assertThat(ReadsplitUrl.accepts("JDBC:READSPLIT:POSTGRESQL://p/db")).isTrue();
        assertThat(ReadsplitUrl.accepts("jdbc:postgresql://p/db")).isFalse();
        assertThat(ReadsplitUrl.accepts(null)).isFalse();
    }
}

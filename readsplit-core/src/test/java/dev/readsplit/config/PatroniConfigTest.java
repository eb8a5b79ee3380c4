package dev.readsplit.config;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;
import java.util.Map;

import static dev.readsplit.config.PropertiesConfigTest.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The Patroni topology-source keys through the builder, properties, the URL and the environment; their validation. */
class PatroniConfigTest {

    @Test
    void defaultIsSqlOnly() {
        ReadsplitConfig c = ReadsplitConfig.builder().primary("h", 5432).build();
        assertThat(c.topology().source()).isEqualTo(TopologySource.SQL);
        assertThat(c.topology().patroniUrls()).isEmpty();
    }

    @Test
    void readsTheKeysFromPropertiesUrlAndEnvironment() {
        ReadsplitConfig p = ReadsplitConfig.fromProperties(props("readsplit.primary", "a", "readsplit.replicas", "b,c",
                "readsplit.topologySource", "patroni", "readsplit.patroniUrls", "http://a:8008, http://b:8008"));
        assertThat(p.topology().source()).isEqualTo(TopologySource.PATRONI);
        assertThat(p.topology().patroniUrls()).containsExactly(URI.create("http://a:8008"), URI.create("http://b:8008"));
        assertThat(p.toBuilder().build()).isEqualTo(p);

        ReadsplitConfig u = ReadsplitUrl.parse("jdbc:readsplit:postgresql://a,b/db?topologySource=PATRONI"
                + "&patroniUrls=http://a:8008", null);
        assertThat(u.topology().source()).isEqualTo(TopologySource.PATRONI);
        assertThat(u.topology().patroniUrls()).containsExactly(URI.create("http://a:8008"));

        ReadsplitConfig e = ReadsplitConfig.fromEnvironment(Map.of("DB_HOST", "a", "READSPLIT_REPLICAS", "b",
                "READSPLIT_TOPOLOGY_SOURCE", "patroni", "READSPLIT_PATRONI_URLS", "https://patroni.internal:8008"));
        assertThat(e.topology().source()).isEqualTo(TopologySource.PATRONI);
        assertThat(e.topology().patroniUrls()).containsExactly(URI.create("https://patroni.internal:8008"));
    }

    @Test
    void supervisedFailoverWithPatroniIsAConfigurationError() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.builder().primary("a", 1)
                .addReplica("b", 1).topologySource(TopologySource.PATRONI).patroniUrls(List.of("http://a:8008"))
                .failoverPolicy(FailoverPolicy.SUPERVISED).build());
        assertThat(e.getMessage()).contains("failoverPolicy=supervised with topologySource=patroni")
                .contains("two primaries");
        ConfigException fromProps = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props(
                "readsplit.primary", "a", "readsplit.replicas", "b", "readsplit.topologySource", "patroni",
                "readsplit.patroniUrls", "http://a:8008", "readsplit.failoverPolicy", "supervised")));
        assertThat(fromProps.getMessage()).contains("failoverPolicy");
    }

    @Test
    void badValuesNameTheKeyAndNeverEchoCredentials() {
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(props("readsplit.primary", "a",
                "readsplit.topologySource", "consul"))).getMessage())
                .contains("readsplit.topologySource must be one of sql, patroni: 'consul'");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.builder().primary("a", 1)
                .topologySource(TopologySource.PATRONI).build()).getMessage())
                .contains("topologySource=patroni needs at least one of patroniUrls");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.builder().primary("a", 1)
                .patroniUrls(List.of("http://a:8008")).build()).getMessage())
                .contains("patroniUrls is set but topologySource is sql");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.builder()
                .patroniUrls(List.of("ftp://a:8008"))).getMessage()).contains("expected http://host:port");
        assertThat(assertThrows(ConfigException.class, () -> ReadsplitConfig.builder()
                .patroniUrls(List.of("not a url"))).getMessage()).contains("patroniUrls");
        String secret = "S3cret-Patroni-Pw";
        ConfigException creds = assertThrows(ConfigException.class, () -> ReadsplitConfig.builder()
                .patroniUrls(List.of("http://admin:" + secret + "@a:8008")));
        assertThat(creds.getMessage()).contains("must not carry credentials").doesNotContain(secret);
    }
}

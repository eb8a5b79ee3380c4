package dev.readsplit.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NodeConfigTest {

    @Test
    void nameDefaultsToHostAndPort() {
        assertThat(NodeConfig.of("db1", 6432).name()).isEqualTo("db1:6432");
        assertThat(NodeConfig.builder().host("::1").build().name()).isEqualTo("[::1]:5432");
        assertThat(NodeConfig.builder().host("db1").name("primary-a").build().name()).isEqualTo("primary-a");
    }

    @Test
    void hostMustNotBeBlank() {
        ConfigException e = assertThrows(ConfigException.class, () -> NodeConfig.of("  ", 5432));
        assertThat(e.key()).isEqualTo("host");
        assertThat(e).hasMessage("host must not be blank: '  '");
    }

    @Test
    void hostMustNotContainUrlSyntax() {
        ConfigException e = assertThrows(ConfigException.class, () -> NodeConfig.of("a/b", 5432));
        assertThat(e).hasMessage("host must not contain '/': 'a/b'");
    }

    @ParameterizedTest
    @CsvSource({"0", "-1", "65536"})
    void portMustBeInRange(int port) {
        ConfigException e = assertThrows(ConfigException.class, () -> NodeConfig.of("db1", port));
        assertThat(e.key()).isEqualTo("port");
        assertThat(e).hasMessage("port must be in 1..65535: " + port);
    }

    @Test
    void weightZeroIsNotAllowed() {
        ConfigException e = assertThrows(ConfigException.class, () -> NodeConfig.builder().weight(0));
        assertThat(e.key()).isEqualTo("weight");
        assertThat(e).hasMessage("weight must be at least 1: 0");
        assertThrows(ConfigException.class,
                () -> new NodeConfig(null, "h", 5432, null, null, null, null, 0, Map.of(), null));
    }

    @Test
    void hostIsRequiredByTheBuilder() {
        ConfigException e = assertThrows(ConfigException.class, () -> NodeConfig.builder().port(5433).build());
        assertThat(e).hasMessage("host is required");
    }

    @Test
    void parsesSpecs() {
        NodeConfig n = NodeConfig.parse("r1.example:6432;zone=eu-1a;weight=3;name=r1");
        assertThat(n.host()).isEqualTo("r1.example");
        assertThat(n.port()).isEqualTo(6432);
        assertThat(n.zone()).isEqualTo("eu-1a");
        assertThat(n.weight()).isEqualTo(3);
        assertThat(n.name()).isEqualTo("r1");
        assertThat(NodeConfig.parse("r2").port()).isEqualTo(5432);
        assertThat(NodeConfig.parse("[2001:db8::1]:5433").host()).isEqualTo("2001:db8::1");
        assertThat(NodeConfig.parse("[2001:db8::1]:5433").address()).isEqualTo("[2001:db8::1]:5433");
    }

    @Test
    void badSpecsNameTheKeyAndText() {
        assertThat(assertThrows(ConfigException.class, () -> NodeConfig.parse("r1:abc")))
                .hasMessage("node: port must be an integer: 'abc' (in 'r1:abc')");
        assertThat(assertThrows(ConfigException.class, () -> NodeConfig.parse("r1:5432;weight=0")))
                .hasMessage("node: weight must be at least 1: 0 (in 'r1:5432;weight=0')");
        assertThat(assertThrows(ConfigException.class, () -> NodeConfig.parse("r1;color=red")))
                .hasMessage("node has an unknown node attribute 'color' (expected zone (or region), weight, name, maxLag (or max_lag_seconds), minPoolSize (or min_pool_size), maxPoolSize (or max_pool_size)): "
                        + "'r1;color=red'");
        assertThat(assertThrows(ConfigException.class, () -> NodeConfig.parse("2001:db8::1")))
                .hasMessage("node must put an IPv6 address in brackets ([::1]:5432): '2001:db8::1'");
    }

    @Test
    void jdbcUrlHasNoCredentials() {
        NodeConfig n = NodeConfig.builder().host("db1").database("my db").user("u").password("s3cr3t-Pa55").build();
        assertThat(n.jdbcUrl()).isEqualTo("jdbc:postgresql://db1:5432/my%20db");
    }

    @Test
    void jdbcPropertiesAreImmutableAndSorted() {
        NodeConfig n = NodeConfig.builder().host("db1").jdbcProperty("sslmode", "require")
                .jdbcProperty("ApplicationName", "app").build();
        assertThat(n.jdbcProperties().keySet()).containsExactly("ApplicationName", "sslmode");
        assertThrows(UnsupportedOperationException.class, () -> n.jdbcProperties().put("x", "y"));
    }

    @Test
    void toStringMasksPasswordAndSecretProperties() {
        NodeConfig n = NodeConfig.builder().host("db1").password("s3cr3t-Pa55")
                .jdbcProperty("sslpassword", "s3cr3t-Pa55").jdbcProperty("sslmode", "require").build();
        assertThat(n.toString()).doesNotContain("s3cr3t-Pa55")
                .contains("password=****", "sslpassword=****", "sslmode=require");
    }

    @Test
    void toBuilderRoundTrips() {
        NodeConfig n = NodeConfig.parse("r1:6432;zone=z;weight=2");
        assertThat(n.toBuilder().build()).isEqualTo(n);
    }
}

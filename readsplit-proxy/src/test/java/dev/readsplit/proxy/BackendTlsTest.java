package dev.readsplit.proxy;

import dev.readsplit.config.NodeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The proxy's TLS settings for a node, read from its pgjdbc properties with pgjdbc's meaning. */
class BackendTlsTest {

    private static NodeConfig node(Map<String, String> properties) {
        return NodeConfig.builder().name("replica1").host("127.0.0.1").port(5432).database("app").user("app")
                .jdbcProperties(properties).build();
    }

    @Test
    void theModeIsPgjdbcsOwn() {
        assertThat(BackendTls.of(node(Map.of())).mode()).as("pgjdbc's default").isEqualTo(BackendTls.Mode.PREFER);
        assertThat(BackendTls.of(node(Map.of("sslmode", "disable"))).mode()).isEqualTo(BackendTls.Mode.DISABLE);
        assertThat(BackendTls.of(node(Map.of("sslmode", "disable"))).context()).isNull();
        assertThat(BackendTls.of(node(Map.of("sslmode", "Require"))).mode()).isEqualTo(BackendTls.Mode.REQUIRE);
        assertThat(BackendTls.of(node(Map.of("sslmode", "allow"))).mode().asks()).isTrue();
        assertThat(BackendTls.of(node(Map.of("sslmode", "prefer"))).mode().requires()).isFalse();
        assertThat(BackendTls.of(node(Map.of("sslmode", "require"))).mode().requires()).isTrue();
        assertThat(BackendTls.of(node(Map.of("sslmode", "require"))).context()).isNotNull();
        assertThat(BackendTls.of(node(Map.of("ssl", "false"))).mode()).as("as pgjdbc").isEqualTo(BackendTls.Mode.PREFER);
        assertThat(BackendTls.of(node(Map.of("ssl", "true", "sslmode", "require"))).mode())
                .isEqualTo(BackendTls.Mode.REQUIRE);
        assertThat(BackendTls.of(node(Map.of("sslfactory", BackendTls.NON_VALIDATING_FACTORY))).mode())
                .isEqualTo(BackendTls.Mode.PREFER);
    }

    @Test
    void checkingModesNeedARootCertificateTheyCanRead(@TempDir Path dir) {
        Path missing = dir.resolve("root.crt");
        assertThatThrownBy(() -> BackendTls.of(node(Map.of("sslmode", "verify-ca", "sslrootcert", missing.toString()))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("node replica1").hasMessageContaining("verify-ca")
                .hasMessageContaining(missing.toString());
        // ssl=true alone means verify-full, so it needs one too
        assertThatThrownBy(() -> BackendTls.of(node(Map.of("ssl", "true", "sslrootcert", missing.toString()))))
                .hasMessageContaining("verify-full");
    }

    @Test
    void whatTheProxyCannotFollowIsRefusedByName() {
        assertThatThrownBy(() -> BackendTls.of(node(Map.of("sslmode", "sometimes"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("node replica1")
                .hasMessageContaining("sometimes").hasMessageContaining("verify-full");
        assertThatThrownBy(() -> BackendTls.of(node(Map.of("sslcert", "/etc/client.crt"))))
                .hasMessageContaining("node replica1").hasMessageContaining("sslcert");
        assertThatThrownBy(() -> BackendTls.of(node(Map.of("sslfactory", "com.example.MyFactory"))))
                .hasMessageContaining("com.example.MyFactory");
        assertThatThrownBy(() -> BackendTls.of(node(Map.of("sslfactory", BackendTls.NON_VALIDATING_FACTORY,
                "sslmode", "verify-full")))).hasMessageContaining("verify-full");
    }
}

package dev.readsplit.proxy;

import dev.readsplit.config.Secret;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ProxyConfigTest {

    @Test
    void badValuesFailFastNamingThem() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().listen("nohost"))
                .getMessage()).contains("HOST:PORT").contains("nohost");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().listen("h:x"))
                .getMessage()).contains("h:x");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().maxClients(0))
                .getMessage()).contains("maxClients");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().build())
                .getMessage()).contains("user");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().user("app", Secret.of("")))
                .getMessage()).contains("app");
    }

    @Test
    void passwordsNeverShowInToString() {
        ProxyConfig c = ProxyConfig.builder().listen("127.0.0.1:0").user("app", Secret.of("hunter2")).build();
        assertThat(c.toString()).contains("app").doesNotContain("hunter2");
        assertThat(c.listenPort()).isZero();
    }
}

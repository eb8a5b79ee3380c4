package dev.readsplit.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SecretTest {

    @Test
    void masksAndReveals() {
        Secret s = Secret.of("s3cr3t-Pa55");
        assertThat(s.toString()).isEqualTo("****");
        assertThat(String.valueOf(s)).doesNotContain("s3cr3t");
        assertThat(s.reveal()).isEqualTo("s3cr3t-Pa55");
    }

    @Test
    void equalsByValue() {
        assertThat(Secret.of("a")).isEqualTo(Secret.of("a")).hasSameHashCodeAs(Secret.of("a"));
        assertThat(Secret.of("a")).isNotEqualTo(Secret.of("b")).isNotEqualTo(Secret.of("ab")).isNotEqualTo("a");
    }

    @Test
    void nullIsRejectedWithoutEchoingAnything() {
        NullPointerException e = assertThrows(NullPointerException.class, () -> Secret.of(null));
        assertThat(e).hasMessage("secret value");
    }
}

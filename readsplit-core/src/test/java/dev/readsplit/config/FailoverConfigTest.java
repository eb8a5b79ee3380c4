package dev.readsplit.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static dev.readsplit.config.PropertiesConfigTest.props;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The supervised-failover keys through the builder, properties, the URL and the environment. */
class FailoverConfigTest {

    @Test
    void defaultsFollowOnly() {
        ReadsplitConfig c = ReadsplitConfig.builder().primary("h", 5432).build();
        assertThat(c.failover().policy()).isEqualTo(FailoverPolicy.NONE);
        assertThat(c.failover().minHealthyReplicas()).isEqualTo(1);
        assertThat(c.failover().stepTimeout()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void readsTheKeysFromPropertiesUrlAndEnvironment() {
        ReadsplitConfig p = ReadsplitConfig.fromProperties(props("readsplit.primary", "a", "readsplit.replicas", "b,c",
                "readsplit.failoverPolicy", "supervised", "readsplit.minHealthyReplicas", "2",
                "readsplit.failoverStepTimeout", "3s"));
        assertThat(p.failover().policy()).isEqualTo(FailoverPolicy.SUPERVISED);
        assertThat(p.failover().minHealthyReplicas()).isEqualTo(2);
        assertThat(p.failover().stepTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(p.toBuilder().build()).isEqualTo(p);

        ReadsplitConfig u = ReadsplitUrl.parse("jdbc:readsplit:postgresql://a,b/db?failoverPolicy=SUPERVISED", null);
        assertThat(u.failover().policy()).isEqualTo(FailoverPolicy.SUPERVISED);

        ReadsplitConfig e = ReadsplitConfig.fromEnvironment(Map.of("DB_HOST", "a",
                "READSPLIT_FAILOVER_POLICY", "supervised", "READSPLIT_REPLICAS", "b"));
        assertThat(e.failover().policy()).isEqualTo(FailoverPolicy.SUPERVISED);
    }

    @Test
    void badValuesNameTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromProperties(
                props("readsplit.primary", "a", "readsplit.failoverPolicy", "auto")));
        assertThat(e.getMessage()).contains("readsplit.failoverPolicy must be one of none, supervised: 'auto'");
        assertThrows(ConfigException.class, () -> ReadsplitConfig.builder().minHealthyReplicas(0));
        assertThrows(ConfigException.class, () -> ReadsplitConfig.builder().failoverStepTimeout(Duration.ZERO));
        assertThrows(ConfigException.class, () -> ReadsplitConfig.builder().failoverStepTimeout(Duration.ofHours(1)));
    }

    @Test
    void supervisedNeedsAReachableQuorum() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.builder().primary("a", 1)
                .addReplica("b", 1).failoverPolicy(FailoverPolicy.SUPERVISED).minHealthyReplicas(2).build());
        assertThat(e.getMessage()).contains("minHealthyReplicas (2) exceeds the 1 configured replicas");
    }
}

package dev.readsplit.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static dev.readsplit.config.EnvironmentConfigTest.fail;
import static dev.readsplit.config.EnvironmentConfigTest.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Issue 19 / seed 004: per-replica {@code max_lag_seconds}, {@code min_pool_size}, {@code max_pool_size},
 * {@code weight} and region from every source (builder, node spec in properties, URL, YAML, environment,
 * JSON replica lists), with Readsplit's names and seed 004's, and their resolution against the data source.
 */
class PerNodeSettingsTest {

    /** The replica every source below describes. */
    private static void assertEuReplica(NodeConfig r) {
        assertThat(r.zone()).isEqualTo("eu-1a");
        assertThat(r.weight()).isEqualTo(3);
        assertThat(r.maxLag()).isEqualTo(Duration.ofMillis(2500));
        assertThat(r.minPoolSize()).isEqualTo(2);
        assertThat(r.maxPoolSize()).isEqualTo(20);
    }

    @Test
    void builder() {
        NodeConfig r = NodeConfig.builder().host("r1").zone("eu-1a").weight(3).maxLag(Duration.ofMillis(2500))
                .minPoolSize(2).maxPoolSize(20).build();
        assertEuReplica(r);
        assertThat(r.toString()).contains("maxLag=PT2.5S", "minPoolSize=2", "maxPoolSize=20");
        assertThat(r.toBuilder().build()).isEqualTo(r);
    }

    @Test
    void nodeSpecInPropertiesWithBothSpellings() {
        Properties p = new Properties();
        p.setProperty("readsplit.primary", "p");
        p.setProperty("readsplit.replicas", "r1;zone=eu-1a;weight=3;maxLag=2500ms;minPoolSize=2;maxPoolSize=20,"
                + "r2;region=eu-1a;weight=3;max_lag_seconds=2.5;min_pool_size=2;max_pool_size=20");
        ReadsplitConfig c = ReadsplitConfig.fromProperties(p);
        assertEuReplica(c.replicas().get(0));
        assertEuReplica(c.replicas().get(1));
    }

    @Test
    void url() {
        ReadsplitConfig c = ReadsplitUrl.parse("jdbc:readsplit:postgresql://p:5432,r1:5433;zone=eu-1a;weight=3;"
                + "maxLag=2.5s;minPoolSize=2;maxPoolSize=20,r2/db?balancer=weighted", null);
        assertEuReplica(c.replicas().get(0));
        assertThat(c.replicas().get(1).maxLag()).isNull();
        assertThat(c.replicas().get(0).address()).isEqualTo("r1:5433");
    }

    @Test
    void yamlNodeMapsWithBothSpellings(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("app.yml");
        Files.writeString(f, String.join("\n",
                "readsplit:",
                "  primary: p",
                "  replicas:",
                "    - host: r1",
                "      zone: eu-1a",
                "      weight: 3",
                "      maxLag: 2500ms",
                "      minPoolSize: 2",
                "      maxPoolSize: 20",
                "      jdbc:",
                "        sslmode: require",
                "    - host: r2",
                "      region: eu-1a",
                "      weight: 3",
                "      max_lag_seconds: 2.5",
                "      min_pool_size: 2",
                "      max_pool_size: 20",
                "    - r3;zone=eu-1a;weight=3;maxLag=2.5s;minPoolSize=2;maxPoolSize=20"));
        ReadsplitConfig c = ReadsplitConfig.fromFile(f, Map.of());
        c.replicas().forEach(PerNodeSettingsTest::assertEuReplica);
        assertThat(c.replicas().get(0).jdbcProperties()).containsEntry("sslmode", "require");
    }

    @Test
    void environmentSpecsJsonAndUrlParameters() {
        assertEuReplica(read("DB_HOST", "p", "READSPLIT_REPLICAS",
                "r1;zone=eu-1a;weight=3;maxLag=2.5s;minPoolSize=2;maxPoolSize=20").replicas().get(0));
        List<NodeConfig> json = read("DB_HOST", "p", "DB_REPLICAS", "["
                + "{\"host\":\"r1\",\"region\":\"eu-1a\",\"weight\":3,\"max_lag_seconds\":2.5,\"min_pool_size\":2,"
                + "\"max_pool_size\":20},"
                + "{\"host\":\"r2\",\"zone\":\"eu-1a\",\"weight\":\"3\",\"maxLag\":\"2500ms\",\"minPoolSize\":2,"
                + "\"maxPoolSize\":20}]").replicas();
        json.forEach(PerNodeSettingsTest::assertEuReplica);
        assertEuReplica(read("DATABASE_URL", "postgresql://p/db", "DATABASE_READ_URLS",
                "[\"postgresql+asyncpg://r1/db?region=eu-1a&weight=3&max_lag_seconds=2.5&min_pool_size=2"
                        + "&max_pool_size=20&sslmode=require\"]").replicas().get(0));
        NodeConfig viaUrl = read("DATABASE_URL", "postgresql://p/db", "DATABASE_READ_URL",
                "postgresql://r1/db?zone=eu-1a&weight=3&maxLag=2.5s&minPoolSize=2&maxPoolSize=20&sslmode=require")
                .replicas().get(0);
        assertEuReplica(viaUrl);
        assertThat(viaUrl.jdbcProperties()).as("the rest stays a pgjdbc property").containsOnlyKeys("sslmode");
    }

    @Test
    void badPerNodeValuesNameTheNodeAndField() {
        assertThat(fail("DB_HOST", "p", "DB_REPLICAS", "[{\"host\":\"r1\",\"max_lag_seconds\":\"soon\"}]")
                .getMessage()).isEqualTo("DB_REPLICAS[0].max_lag_seconds must be a number of seconds (e.g. 5 or 2.5):"
                + " 'soon'");
        assertThat(fail("DB_HOST", "p", "DB_REPLICAS", "[{\"host\":\"r1\",\"min_pool_size\":5,\"max_pool_size\":2}]")
                .getMessage()).isEqualTo("DB_REPLICAS[0]: minPoolSize (5) must not exceed maxPoolSize (2)");
        assertThat(fail("DB_HOST", "p", "DB_REPLICAS", "[{\"host\":\"r1\",\"maxLag\":\"0s\"}]").getMessage())
                .isEqualTo("DB_REPLICAS[0]: maxLag must be positive: PT0S");
        assertThat(fail("DB_HOST", "p", "DB_REPLICAS", "[{\"host\":\"r1\",\"zone\":\"a\",\"region\":\"b\"}]")
                .getMessage()).isEqualTo("DB_REPLICAS[0] has both \"zone\" and \"region\" with different values;"
                + " give one");
        ConfigException spec = assertThrows(ConfigException.class, () -> NodeConfig.parse("r1;maxPoolSize=0"));
        assertThat(spec).hasMessage("node: maxPoolSize must be at least 1: 0 (in 'r1;maxPoolSize=0')");
        assertThat(fail("DATABASE_URL", "postgresql://p/db", "DATABASE_READ_URL", "postgresql://r1/db?weight=0")
                .getMessage()).isEqualTo("DATABASE_READ_URL: weight must be at least 1: 0 (in postgresql://r1/db?weight=0)");
    }

    @Test
    void nodeSettingsResolveAgainstTheDataSourcesDefaults() {
        ReadsplitConfig c = ReadsplitConfig.builder().primary("p", 5432)
                .addReplica(NodeConfig.builder().host("r1").maxPoolSize(4).minPoolSize(1).maxLag(Duration.ofSeconds(30))
                        .build())
                .addReplica("r2", 5432)
                .primaryPoolSize(8).primaryPoolOverflow(2).replicaPoolSize(5).replicaPoolOverflow(1).minIdle(3)
                .maxLag(Duration.ofSeconds(4)).build();
        NodeConfig r1 = c.replicas().get(0);
        NodeConfig r2 = c.replicas().get(1);
        assertThat(c.pool().maxPoolSize(c.primary(), true)).isEqualTo(10);
        assertThat(c.pool().maxPoolSize(r1, false)).as("its own maximum, no overflow").isEqualTo(4);
        assertThat(c.pool().maxPoolSize(r2, false)).isEqualTo(6);
        assertThat(c.pool().minPoolSize(r1, false)).isEqualTo(1);
        assertThat(c.pool().minPoolSize(r2, false)).isEqualTo(3);
        assertThat(c.lag().maxLag(r1)).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.lag().maxLag(r2)).isEqualTo(Duration.ofSeconds(4));
    }

    @Test
    void aNodesMinimumAboveTheDataSourcesMaximumIsACrossFieldError() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.builder().primary("p", 5432)
                .addReplica(NodeConfig.builder().host("r1").minPoolSize(12).build()).replicaPoolSize(10).build());
        assertThat(e).hasMessage("replicas[0]: minPoolSize (12) must not exceed the pool's maximum (10)");
    }
}

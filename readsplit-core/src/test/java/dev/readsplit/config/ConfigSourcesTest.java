package dev.readsplit.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConfigSourcesTest {

    @TempDir
    Path dir;

    static final Map<String, String> ENV = Map.of("DB_HOST", "from-env");

    Path file() throws IOException {
        Path p = dir.resolve("readsplit.yml");
        Files.writeString(p, "readsplit:\n  primary: from-file\n");
        return p;
    }

    @Test
    void urlWinsOverFileAndEnvironment() throws IOException {
        ReadsplitConfig c = ConfigSources.load(file(), "jdbc:readsplit:postgresql://from-url,r1/db", ENV);
        assertThat(c.primary().host()).isEqualTo("from-url");
        assertThat(c.replicas()).extracting(NodeConfig::host).containsExactly("r1");
    }

    @Test
    void plainPostgresUrlIsAccepted() {
        ReadsplitConfig c = ConfigSources.load(null, "postgresql://u:pw@from-url:5433/db", ENV);
        assertThat(c.primary().address()).isEqualTo("from-url:5433");
        assertThat(c.primary().password().reveal()).isEqualTo("pw");
    }

    @Test
    void fileWinsOverEnvironment() throws IOException {
        assertThat(ConfigSources.load(file(), null, ENV).primary().host()).isEqualTo("from-file");
    }

    @Test
    void environmentIsTheLastResort() {
        assertThat(ConfigSources.load(null, null, ENV).primary().host()).isEqualTo("from-env");
    }

    @Test
    void sourcesAreNotMerged() throws IOException {
        // The environment's pool size does not leak into a configuration taken from the file.
        ReadsplitConfig c = ConfigSources.load(file(), null, Map.of("DB_HOST", "h", "DB_POOL_MAX", "3"));
        assertThat(c.pool().primarySize()).isEqualTo(10);
    }

    @Test
    void badUrlErrorsNameTheUrlAndMaskThePassword() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigSources.load(null, "mysql://u:Sup3r-S3cret!@h/db", ENV));
        assertThat(e.key()).isEqualTo("url");
        assertThat(e.getMessage()).startsWith("url must be").contains("mysql://u:****@h/db")
                .doesNotContain("S3cret");
    }

    @Test
    void badEnvironmentWhenNothingElseGiven() {
        assertThrows(ConfigException.class, () -> ConfigSources.load(null, null, Map.of()));
    }
}

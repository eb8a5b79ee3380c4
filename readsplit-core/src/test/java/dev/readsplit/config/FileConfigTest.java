package dev.readsplit.config;

import dev.readsplit.Consistency;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FileConfigTest {

    static final String PASSWORD = "Sup3r-S3cret!";

    @TempDir
    Path dir;

    Path write(String name, String... lines) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return p;
    }

    ConfigException fail(Path file) {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromFile(file));
        assertThat(e.getMessage()).doesNotContain("S3cret");
        return e;
    }

    // ---- YAML ------------------------------------------------------------------------------------------------

    @Test
    void documentedYamlExample() throws IOException {
        ReadsplitConfig c = ReadsplitConfig.fromFile(write("readsplit.yml",
                "readsplit:",
                "  primary: db1:5432",
                "  replicas: [db2:5432, \"db3:5432;zone=eu-1b\"]",
                "  database: app",
                "  user: app",
                "  password: " + PASSWORD,
                "  consistency: read_your_writes",
                "  healthCheckInterval: 1s"));
        assertThat(c.primary().address()).isEqualTo("db1:5432");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("db2:5432", "db3:5432");
        assertThat(c.replicas().get(1).zone()).isEqualTo("eu-1b");
        assertThat(c.primary().database()).isEqualTo("app");
        assertThat(c.primary().user()).isEqualTo("app");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.consistency()).isEqualTo(Consistency.readYourWrites());
        assertThat(c.healthCheckInterval()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void commentsQuotesBlockListsAndNestedMaps() throws IOException {
        ReadsplitConfig c = ReadsplitConfig.fromFile(write("app.yaml",
                "# Readsplit settings",
                "---",
                "other:            # ignored, like non-readsplit properties",
                "  key: value",
                "readsplit:",
                "  name: 'orders # not a comment'",
                "  primary: \"db1:5432\"   # trailing comment",
                "",
                "  replicas:",
                "    - db2:5433",
                "    - 'db3;zone=eu-1b'  # quoted",
                "  writeFunctions:",
                "  - audit_log",
                "  - bump",
                "  password: \"p\\\"w#1\"",
                "  jdbc:",
                "    sslmode: require",
                "  localZone: ~"));
        assertThat(c.name()).isEqualTo("orders # not a comment");
        assertThat(c.primary().address()).isEqualTo("db1:5432");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("db2:5433", "db3:5432");
        assertThat(c.writeFunctions()).containsExactly("audit_log", "bump");
        assertThat(c.primary().password().reveal()).isEqualTo("p\"w#1");
        assertThat(c.primary().jdbcProperties()).containsEntry("sslmode", "require");
        assertThat(c.localZone()).isNull();
    }

    @Test
    void unknownKeyNamesFileLineAndSuggestion() throws IOException {
        Path f = write("app.yml",
                "readsplit:",
                "  primary: db1",
                "  consistncy: strong");
        ConfigException e = fail(f);
        assertThat(e.key()).isEqualTo("readsplit.consistncy");
        assertThat(e.getMessage()).isEqualTo(f + ": line 3: unknown key readsplit.consistncy \u2014 did you mean "
                + "readsplit.consistency?");
    }

    @Test
    void invalidValuesNameFileAndLineAllAtOnce() throws IOException {
        Path f = write("app.yml",
                "readsplit:",
                "  primary: db1",
                "  healthCheckInterval: soon",
                "  password: " + PASSWORD,
                "  primaryPoolSize: many");
        ConfigException e = fail(f);
        assertThat(e.problems()).extracting(ConfigException.Problem::message).containsExactlyInAnyOrder(
                f + ": line 3: readsplit.healthCheckInterval must be a duration (e.g. 500ms, 2s, 1m, PT2S): 'soon'",
                f + ": line 5: readsplit.primaryPoolSize must be an integer: 'many'");
    }

    @ParameterizedTest
    @CsvSource(delimiterString = "=>", quoteCharacter = '`', value = {
        "`readsplit:\n  primary: db1\n   database: app`      => line 3: bad indentation: expected 2 spaces, found 3",
        "`readsplit:\n    primary: db1\n  database: app`    => line 3: bad indentation: expected 0 spaces, found 2",
        "`readsplit:\n\tprimary: db1`                       => line 2: tabs are not allowed in indentation; use spaces",
        "`readsplit:\n  primary: {host: db1}`               => line 2: flow maps ({...}) are not supported; use indentation",
        "`readsplit:\n  primary: |\n    db1`               => line 2: block scalars (| and >) are not supported",
        "`readsplit:\n  primary: &p db1`                    => line 2: anchors and aliases (& and *) are not supported",
        "`readsplit:\n  primary: !!str db1`                 => line 2: tags (!) are not supported",
        "`readsplit:\n  replicas:\n    - host: db2`         => line 3: only lists of scalars are supported under 'readsplit.replicas'",
        "`readsplit:\n  replicas: [db2, [db3]]`             => line 2: nested lists and maps are not supported in an inline list",
        "`readsplit:\n  replicas: [db2, db3`                => line 2: an inline list must end with ']' on the same line",
        "`readsplit:\n  primary: db1\n  primary: db2`       => line 3: duplicate key 'primary' (first at line 2)",
        "`readsplit:\n  primary db1`                        => line 2: expected 'key: value' or 'key:' (a space must follow the colon)",
        "`readsplit:\n  primary: \"db1`                     => line 2: unclosed double quote",
        "`readsplit:\n  primary: 'db1' x`                   => line 2: unexpected text after the closing quote",
        "`readsplit:\n  primary: a: b`                      => line 2: a value must not contain ': ' unless quoted (nested maps go on their own lines)",
        "`- readsplit`                                      => line 1: the top level must be a map (key: value), not a list",
        "`  readsplit:`                                     => line 1: the first key must not be indented",
        "`readsplit:\n  primary: db1\n---\nx: 1`            => line 3: only one YAML document is supported",
    })
    void outsideTheSubsetIsAnErrorWithTheLine(String yaml, String message) throws IOException {
        Path f = dir.resolve("bad.yml");
        Files.writeString(f, yaml);
        ConfigException e = fail(f);
        assertThat(e.getMessage()).isEqualTo(f + ": " + message);
    }

    @Test
    void yamlWithoutReadsplitSection() throws IOException {
        Path f = write("app.yml", "spring:", "  datasource: x");
        assertThat(fail(f).getMessage()).startsWith(f + ": expected a top-level 'readsplit:' map");
        Path g = write("app2.yml", "readsplit: db1");
        assertThat(fail(g).getMessage()).startsWith(g + ": line 1: expected a top-level 'readsplit:' map");
    }

    @Test
    void miniYamlScalarsAndInlineLists() throws Exception {
        MiniYaml.Document d = MiniYaml.parse(String.join("\n",
                "a: plain value # comment",
                "b: \"esc \\\\ \\n \\t \\u00e9\"",
                "c: 'it''s'",
                "d: [x, 'y, z', \"w\"]",
                "e: []",
                "f: key#not-comment",
                "g:",
                "  h:",
                "    i: deep",
                "j:"));
        Map<String, Object> r = d.root();
        assertThat(r.get("a")).isEqualTo("plain value");
        assertThat(r.get("b")).isEqualTo("esc \\ \n \t \u00e9");
        assertThat(r.get("c")).isEqualTo("it's");
        assertThat(r.get("d")).isEqualTo(List.of("x", "y, z", "w"));
        assertThat(r.get("e")).isEqualTo(List.of());
        assertThat(r.get("f")).isEqualTo("key#not-comment");
        assertThat(r.get("g")).isEqualTo(Map.of("h", Map.of("i", "deep")));
        assertThat(r.containsKey("j")).isTrue();
        assertThat(r.get("j")).isNull();
        assertThat(d.keyLines()).containsEntry("g.h.i", 9).containsEntry("a", 1);
    }

    @Test
    void emptyYamlFileHasNoReadsplitSection() throws IOException {
        Path f = write("empty.yml", "# nothing here");
        assertThat(fail(f).getMessage()).contains("expected a top-level 'readsplit:' map");
    }

    // ---- .properties -----------------------------------------------------------------------------------------

    @Test
    void propertiesFile() throws IOException {
        ReadsplitConfig c = ReadsplitConfig.fromFile(write("readsplit.properties",
                "# comment",
                "readsplit.primary=db1:5432",
                "readsplit.replicas=db2, db3:5433",
                "readsplit.password=" + PASSWORD,
                "readsplit.consistency=strong",
                "unrelated.key=ignored"));
        assertThat(c.primary().address()).isEqualTo("db1:5432");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("db2:5432", "db3:5433");
        assertThat(c.consistency()).isEqualTo(Consistency.strong());
    }

    @Test
    void propertiesFileErrorsNameFileAndLine() throws IOException {
        Path f = write("readsplit.properties",
                "readsplit.primary=db1",
                "readsplit.password=" + PASSWORD,
                "readsplit.maxLga = 1s");
        ConfigException e = fail(f);
        assertThat(e.getMessage()).isEqualTo(f + ": line 3: unknown key readsplit.maxLga \u2014 did you mean "
                + "readsplit.maxLag?");
    }

    @Test
    void unsupportedExtensionAndMissingFile() {
        assertThat(fail(dir.resolve("config.json")).getMessage()).contains("must end in .properties, .yml or .yaml");
        assertThat(fail(dir.resolve("missing.yml")).getMessage()).startsWith("cannot read config file ")
                .contains("missing.yml");
    }
}

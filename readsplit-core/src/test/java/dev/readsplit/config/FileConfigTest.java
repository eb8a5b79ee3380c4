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
        return fail(file, Map.of());
    }

    ConfigException fail(Path file, Map<String, String> env) {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromFile(file, env));
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
        assertThat(c.routing().consistency()).isEqualTo(Consistency.readYourWrites());
        assertThat(c.health().interval()).isEqualTo(Duration.ofSeconds(1));
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
        assertThat(c.routing().writeFunctions()).containsExactly("audit_log", "bump");
        assertThat(c.primary().password().reveal()).isEqualTo("p\"w#1");
        assertThat(c.primary().jdbcProperties()).containsEntry("sslmode", "require");
        assertThat(c.routing().localZone()).isNull();
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

    /**
     * Malformed YAML, and the YAML Readsplit refuses because it would otherwise misread it silently (aliases are
     * read as the anchor's name by the YAML library, a tag like {@code !vault} would be dropped): each is an
     * error naming the file and the line.
     */
    @ParameterizedTest
    @CsvSource(delimiterString = "=>", quoteCharacter = '`', value = {
        "`readsplit:\n  primary: db1\n   database: app`      => line 3: a value must not contain ': ' unless quoted, and a nested key must be indented under its parent (bad indentation?)",
        "`readsplit:\n    primary: db1\n  database: app`    => line 3: bad indentation: this key is not aligned with the keys before it",
        "`readsplit:\n\tprimary: db1`                       => line 2: tabs are not allowed in indentation; use spaces",
        "`readsplit:\n  primary: &p db1\n  user: *p`        => line 3: aliases (*name) are not supported: the value would be the anchor's name, not what it anchors",
        "`readsplit:\n  primary: !!str db1`                 => line 2: tags (!) are not supported",
        "`readsplit:\n  password: !vault db_password`       => line 2: tags (!) are not supported",
        "`readsplit:\n  primary: db1\n  replicas: [db2, [db3]]` => line 3: readsplit.replicas[1] must be host[:port] or a map of node settings (host: ..., port: ...), not a list",
        "`readsplit:\n  writeFunctions: [f, {g: 1}]`        => line 2: only lists of single values are supported under 'readsplit.writeFunctions'",
        "`readsplit:\n  replicas: [db2, db3`                => line 2: an inline list [...] must end with ']'",
        "`readsplit:\n  primary: db1\n  primary: db2`       => line 3: duplicate key 'primary' (first at line 2)",
        "`readsplit:\n  primary: \"db1`                     => line 2: unclosed double quote",
        "`readsplit:\n  primary: 'db1`                      => line 2: unclosed single quote",
        "`readsplit:\n  primary: 'db1' x`                   => line 2: unexpected text after a value (after a closing quote, or a key without ': ')",
        "`readsplit:\n  primary: a: b`                      => line 2: a value must not contain ': ' unless quoted, and a nested key must be indented under its parent (bad indentation?)",
        "`- readsplit`                                      => line 1: the top level must be a map (key: value), not a list",
        "`readsplit:\n  primary: db1\n---\nx: 1`            => line 3: only one YAML document is supported",
    })
    void malformedOrMisreadableYamlIsAnErrorWithTheLine(String yaml, String message) throws IOException {
        Path f = dir.resolve("bad.yml");
        Files.writeString(f, yaml);
        ConfigException e = fail(f);
        assertThat(e.getMessage()).isEqualTo(f + ": " + message);
    }

    @Test
    void aKeyWithoutASpaceAfterItsColonIsNotTakenAsASetting() throws IOException {
        Path f = dir.resolve("bad.yml");
        Files.writeString(f, "readsplit:\n  primary db1");
        assertThat(fail(f).getMessage()).isEqualTo(f + ": line 1: expected a top-level 'readsplit:' map holding "
                + "the settings (readsplit:\\n  primary: db1:5432 ...) (found a single value: is a space missing after"
                + " a colon?)");
        Path g = dir.resolve("indented.yml");
        Files.writeString(g, "  readsplit:");
        assertThat(fail(g).getMessage()).startsWith(g + ": line 1: expected a top-level 'readsplit:' map");
    }

    /** YAML the old hand-written subset refused and the YAML library reads: flow maps, block scalars, node maps. */
    @Test
    void flowMapsBlockScalarsAndNodeMapsAreYaml() throws IOException {
        ReadsplitConfig c = ReadsplitConfig.fromFile(write("app.yml",
                "readsplit:",
                "  primary: &p {host: db1, port: 5433}   # an anchor alone is harmless",
                "  name: |-",
                "    orders",
                "  replicas:",
                "    - host: db2",
                "      zone: eu-1a",
                "    - {host: db3, region: eu-1b, weight: 3}",
                "    - db4:5434;zone=eu-1c"), Map.of());
        assertThat(c.primary().address()).isEqualTo("db1:5433");
        assertThat(c.name()).isEqualTo("orders");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("db2:5432", "db3:5432", "db4:5434");
        assertThat(c.replicas()).extracting(NodeConfig::zone).containsExactly("eu-1a", "eu-1b", "eu-1c");
        assertThat(c.replicas().get(1).weight()).isEqualTo(3);
    }

    @Test
    void yamlWithoutReadsplitSection() throws IOException {
        Path f = write("app.yml", "spring:", "  datasource: x");
        assertThat(fail(f).getMessage()).startsWith(f + ": expected a top-level 'readsplit:' map");
        Path g = write("app2.yml", "readsplit: db1");
        assertThat(fail(g).getMessage()).startsWith(g + ": line 1: expected a top-level 'readsplit:' map");
    }

    @Test
    void yamlScalarsStayTextAndEveryKeyAndItemHasItsLine() throws Exception {
        ConfigYaml.Document d = ConfigYaml.parse(String.join("\n",
                "a: plain value # comment",
                "b: \"esc \\\\ \\n \\t \\u00e9\"",
                "c: 'it''s'",
                "d: [x, 'y, z', \"w\"]",
                "e: []",
                "f: key#not-comment",
                "g:",
                "  h:",
                "    i: deep",
                "j:",
                "k: 0123",
                "l: yes",
                "m: 5432"));
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
        assertThat(r.get("k")).as("a leading zero is not an octal number here").isEqualTo("0123");
        assertThat(r.get("l")).as("yes is not turned into true").isEqualTo("yes");
        assertThat(r.get("m")).isEqualTo("5432");
        assertThat(d.keyLines()).containsEntry("g.h.i", 9).containsEntry("a", 1).containsEntry("d[1]", 4);
    }

    @Test
    void emptyYamlFileHasNoReadsplitSection() throws IOException {
        Path f = write("empty.yml", "# nothing here");
        assertThat(fail(f).getMessage()).contains("expected a top-level 'readsplit:' map");
    }

    // ---- ${ENV_VAR} placeholders -------------------------------------------------------------------------------

    @Test
    void yamlTakesItsPasswordFromTheEnvironment() throws IOException {
        Path f = write("app.yml",
                "readsplit:",
                "  primary: ${DB_HOST}:${DB_PORT:5432}",
                "  user: app",
                "  password: ${DB_PASSWORD}",
                "  replicas:",
                "    - host: db2",
                "      password: ${REPLICA_PASSWORD:fallback-pw}",
                "  adminToken: tok-$${literal}");
        ReadsplitConfig c = ReadsplitConfig.fromFile(f, Map.of("DB_HOST", "db1", "DB_PASSWORD", PASSWORD));
        assertThat(c.primary().address()).isEqualTo("db1:5432");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.replicas().get(0).password().reveal()).isEqualTo("fallback-pw");
        assertThat(c.adminToken().reveal()).isEqualTo("tok-${literal}");
        assertThat(c.toString()).doesNotContain(PASSWORD);
    }

    @Test
    void aMissingVariableNamesTheKeyTheVariableAndTheLineButNoValue() throws IOException {
        Path f = write("app.yml",
                "readsplit:",
                "  primary: db1",
                "  password: prefix-S3cret-${DB_PASSWORD}",
                "  replicas:",
                "    - host: db2",
                "      password: ${REPLICA_PW}");
        ConfigException e = fail(f, Map.of());
        assertThat(e.problems()).extracting(ConfigException.Problem::message).containsExactly(
                f + ": line 3: readsplit.password: environment variable DB_PASSWORD is not set (from ${DB_PASSWORD};"
                        + " set it, or give a default with ${DB_PASSWORD:default})",
                f + ": line 6: readsplit.replicas[0].password: environment variable REPLICA_PW is not set (from "
                        + "${REPLICA_PW}; set it, or give a default with ${REPLICA_PW:default})");
    }

    @Test
    void malformedPlaceholdersAreErrorsThatDoNotEchoASecret() throws IOException {
        Path f = write("app.yml",
                "readsplit:",
                "  primary: db1",
                "  password: S3cret-${not a name}",
                "  database: ${DB");
        ConfigException e = fail(f, Map.of());
        assertThat(e.problems()).extracting(ConfigException.Problem::message).containsExactly(
                f + ": line 4: readsplit.database has an unclosed placeholder '${' (expected ${VAR} or ${VAR:default};"
                        + " write $${ for a literal ${)",
                f + ": line 3: readsplit.password has an invalid placeholder: '****' (expected ${VAR} or "
                        + "${VAR:default}, VAR made of letters, digits and _)");
    }

    @Test
    void propertiesFilesTakePlaceholdersToo() throws IOException {
        Path f = write("readsplit.properties",
                "readsplit.primary=db1",
                "readsplit.password=${DB_PASSWORD}",
                "readsplit.maxLag=${MAX_LAG:3s}");
        ReadsplitConfig c = ReadsplitConfig.fromFile(f, Map.of("DB_PASSWORD", PASSWORD));
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.lag().maxLag()).isEqualTo(Duration.ofSeconds(3));
        ConfigException e = fail(f, Map.of());
        assertThat(e.getMessage()).isEqualTo(f + ": line 2: readsplit.password: environment variable DB_PASSWORD is"
                + " not set (from ${DB_PASSWORD}; set it, or give a default with ${DB_PASSWORD:default})");
    }

    @Test
    void nodeMapErrorsNameTheFieldAndItsLine() throws IOException {
        Path f = write("app.yml",
                "readsplit:",
                "  primary: db1",
                "  replicas:",
                "    - host: db2",
                "      port: 70000",
                "    - host: db3",
                "      colour: blue",
                "      password: " + PASSWORD,
                "      maxPoolSize: 0");
        ConfigException e = fail(f);
        assertThat(e.problems()).extracting(ConfigException.Problem::message).containsExactly(
                f + ": line 5: readsplit.replicas[0].port must be an integer in 1..65535: got \"70000\"",
                f + ": line 6: readsplit.replicas[1] has an unknown field \"colour\" (expected " + NodeFields.FIELDS + ")",
                f + ": line 9: readsplit.replicas[1].maxPoolSize must be an integer in 1..10000: got \"0\"");
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
        assertThat(c.routing().consistency()).isEqualTo(Consistency.strong());
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

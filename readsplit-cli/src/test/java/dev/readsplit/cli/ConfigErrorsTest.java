package dev.readsplit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Invalid configuration from each source: exit 2, every problem reported, the password never shown. */
class ConfigErrorsTest {

    static final String PASSWORD = "Zq9-Very-Distinct-Pw";

    @TempDir
    Path dir;

    @Test
    void urlWithSeveralBadValues() {
        Cli r = Cli.run("check", "--url", "jdbc:readsplit:postgresql://db1:5432,db2/app?password=" + PASSWORD
                + "&healthCheckInterval=-5s&balancer=bogus&failureThreshold=0");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("invalid configuration (3 problems)")
                .contains("healthCheckInterval must be positive")
                .contains("balancer must be one of").contains("'bogus'")
                .contains("failureThreshold must be at least 1: 0")
                .contains("password=****");
        assertThat(r.all()).doesNotContain(PASSWORD);
    }

    @Test
    void yamlFileWithSeveralBadValues() throws IOException {
        Path f = dir.resolve("readsplit.yml");
        Files.writeString(f, "readsplit:\n  primary: db1:5432\n  password: " + PASSWORD + "\n"
                + "  replicas: [ \"r1:70000\" ]\n  healthCheckInterval: soon\n  consistency: sometimes\n");
        Cli r = Cli.run("check", "--config", f.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("invalid configuration (3 problems)")
                .contains("line 4").contains("70000")
                .contains("line 5").contains("'soon'")
                .contains("line 6").contains("'sometimes'");
        assertThat(r.all()).doesNotContain(PASSWORD);
    }

    @Test
    void environmentWithSeveralBadValues() {
        Cli r = Cli.run(Map.of("DB_HOST", "db", "DB_PORT", "abc", "DB_PASSWORD", PASSWORD, "DB_POOL_MAX", "-1",
                "DB_REPLICAS", "[{\"host\":\"r1\",\"port\":\"x\",\"password\":\"" + PASSWORD + "\"}]"), "check");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("DB_PORT must be a port number in 1..65535: 'abc'")
                .contains("DB_REPLICAS[0].port").contains("DB_POOL_MAX");
        assertThat(r.all()).doesNotContain(PASSWORD);
    }

    @Test
    void badDatabaseUrlIsMasked() {
        Cli r = Cli.run("check", "--url", "mysql://app:" + PASSWORD + "@db/app");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("url must be").contains("mysql://app:****@db/app");
        assertThat(r.all()).doesNotContain(PASSWORD);
    }

    @Test
    void noConfigurationAtAllSaysWhatToSet() {
        Cli r = Cli.run(Map.of(), "check");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("no primary configured").contains("DB_HOST").contains("DATABASE_URL");
    }

    @Test
    void badOptionValuesAreUsageErrors() {
        assertThat(Cli.run("check", "--timeout", "soon", "--url", "postgresql://h/db").exitCode()).isEqualTo(2);
        assertThat(Cli.run("demo", "--replicas", "-1").exitCode()).isEqualTo(2);
        assertThat(Cli.run("demo", "--chaos=sometimes").exitCode()).isEqualTo(2);
        assertThat(Cli.run("demo", "--write-ratio", "1.5").exitCode()).isEqualTo(2);
        assertThat(Cli.run("nosuchcommand").exitCode()).isEqualTo(2);
    }

    @Test
    void everyCommandHasHelp() {
        for (String cmd : new String[] {"demo", "check", "classify"}) {
            Cli r = Cli.run(cmd, "--help");
            assertThat(r.exitCode()).as(cmd).isZero();
            assertThat(r.out()).as(cmd).contains("Usage: readsplit " + cmd);
        }
        Cli top = Cli.run("--help");
        assertThat(top.out()).contains("demo").contains("check").contains("classify").contains("Exit codes");
    }
}

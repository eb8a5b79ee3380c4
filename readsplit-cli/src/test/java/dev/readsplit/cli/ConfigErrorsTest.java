package dev.readsplit.cli;

import dev.readsplit.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    /** 1,000 and 5,000 copies of one host: one problem, named once, bounded output, exit 2 (was 1 GB, then OOM). */
    @ParameterizedTest
    @ValueSource(ints = {1000, 5000})
    void manyCopiesOfOneHostAreOneProblem(int copies) {
        String hosts = String.join(",", java.util.Collections.nCopies(copies, "h:5432"));
        Cli r = Cli.run("check", "--url", "jdbc:readsplit:postgresql://" + hosts + "/db?password=" + PASSWORD);
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("invalid configuration (1 problem)")
                .contains("duplicate node h:5432: primary, replicas[0], replicas[1], replicas[2], replicas[3] and "
                        + (copies - 5) + " more (" + copies + " in all)");
        assertThat(r.err().split("duplicate node", -1)).hasSize(2);
        assertThat(r.err().length()).isLessThan(2_000);
        assertThat(r.all()).doesNotContain(PASSWORD).doesNotContain("Exception");
    }

    @Test
    void problemsAreCappedInCountAndSizeAndRepeatsCounted() {
        List<ConfigException.Problem> problems = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            problems.add(new ConfigException.Problem("k" + i, "k" + i + " is wrong: '" + "x".repeat(5000) + "'"));
        }
        problems.add(new ConfigException.Problem("k0", problems.get(0).message()));
        java.io.StringWriter out = new java.io.StringWriter();
        ReadsplitCommand.reportConfigProblems(new java.io.PrintWriter(out, true), new ConfigException(problems));
        String text = out.toString();
        assertThat(text).startsWith("readsplit: invalid configuration (50 problems):")
                .contains("  ... and 30 more").contains("(2 times)").contains("more characters)");
        assertThat(text.lines().count()).isEqualTo(22);
        assertThat(text.length()).isLessThan(20 * 600);
    }

    @Test
    void durationsAreRangeCheckedWithExit2() {
        Cli huge = Cli.run("check", "--timeout", "999999999h", "--url", "postgresql://h/db");
        assertThat(huge.exitCode()).isEqualTo(2);
        assertThat(huge.err()).contains("--timeout must be between 1s and 1h: 999999999h").doesNotContain("Exception");
        Cli zero = Cli.run("check", "--timeout", "0s", "--url", "postgresql://h/db");
        assertThat(zero.exitCode()).isEqualTo(2);
        assertThat(zero.err()).contains("duration must be greater than zero: '0s'");
        Cli overflow = Cli.run("check", "--timeout", "999999999999999999d", "--url", "postgresql://h/db");
        assertThat(overflow.exitCode()).isEqualTo(2);
        assertThat(overflow.err()).contains("duration too large: '999999999999999999d'");
        Cli digits = Cli.run("check", "--timeout", "99999999999999999999s", "--url", "postgresql://h/db");
        assertThat(digits.exitCode()).isEqualTo(2);
        assertThat(digits.err()).contains("not a duration: '99999999999999999999s'");
        Cli demo = Cli.run("demo", "--duration", "999999999h");
        assertThat(demo.exitCode()).isEqualTo(2);
        assertThat(demo.err()).contains("--duration must be between 1s and 30d: 999999999h");
        assertThat(Cli.run("demo", "--duration", "500ms").err()).contains("--duration must be between 1s and 30d");
    }

    /** Checked before anything starts: no cluster is started for a port that cannot be bound. */
    @Test
    void optionRangesAreCheckedBeforeTheClusterStarts() {
        for (String[] args : new String[][] {{"--admin-port", "70000"}, {"--admin-port", "-1"}, {"--sessions", "0"},
            {"--sessions", "257"}, {"--replicas", "11"}}) {
            Cli r = Cli.run("demo", args[0], args[1]);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).contains(args[0] + " must be between");
            assertThat(r.all()).doesNotContain("Starting PostgreSQL");
        }
    }

    @Test
    void signalExitCodesAreDocumented() {
        Cli top = Cli.run("--help");
        assertThat(top.out()).contains("130").contains("SIGINT").contains("143").contains("SIGTERM");
        Cli demo = Cli.run("demo", "--help");
        assertThat(demo.out()).contains("130").contains("143").contains("SIGTERM");
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

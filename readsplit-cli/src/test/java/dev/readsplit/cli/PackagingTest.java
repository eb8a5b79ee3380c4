package dev.readsplit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19: {@code --version} prints the build's version (it printed "development build"), and {@code bench}
 * without the benchmark jar (its peers are no longer shaded into this jar) says which jar to run.
 */
class PackagingTest {

    @Test
    void versionIsTheBuildsVersion() {
        Cli r = Cli.run("--version");
        assertThat(r.exitCode()).isZero();
        String expected = System.getProperty("readsplit.expected.version");
        assertThat(r.out()).startsWith("readsplit ").doesNotContain("development build").doesNotContain("${");
        if (expected != null) {
            assertThat(r.out()).startsWith("readsplit " + expected + "\n");
        }
        assertThat(r.out().lines().findFirst().orElseThrow()).matches("readsplit \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
    }

    @Test
    void benchWithoutItsJarSaysWhichJarToRun(@TempDir Path dir) {
        Cli r = Cli.run(Map.of("READSPLIT_BENCH_JAR", dir.resolve("missing.jar").toString()), "bench", "--quick");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("readsplit-bench's own jar")
                .contains("java -cp readsplit-bench/target/benchmarks.jar dev.readsplit.bench.MacroBenchmark --quick");
    }

    @Test
    void benchJarIsFoundByOptionVariableOrTheSourceTree(@TempDir Path dir) throws IOException {
        Path jar = Files.createFile(dir.resolve("benchmarks.jar"));
        assertThat(BenchCommand.locate(jar, Map.of(), null)).isEqualTo(jar);
        assertThat(BenchCommand.locate(null, Map.of("READSPLIT_BENCH_JAR", jar.toString()), null)).isEqualTo(jar);
        Path tree = dir.resolve("src");
        Path built = Files.createDirectories(tree.resolve("readsplit-bench/target")).resolve("benchmarks.jar");
        Files.createFile(built);
        Path cliJar = Files.createDirectories(tree.resolve("readsplit-cli/target")).resolve("readsplit.jar");
        assertThat(BenchCommand.locate(null, Map.of(), cliJar)).isEqualTo(built);
        assertThat(BenchCommand.locate(dir.resolve("nope.jar"), Map.of(), cliJar)).isNull();
    }
}

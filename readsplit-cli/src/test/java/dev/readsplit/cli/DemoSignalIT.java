package dev.readsplit.cli;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The demo stopped by a signal, as a shell or a service manager stops it (issue 18): in its own JVM, a real
 * cluster, then SIGTERM or SIGINT. It prints which signal stopped it (SIGTERM never says "Ctrl-C"), the summary,
 * stops the cluster, and exits with 143 or 130, the codes {@code --help} documents.
 */
class DemoSignalIT {

    @Test
    void sigtermStopsWithTheSummaryAndExit143() throws Exception {
        Run run = startDemo();
        // kill(1), not Process.destroy(): destroy() also closes this side of the demo's output
        signal(run, "-TERM");
        String out = run.finish();
        assertThat(run.process.exitValue()).as(out).isEqualTo(143);
        assertThat(out).contains("Stopping (SIGTERM) ...").doesNotContain("Ctrl-C)")
                .contains("Summary:").contains("Cluster stopped: no server process or directory left behind.");
    }

    @Test
    void sigintStopsWithTheSummaryAndExit130() throws Exception {
        Run run = startDemo();
        signal(run, "-INT");
        String out = run.finish();
        assertThat(run.process.exitValue()).as(out).isEqualTo(130);
        assertThat(out).contains("Stopping (SIGINT, Ctrl-C) ...")
                .contains("Summary:").contains("Cluster stopped: no server process or directory left behind.");
    }

    private static void signal(Run run, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", signal, Long.toString(run.process.pid())).inheritIO().start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(kill.exitValue()).isZero();
    }

    private record Run(Process process, StringBuilder output, CompletableFuture<Void> reader) {
        String finish() throws Exception {
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the demo did not stop within 120 s:\n" + output);
            }
            reader.get(10, TimeUnit.SECONDS);
            synchronized (output) {
                return output.toString();
            }
        }
    }

    /** The demo in its own JVM, on this test's class path; returns once it has run two seconds of traffic. */
    private static Run startDemo() throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // env --default-signal=INT (GNU coreutils): a build started in the background by a shell without job control
        // (`cmd &` in a script) ignores SIGINT, the ignore is inherited, and a JVM does not handle a signal ignored at
        // its start: the demo would rightly not stop on SIGINT, and this test would test the environment
        Process p = new ProcessBuilder(List.of("env", "--default-signal=INT", java, "-cp",
                System.getProperty("java.class.path"),
                "dev.readsplit.cli.ReadsplitCommand", "demo", "--replicas", "1", "--sessions", "2", "--plain"))
                .redirectErrorStream(true).start();
        StringBuilder output = new StringBuilder();
        CompletableFuture<Void> running = new CompletableFuture<>();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    synchronized (output) {
                        output.append(line).append('\n');
                    }
                    if (line.startsWith("[   2s]")) {
                        running.complete(null);
                    }
                }
            } catch (IOException e) {
                running.completeExceptionally(e);
            }
            running.complete(null);
        });
        try {
            running.get(180, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new AssertionError("the demo did not start:\n" + output, e);
        }
        if (!p.isAlive()) {
            throw new AssertionError("the demo ended before the signal:\n" + output);
        }
        return new Run(p, output, reader);
    }
}

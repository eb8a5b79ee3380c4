package dev.readsplit.bench;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code readsplit bench} passes its options to {@link MacroBenchmark}: each numeric option is range-checked before
 * anything starts, and a bad value is a usage error (exit 2) naming the option, never a bare NumberFormatException
 * message ("For input string") or a cluster started for nothing.
 */
class MacroBenchmarkOptionsTest {

    @ParameterizedTest
    @CsvSource({
            "--rounds, -1, --rounds must be from 1 to 1000: -1",
            "--rounds, abc, --rounds must be a whole number from 1 to 1000: 'abc'",
            "--seconds, 0, --seconds must be from 1 to 86400: 0",
            "--seconds, 999999999999h, --seconds must be a whole number from 1 to 86400: '999999999999h'",
            "--threads, 99999999999, --threads must be from 1 to 1024: 99999999999",
            "--warmup, 7200, --warmup must be from 1 to 3600: 7200",
            "--connections-per-node, 500, --connections-per-node must be from 1 to 80: 500",
    })
    void aBadNumberIsAUsageErrorNamingTheOption(String option, String value, String message) throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = MacroBenchmark.execute(option, value);
        } finally {
            System.setErr(err);
        }
        assertThat(code).isEqualTo(2);
        assertThat(captured.toString(StandardCharsets.UTF_8)).contains(message).doesNotContain("For input string");
    }
}

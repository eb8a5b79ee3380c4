package dev.readsplit.jdbc;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The committed generated delegates are what {@link DelegateGenerator} writes (with {@code -Dreadsplit.regenerate=true}
 * it rewrites them instead), so a hand edit or a JDBC API change cannot go unnoticed.
 */
class GeneratedDelegatesTest {

    private static final Path DIR = Path.of("src/main/java/dev/readsplit/jdbc");

    @Test
    void logicalResultSetIsGenerated() throws IOException {
        check("LogicalResultSet.java", DelegateGenerator.resultSet());
    }

    @Test
    void preparedStatementBindingsAreGenerated() throws IOException {
        check("PreparedStatementBindings.java", DelegateGenerator.preparedBindings());
    }

    private static void check(String file, String expected) throws IOException {
        Path p = DIR.resolve(file);
        if (Boolean.getBoolean("readsplit.regenerate")) {
            Files.writeString(p, expected, StandardCharsets.UTF_8);
        }
        assertThat(Files.readString(p, StandardCharsets.UTF_8))
                .as(file + " differs from DelegateGenerator's output; regenerate (see DelegateGenerator's Javadoc)")
                .isEqualTo(expected);
    }
}

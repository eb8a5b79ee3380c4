package dev.readsplit.sql;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The classifier's two safety properties, checked against an independent oracle ({@link WriteOracle}):
 * it never throws, and it never calls "read" a text that contains a data-modifying keyword, a locking clause
 * or a write-capable function outside comments and literals.
 *
 * <ul>
 *   <li>{@link #generatedStatements()}: 200,000 statements built from a grammar of read statements with
 *       writes, comments, literals and quoted identifiers spliced in at random places (fixed seed).</li>
 *   <li>{@link #fuzz(FuzzedDataProvider)}: Jazzer, coverage-guided. Under plain {@code mvn verify} it replays
 *       its corpus ({@code src/test/resources/dev/readsplit/sql/ClassifierPropertyTestInputs/fuzz}) as a
 *       regression test; fuzz for real with
 *       {@code JAZZER_FUZZ=1 mvn -pl readsplit-core test -Dtest=ClassifierPropertyTest#fuzz} (30 s by default;
 *       {@code -Djazzer.max_duration=10m} for longer). Crashes it finds are written to that directory and
 *       become regression inputs once committed.</li>
 * </ul>
 */
class ClassifierPropertyTest {

    private static final SqlClassifier CLASSIFIER = SqlClassifier.defaults();

    private static final List<String> READS = List.of(
            "SELECT a, b FROM t WHERE id = $1", "SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id",
            "VALUES (1, 'x')", "TABLE accounts", "SHOW search_path", "EXPLAIN SELECT * FROM t",
            "WITH x AS (SELECT 1) SELECT * FROM x", "(SELECT 1) UNION (SELECT 2)", "SELECT now(), random()",
            "SELECT * FROM t ORDER BY a LIMIT 10 OFFSET 5", "SELECT coalesce(a, 'b') FROM t WHERE a IN (1, 2)");
    private static final List<String> WRITES = List.of(
            " INSERT INTO t VALUES (1) ", " UPDATE t SET a = 1 ", " DELETE FROM t ", " FOR UPDATE ", " FOR SHARE ",
            " FOR NO KEY UPDATE ", " FOR KEY SHARE SKIP LOCKED ", " INTO newtable ", " nextval('s') ", " setval('s', 1) ",
            " pg_advisory_lock(1) ", " lo_unlink(1) ", " pg_notify('c', 'p') ", " set_config('a', 'b', false) ",
            "; DROP TABLE t", "; CREATE TABLE t (a int)", "; TRUNCATE t", " MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE ");
    private static final List<String> HIDERS = List.of(
            "/* %s */", "-- %s\n", "'%s'", "E'%s'", "$$%s$$", "$tag$%s$tag$", "\"%s\"", "/* outer /* %s */ still */", "U&'%s'");
    private static final List<String> NOISE = List.of(
            " ", "\n", "\t", "/**/", "--\n", "''", "E'\\''", "$$ $$", "\"\"", "(", ")", ",", "1", "x", "$1", "::text", "'it''s'");

    @Test
    void generatedStatements() {
        SplittableRandom random = new SplittableRandom(20261122);
        int reads = 0;
        for (int i = 0; i < 200_000; i++) {
            String sql = generate(random);
            Classification c = CLASSIFIER.classify(sql);
            if (c.isRead()) {
                reads++;
                assertThat(WriteOracle.containsWrite(sql)).as("classified as a read: %s", sql).isFalse();
            }
        }
        // the generator must also produce reads, or the property would hold vacuously
        assertThat(reads).isGreaterThan(20_000);
    }

    private static String generate(SplittableRandom r) {
        StringBuilder sb = new StringBuilder(pick(r, READS));
        int edits = r.nextInt(4);
        for (int e = 0; e < edits; e++) {
            String piece = switch (r.nextInt(4)) {
                case 0 -> pick(r, WRITES);                                     // a real write
                case 1 -> String.format(pick(r, HIDERS), pick(r, WRITES).replace("'", "''").replace("$", "")); // a hidden one
                case 2 -> pick(r, NOISE);
                default -> String.format(pick(r, HIDERS), pick(r, NOISE).replace("'", "''").replace("$", ""));
            };
            int at = r.nextInt(sb.length() + 1);
            sb.insert(at, piece);
        }
        return sb.toString();
    }

    private static String pick(SplittableRandom r, List<String> from) {
        return from.get(r.nextInt(from.size()));
    }

    @Test
    void theOracleItselfSeesWritesAndIgnoresHiddenOnes() {
        assertThat(WriteOracle.containsWrite("SELECT 1 /* DELETE */")).isFalse();
        assertThat(WriteOracle.containsWrite("SELECT 'DELETE FROM t'")).isFalse();
        assertThat(WriteOracle.containsWrite("SELECT $x$ ; DROP TABLE t $x$")).isFalse();
        assertThat(WriteOracle.containsWrite("SELECT \"update\" FROM t")).isFalse();
        assertThat(WriteOracle.containsWrite("SELECT * FROM t FOR UPDATE")).isTrue();
        assertThat(WriteOracle.containsWrite("SELECT nextval('s')")).isTrue();
        assertThat(WriteOracle.containsWrite("SELECT 1; DROP TABLE t")).isTrue();
        assertThat(WriteOracle.containsWrite("SELECT 1 /* unterminated")).isTrue();
        assertThat(WriteOracle.containsWrite("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d")).isTrue();
    }

    @FuzzTest(maxDuration = "30s")
    void fuzz(FuzzedDataProvider data) {
        String sql = data.consumeRemainingAsString();
        Classification c = CLASSIFIER.classify(sql);
        if (c.isRead() && WriteOracle.containsWrite(sql)) {
            throw new AssertionError("classified as a read but contains a write: " + sql);
        }
    }
}

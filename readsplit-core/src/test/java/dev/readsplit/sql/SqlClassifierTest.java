package dev.readsplit.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class SqlClassifierTest {

    private static final SqlClassifier CLASSIFIER = SqlClassifier.defaults();

    // ------------------------------------------------------------------ the table

    static Stream<Arguments> cases() throws IOException {
        List<Arguments> out = new ArrayList<>();
        try (InputStream in = SqlClassifierTest.class.getResourceAsStream("/classifier-cases.tsv");
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            int lineNo = 0;
            while ((line = r.readLine()) != null) {
                lineNo++;
                if (line.startsWith("#") || line.isBlank() && !line.contains("\t")) {
                    continue;
                }
                String[] cols = line.split("\t", 4);
                if (cols.length != 4) {
                    throw new IllegalStateException("classifier-cases.tsv:" + lineNo + ": expected 4 columns: " + line);
                }
                out.add(Arguments.of(lineNo, cols[0], Reason.valueOf(cols[1]),
                        "-".equals(cols[2]) ? SessionEffect.NONE : SessionEffect.valueOf(cols[2]), unescape(cols[3])));
            }
        }
        assertThat(out).hasSizeGreaterThanOrEqualTo(170);
        return out.stream();
    }

    private static String unescape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char e = s.charAt(++i);
                sb.append(e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e);
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    @ParameterizedTest(name = "line {0}: {1} {2} {3} <{4}>")
    @MethodSource("cases")
    void classifiesTheCaseTable(int line, String expected, Reason reason, SessionEffect effect, String sql) {
        Classification c = CLASSIFIER.classify(sql);
        assertThat(c.isRead()).as("read? %s", c).isEqualTo("read".equals(expected));
        assertThat(c.reason()).as("reason of %s", c).isEqualTo(reason);
        assertThat(c.sessionEffect()).as("effect of %s", c).isEqualTo(effect);
        if (!c.isRead()) {
            assertThat(c.userFunctions()).isEmpty();
        }
    }

    // ------------------------------------------------------------------ the query scan's fast paths

    /**
     * The query scan only compares a word with its keywords when the word has 3 to 6 characters and starts with
     * one of their initials (i, u, d, m, f, any case); its findings are bits of one state word, combined at the
     * end by precedence (pin, data-modifying CTE, write, INTO, locking clause, write function). A pre-filter that
     * let a keyword through wrongly, or dropped one, or a wrong precedence, fails a row here.
     */
    @ParameterizedTest(name = "<{0}> -> {1}")
    @CsvSource(delimiter = '|', value = {
        // every keyword, in every case, where it counts
        "SELECT a FROM t FOR UPDATE                                          | LOCKING_CLAUSE",
        "select a from t for update                                          | LOCKING_CLAUSE",
        "SELECT a FROM t FoR sHaRe                                           | LOCKING_CLAUSE",
        "SELECT a FROM t fOr No KeY uPdAtE                                   | LOCKING_CLAUSE",
        "SELECT a FROM t For Key Share                                       | LOCKING_CLAUSE",
        "SELECT a FROM t WHERE b IN (SELECT c FROM u FOR UPDATE)             | LOCKING_CLAUSE",
        "SELECT a iNtO b FROM t                                              | SELECT_INTO",
        "SELECT a INTO Temp b FROM t                                         | SESSION_PIN",
        "SELECT a into local temporary b FROM t                              | SESSION_PIN",
        "SELECT a INTO GLOBAL TEMP b FROM t                                  | SESSION_PIN",
        "SELECT a INTO temporal FROM t                                       | SELECT_INTO",
        "SELECT a FROM t; iNsErT INTO t VALUES (1)                           | MULTI_STATEMENT_WRITE",
        "SELECT a, UpDaTe FROM t                                             | WRITE",
        "SELECT a, DELETE FROM t                                             | WRITE",
        "SELECT a, mErGe FROM t                                              | WRITE",
        "WITH d AS (dElEtE FROM t RETURNING a) SELECT a FROM d               | DATA_MODIFYING_CTE",
        "WITH d AS (SELECT 1) Update t SET a = 1                             | WRITE",
        "WITH d AS (INSERT INTO t VALUES (1) RETURNING a) UPDATE u SET b = 1 | DATA_MODIFYING_CTE",
        "(SELECT 1) UNION (UPDATE t SET a = 1 RETURNING a)                   | DATA_MODIFYING_CTE",
        // precedence of the findings
        "SELECT a INTO TEMP b FROM t FOR UPDATE                              | SESSION_PIN",
        "SELECT pg_advisory_lock(1), a INTO b FROM t                         | SESSION_PIN",
        "WITH d AS (DELETE FROM t RETURNING a) SELECT a INTO b FROM d FOR UPDATE | DATA_MODIFYING_CTE",
        "SELECT a INTO b FROM t FOR UPDATE                                   | SELECT_INTO",
        "SELECT nextval('s'), a FROM t FOR UPDATE                            | LOCKING_CLAUSE",
        "SELECT nextval('s'), a FROM t                                       | WRITE_FUNCTION",
        // near misses: same initials or lengths, qualified, aliased, quoted, non-ASCII
        "SELECT fort, fore, info, intox, inserts, updates, deleted, merger, imports, unique, dim, i, u FROM t | READ",
        "SELECT t.update, t.delete, t.insert, t.merge, x AS update, y AS merge FROM t | READ",
        "SELECT \"for\", \"into\", \"update\", _for, _into, _update, f_, d1 FROM t | READ",
        "SELECT ınto, İnto, ｆor FROM t                                      | READ",
        "SELECT 'FOR UPDATE', $$ INTO TEMP x $$ /* DELETE */ FROM t -- MERGE | READ",
    })
    void queryScanFindsKeywordsInAnyCaseAndOnlyKeywords(String sql, Reason reason) {
        Classification c = CLASSIFIER.classify(sql);
        assertThat(c.reason()).as("%s", c).isEqualTo(reason);
    }

    // ------------------------------------------------------------------ hints

    @ParameterizedTest(name = "<{0}> -> {1} {2}")
    @CsvSource(delimiter = '|', value = {
        "/* readsplit:primary */ SELECT 1                        | PRIMARY | -1",
        "/* readsplit:replica */ DELETE FROM t                   | REPLICA | -1",
        "/*readsplit:replica*/SELECT 1                           | REPLICA | -1",
        "/* READSPLIT:REPLICA */ SELECT 1                        | REPLICA | -1",
        "  \\n /* readsplit:replica */ SELECT 1                   | REPLICA | -1",
        "/* app: users#list */ /* readsplit:replica */ SELECT 1  | REPLICA | -1",
        "-- trace id 42\\n/* readsplit:primary */ SELECT 1        | PRIMARY | -1",
        "/* readsplit:max-lag=2s */ SELECT 1                     | NONE    | 2000",
        "/* readsplit:max-lag=500ms */ SELECT 1                  | NONE    | 500",
        "/* readsplit:max-lag=1.5s */ SELECT 1                   | NONE    | 1500",
        "/* readsplit:max-lag=2m */ SELECT 1                     | NONE    | 120000",
        "/* readsplit:max-lag=0s */ SELECT 1                     | NONE    | 0",
        "/* readsplit:max-lag=0.25s */ SELECT 1                  | NONE    | 250",
        "/* readsplit:replica, max-lag=500ms */ SELECT 1         | REPLICA | 500",
        "/* readsplit:replica max-lag=500ms */ SELECT 1          | REPLICA | 500",
        "/* readsplit:replica readsplit:max-lag=3s */ SELECT 1   | REPLICA | 3000",
        "/* readsplit:max-lag=2s */ /* readsplit:replica */ SELECT 1 | REPLICA | 2000",
        "/* readsplit:replica */ /* readsplit:primary */ SELECT 1 | PRIMARY | -1",
        "/* readsplit:replica,primary */ SELECT 1                | PRIMARY | -1",
        "/* readsplit:max-lag=5s, max-lag=1s */ SELECT 1         | NONE    | 1000",
        // invalid hint text is an ordinary comment
        "/* readsplit:replicas */ SELECT 1                       | NONE    | -1",
        "/* readsplit: */ SELECT 1                               | NONE    | -1",
        "/* readsplit */ SELECT 1                                | NONE    | -1",
        "/* please use readsplit:replica */ SELECT 1             | NONE    | -1",
        "/* readsplit:replica, bogus */ SELECT 1                 | NONE    | -1",
        "/* readsplit:max-lag=2h */ SELECT 1                     | NONE    | -1",
        "/* readsplit:max-lag=2 */ SELECT 1                      | NONE    | -1",
        "/* readsplit:max-lag=-2s */ SELECT 1                    | NONE    | -1",
        "/* readsplit:max-lag=s */ SELECT 1                      | NONE    | -1",
        "/* readsplit:max-lag=1.s */ SELECT 1                    | NONE    | -1",
        "/* readsplit:max-lag=9999999999999s */ SELECT 1         | NONE    | -1",
        "/* readsplit:replica /* nested */ */ SELECT 1           | NONE    | -1",
        "-- readsplit:replica\\nSELECT 1                          | NONE    | -1",
        // only leading comments count
        "SELECT 1 /* readsplit:replica */                        | NONE    | -1",
        "SELECT /* readsplit:max-lag=2s */ 1                     | NONE    | -1",
    })
    void parsesLeadingHints(String sql, Hint hint, long maxLag) {
        Classification c = CLASSIFIER.classify(sql.replace("\\n", "\n"));
        assertThat(c.hint()).as("%s", c).isEqualTo(hint);
        assertThat(c.maxLagMillis()).as("%s", c).isEqualTo(maxLag);
    }

    @Test
    void hintDoesNotChangeTheClassificationOfTheText() {
        Classification c = CLASSIFIER.classify("/* readsplit:replica, max-lag=1s */ UPDATE t SET a = 1");
        assertThat(c.isRead()).isFalse();
        assertThat(c.reason()).isEqualTo(Reason.WRITE);
        assertThat(c.hint()).isEqualTo(Hint.REPLICA);
        assertThat(c.maxLagMillis()).isEqualTo(1000);
    }

    // ------------------------------------------------------------------ user functions

    @Test
    void reportsUserFunctionsButNotBuiltins() {
        Classification c = CLASSIFIER.classify(
                "SELECT my_func(a), App.Audit(x), count(*), now(), coalesce(a, b), lower(s), my_func(b) FROM t");
        assertThat(c.isRead()).isTrue();
        assertThat(c.userFunctions()).containsExactly("my_func", "app.audit");
    }

    @Test
    void reportsUserFunctionsInFromClauseSubqueriesAndCtes() {
        Classification c = CLASSIFIER.classify(
                "WITH x AS (SELECT f1()) SELECT * FROM s.f2(1) JOIN (SELECT \"MixedCase\"(1)) y ON true; SELECT f3()");
        assertThat(c.userFunctions()).containsExactly("f1", "s.f2", "MixedCase", "f3");
    }

    @Test
    void aliasesTypeModifiersAndKeywordsAreNotFunctionCalls() {
        Classification c = CLASSIFIER.classify("WITH RECURSIVE x(a) AS (SELECT 1) SELECT CAST(a AS numeric(10, 2)),"
                + " a::varchar(3), EXISTS (SELECT 1), a IN (1), ARRAY(SELECT 1), ROW(1) FROM x, generate_series(1, 2)"
                + " AS g(i) JOIN (VALUES (1)) v(j) ON (true) WHERE a = ANY (ARRAY[1])");
        assertThat(c.isRead()).isTrue();
        assertThat(c.userFunctions()).isEmpty();
    }

    @Test
    void userFunctionsOnlyForReads() {
        assertThat(CLASSIFIER.classify("SELECT my_func(1) FOR UPDATE").userFunctions()).isEmpty();
        assertThat(CLASSIFIER.classify("INSERT INTO t VALUES (my_func(1))").userFunctions()).isEmpty();
        assertThat(CLASSIFIER.classify("SELECT my_func(1), nextval('s')").userFunctions()).isEmpty();
        assertThat(CLASSIFIER.classify("EXPLAIN SELECT my_func(1)").userFunctions()).isEmpty();
        assertThat(CLASSIFIER.classify("EXPLAIN ANALYZE SELECT my_func(1)").userFunctions())
                .containsExactly("my_func");
    }

    @Test
    void nonQualifiedCatalogNameIsAUserFunctionInAnotherSchema() {
        assertThat(CLASSIFIER.classify("SELECT pg_catalog.now(), app.now()").userFunctions())
                .containsExactly("app.now");
    }

    @Test
    void builderAddsWriteAndReadFunctions() {
        SqlClassifier c = SqlClassifier.builder()
                .writeFunctions("Audit_Log", "billing.charge")
                .readFunctions("my_func", "APP.Audit")
                .build();
        assertThat(c.classify("SELECT audit_log('x')").reason()).isEqualTo(Reason.WRITE_FUNCTION);
        assertThat(c.classify("SELECT other.audit_log('x')").reason()).isEqualTo(Reason.WRITE_FUNCTION);
        assertThat(c.classify("SELECT billing.charge(1)").reason()).isEqualTo(Reason.WRITE_FUNCTION);
        assertThat(c.classify("SELECT charge(1)").reason()).isEqualTo(Reason.WRITE_FUNCTION);
        Classification read = c.classify("SELECT my_func(1), app.audit(2), audit(3), other.my_func(4)");
        assertThat(read.isRead()).isTrue();
        assertThat(read.userFunctions()).containsExactly("audit", "other.my_func");
        // a built-in write stays a write even if listed as read
        SqlClassifier lenient = SqlClassifier.builder().readFunctions("nextval").build();
        assertThat(lenient.classify("SELECT nextval('s')").reason()).isEqualTo(Reason.WRITE_FUNCTION);
        // the defaults are unaffected
        assertThat(CLASSIFIER.classify("SELECT audit_log('x')").userFunctions()).containsExactly("audit_log");
    }

    @Test
    void builderFailsFastOnInvalidNames() {
        assertThrows(IllegalArgumentException.class, () -> SqlClassifier.builder().writeFunctions(""));
        assertThrows(IllegalArgumentException.class, () -> SqlClassifier.builder().writeFunctions((String) null));
        assertThrows(IllegalArgumentException.class, () -> SqlClassifier.builder().readFunctions("a.b.c"));
        assertThrows(IllegalArgumentException.class, () -> SqlClassifier.builder().readFunctions("f()"));
        assertThrows(IllegalArgumentException.class, () -> SqlClassifier.builder().readFunctions(".f"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SqlClassifier.builder().writeFunctions("drop table"));
        assertThat(e).hasMessageContaining("'drop table'");
    }

    // ------------------------------------------------------------------ results

    @Test
    void nullIsUnknownAndGoesToThePrimary() {
        Classification c = CLASSIFIER.classify(null);
        assertThat(c.isRead()).isFalse();
        assertThat(c.reason()).isEqualTo(Reason.UNKNOWN);
        assertThat(c.hint()).isEqualTo(Hint.NONE);
        assertThat(c.maxLagMillis()).isEqualTo(-1);
        assertThat(c.sessionEffect()).isEqualTo(SessionEffect.NONE);
        assertThat(c.userFunctions()).isEmpty();
    }

    @Test
    void commonResultsAreSharedConstants() {
        assertThat(CLASSIFIER.classify("SELECT 1")).isSameAs(CLASSIFIER.classify("select * from t"));
        assertThat(CLASSIFIER.classify("INSERT INTO t VALUES (1)")).isSameAs(CLASSIFIER.classify("DELETE FROM t"));
        assertThat(CLASSIFIER.classify("/* readsplit:replica */ SELECT 1"))
                .isSameAs(CLASSIFIER.classify("/* readsplit:replica */ SELECT 2"));
    }

    @Test
    void valueSemanticsAndToString() {
        Classification a = CLASSIFIER.classify("/* readsplit:replica, max-lag=2s */ SELECT f(1)");
        Classification b = CLASSIFIER.classify("/* readsplit:replica, max-lag=2s */ SELECT f(2)");
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a.toString()).contains("read", "READ", "REPLICA", "2000ms", "[f]");
        assertThat(CLASSIFIER.classify("LISTEN x").toString()).contains("primary", "SESSION_PIN", "PIN_TO_PRIMARY");
        assertThrows(UnsupportedOperationException.class, () -> a.userFunctions().add("x"));
    }

    @Test
    void commonPathAllocatesNothing() {
        java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        if (!(bean instanceof com.sun.management.ThreadMXBean)) {
            return;
        }
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) bean;
        if (!mx.isThreadAllocatedMemorySupported() || !mx.isThreadAllocatedMemoryEnabled()) {
            return;
        }
        String select = "SELECT u.id, u.name, u.email FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL LIMIT 1";
        String insert = "INSERT INTO events (user_id, kind, payload) VALUES ($1, $2, $3)";
        String counting = "SELECT count(*), max(created_at) FROM orders WHERE user_id = ?";
        long tid = Thread.currentThread().getId();
        int sink = 0;
        for (int i = 0; i < 200; i++) { // load classes, fill the constant pool
            sink += CLASSIFIER.classify(select).reason().ordinal() + CLASSIFIER.classify(insert).reason().ordinal()
                    + CLASSIFIER.classify(counting).reason().ordinal();
        }
        long before = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 10_000; i++) {
            sink += CLASSIFIER.classify(select).reason().ordinal() + CLASSIFIER.classify(insert).reason().ordinal()
                    + CLASSIFIER.classify(counting).reason().ordinal();
        }
        long allocated = mx.getThreadAllocatedBytes(tid) - before;
        assertThat(sink).isPositive();
        // 30,000 calls: anything per call would be hundreds of kilobytes; allow the measurement's own noise.
        assertThat(allocated).as("bytes allocated by 30,000 classifications").isLessThan(4096);
    }

    // ------------------------------------------------------------------ totality

    private static final String[] FRAGMENTS = {
        "SELECT", "select", "INSERT", "UPDATE", "DELETE", "WITH", "x", "AS", "(", ")", "((", "))", "'", "''", "\"",
        "\"\"", "E'", "e'\\'", "\\", "U&'", "U&\"", "B'", "X'", "$", "$$", "$1", "$a$", "$tag$", "$1$", "/*", "*/",
        "/**/", "--", "-", "/", "*", "\n", "\r", " ", "\t", ";", ",", ".", "::", ":", "[", "]", "FOR", "UPDATE",
        "SHARE", "NO", "KEY", "INTO", "TEMP", "EXPLAIN", "ANALYZE", "COPY", "FROM", "TO", "BEGIN", "ATOMIC", "END",
        "CASE", "CREATE", "SET", "LOCAL", "readsplit:replica", "readsplit:max-lag=", "1.5s", "999999999999999",
        "nextval", "pg_advisory_lock", "f", "s.f", "count", "é", "日本", "\uD83D\uDE00", "\uD800", "\u0000", "€",
        "\u00A0", "0", "1e", "1e-", ".5", "..", "?", "%", "=", "<>", "~", "@", "#", "^", "|", "&", "!", "{", "}",
    };

    @Test
    void isTotalOnRandomInput() {
        Random random = new Random(20240519L);
        SqlClassifier withUserLists = SqlClassifier.builder().writeFunctions("w", "s.w2").readFunctions("r", "s.r2")
                .build();
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int pieces = random.nextInt(30);
            for (int p = 0; p < pieces; p++) {
                if (random.nextInt(6) == 0) {
                    sb.append((char) random.nextInt(0x10000));
                } else {
                    sb.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
                }
                if (random.nextBoolean()) {
                    sb.append(' ');
                }
            }
            String sql = sb.toString();
            assertThatCode(() -> {
                Classification c = CLASSIFIER.classify(sql);
                assertThat(c.reason()).isNotNull();
                assertThat(c.hint()).isNotNull();
                assertThat(c.sessionEffect()).isNotNull();
                assertThat(c.toString()).isNotNull();
                withUserLists.classify(sql);
            }).as("classify(%s)", sql).doesNotThrowAnyException();
        }
    }

    @Test
    void isTotalOnEveryPrefixOfTheCaseTable() throws IOException {
        List<String> all = new ArrayList<>();
        cases().forEach(a -> all.add((String) a.get()[4]));
        for (String sql : all) {
            for (int i = 0; i <= sql.length(); i++) {
                String prefix = sql.substring(0, i);
                assertThatCode(() -> CLASSIFIER.classify(prefix)).as("classify(%s)", prefix)
                        .doesNotThrowAnyException();
            }
        }
    }

    @Test
    void deeplyNestedInputDoesNotOverflowTheStack() {
        String deep = "SELECT " + "(".repeat(100_000) + "1" + ")".repeat(100_000);
        assertThat(CLASSIFIER.classify(deep).isRead()).isTrue();
        String explains = "EXPLAIN ".repeat(10_000) + "SELECT 1";
        assertThat(CLASSIFIER.classify(explains).isRead()).isFalse();
        String comments = "/*".repeat(50_000) + "*/".repeat(50_000) + " SELECT 1";
        assertThat(CLASSIFIER.classify(comments).isRead()).isTrue();
    }
}

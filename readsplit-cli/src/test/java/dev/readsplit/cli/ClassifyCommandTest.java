package dev.readsplit.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ClassifyCommandTest {

    @Test
    void aSelectGoesToAReplica() {
        Cli r = Cli.run("classify", "SELECT * FROM orders WHERE id = 1");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("route:          replica").contains("reason:         READ");
    }

    @Test
    void aWriteGoesToThePrimaryWithItsReason() {
        Cli r = Cli.run("classify", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("route:          primary").contains("DATA_MODIFYING_CTE");
    }

    @Test
    void hintsMaxLagSessionEffectsAndUserFunctionsAreShown() {
        Cli r = Cli.run("classify", "/* readsplit:max-lag=2s */ SELECT price_of(id) FROM items", "LISTEN jobs",
                "/* readsplit:primary */ SELECT 1");
        assertThat(r.exitCode()).isZero();
        assertThat(r.out())
                .contains("max lag:        2000 ms")
                .contains("user functions: price_of (looked up in pg_proc")
                .contains("replica, unless price_of is VOLATILE in pg_proc (then primary)")
                .contains("session effect: PIN_TO_PRIMARY")
                .contains("hint:           /* readsplit:primary */");
    }

    @Test
    void configuredWriteFunctionsAreHonoured() {
        Cli r = Cli.run("classify", "--write-function", "bump_counter", "SELECT bump_counter(1)");
        assertThat(r.out()).contains("route:          primary").contains("WRITE_FUNCTION");
    }

    @Test
    void jsonForOneStatementIsAnObject() {
        Cli r = Cli.run("classify", "--json", "SELECT nextval('s')");
        assertThat(r.exitCode()).isZero();
        Map<String, Object> o = JsonOutput.object(r.out());
        assertThat(o).containsEntry("route", "primary").containsEntry("reason", "WRITE_FUNCTION")
                .containsEntry("read", false).containsEntry("hint", "NONE").containsEntry("maxLagMillis", null);
    }

    @Test
    void jsonForSeveralStatementsIsAnArray() {
        Cli r = Cli.run("classify", "--json", "SELECT f(1)", "/* readsplit:max-lag=500ms */ SELECT 1", "BEGIN");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> a = (List<Map<String, Object>>) JsonOutput.parse(r.out());
        assertThat(a).hasSize(3);
        assertThat(a.get(0)).containsEntry("route", "replica").containsEntry("userFunctions", List.of("f"));
        assertThat(a.get(1)).containsEntry("maxLagMillis", 500.0);
        assertThat(a.get(2)).containsEntry("route", "primary").containsEntry("sessionEffect", "BEGIN_TRANSACTION");
    }

    @Test
    void unterminatedTextFailsClosed() {
        Cli r = Cli.run("classify", "SELECT 'oops");
        assertThat(r.out()).contains("route:          primary").contains("UNKNOWN");
    }

    @Test
    void missingStatementIsAUsageError() {
        Cli r = Cli.run("classify");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required parameter");
    }
}

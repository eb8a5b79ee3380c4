package dev.readsplit.sql;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class TransactionEndTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "COMMIT | COMMIT",
        "commit work | COMMIT",
        "END | COMMIT",
        "/* x */ END TRANSACTION | COMMIT",
        "PREPARE TRANSACTION 'tx1' | COMMIT",
        "COMMIT PREPARED 'tx1' | NONE",
        "ROLLBACK | ROLLBACK",
        "abort | ROLLBACK",
        "ROLLBACK WORK | ROLLBACK",
        "ROLLBACK PREPARED 'tx1' | NONE",
        "ROLLBACK TO SAVEPOINT s1 | ROLLBACK_TO_SAVEPOINT",
        "rollback transaction to s1 | ROLLBACK_TO_SAVEPOINT",
        "PREPARE q AS SELECT 1 | NONE",
        "SELECT 'COMMIT' | NONE",
        "'' | NONE",
    })
    void saysHowAStatementEndsTheTransaction(String sql, TransactionEnd expected) {
        assertThat(TransactionEnd.of(sql)).isEqualTo(expected);
    }
}

package dev.readsplit.sql;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class SerializableRequestTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "BEGIN ISOLATION LEVEL SERIALIZABLE | THIS_TRANSACTION",
        "begin transaction read only, isolation level serializable | THIS_TRANSACTION",
        "START TRANSACTION ISOLATION LEVEL SERIALIZABLE READ ONLY DEFERRABLE | THIS_TRANSACTION",
        "/* c */ start transaction isolation level repeatable read | NONE",
        "BEGIN | NONE",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE | THIS_TRANSACTION",
        "set transaction read only | NONE",
        "SET transaction_isolation = 'serializable' | THIS_TRANSACTION",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE | SESSION_DEFAULT",
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED | SESSION_DEFAULT_CLEARED",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY | NONE",
        "SET default_transaction_isolation = serializable | SESSION_DEFAULT",
        "set default_transaction_isolation to 'SERIALIZABLE' | SESSION_DEFAULT",
        "SET SESSION default_transaction_isolation = 'serializable' | SESSION_DEFAULT",
        "SET default_transaction_isolation TO DEFAULT | SESSION_DEFAULT_CLEARED",
        "SET default_transaction_isolation = 'read committed' | SESSION_DEFAULT_CLEARED",
        "SET LOCAL default_transaction_isolation = serializable | NONE",
        "RESET default_transaction_isolation | SESSION_DEFAULT_CLEARED",
        "RESET ALL | SESSION_DEFAULT_CLEARED",
        "DISCARD ALL | SESSION_DEFAULT_CLEARED",
        "RESET search_path | NONE",
        "SET search_path = serializable | NONE",
        "SELECT 'SET TRANSACTION ISOLATION LEVEL SERIALIZABLE' | NONE",
        "SET | NONE",
        "begin isolation | NONE",
        "set default_transaction_isolation | SESSION_DEFAULT_CLEARED",
    })
    void recognisesTheSqlFormsOfSerializable(String sql, SerializableRequest expected) {
        assertThat(SerializableRequest.of(sql)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"''", "'   '", "'$$'", "'/* unterminated'", "''''"})
    void isTotal(String sql) {
        assertThat(SerializableRequest.of(sql)).isEqualTo(SerializableRequest.NONE);
        assertThat(SerializableRequest.of(null)).isEqualTo(SerializableRequest.NONE);
    }
}

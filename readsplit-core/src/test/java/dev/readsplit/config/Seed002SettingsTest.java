package dev.readsplit.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.readsplit.config.EnvironmentConfigTest.PASSWORD;
import static dev.readsplit.config.EnvironmentConfigTest.PASSWORD_ENCODED;
import static dev.readsplit.config.EnvironmentConfigTest.fail;
import static dev.readsplit.config.EnvironmentConfigTest.read;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 19: seed 002's settings move over unchanged: its own {@code postgresql+asyncpg://} URLs (and the other
 * SQLAlchemy drivers), {@code DATABASE_READ_URLS} as the JSON list pydantic settings write for {@code list[str]},
 * and {@code DATABASE_MAX_OVERFLOW}/{@code DATABASE_READ_MAX_OVERFLOW} added to the pool maximum and validated.
 */
class Seed002SettingsTest {

    @ParameterizedTest
    @ValueSource(strings = {"postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg2", "POSTGRESQL+ASYNCPG",
            "postgresql+pg8000"})
    void sqlAlchemyDriverUrlsAreAccepted(String scheme) {
        ReadsplitConfig c = read("DATABASE_URL", scheme + "://app:" + PASSWORD_ENCODED + "@primary:5432/db",
                "DATABASE_READ_URL", scheme + "://ro:rp@replica:5433/db");
        assertThat(c.primary().address()).isEqualTo("primary:5432");
        assertThat(c.primary().user()).isEqualTo("app");
        assertThat(c.primary().password().reveal()).isEqualTo(PASSWORD);
        assertThat(c.primary().database()).isEqualTo("db");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("replica:5433");
        assertThat(c.replicas().get(0).user()).isEqualTo("ro");
    }

    @Test
    void seed002sOwnExampleWorksAsWritten() {
        ReadsplitConfig c = read("DATABASE_URL", "postgresql+asyncpg://user:pass@primary:5432/db",
                "DATABASE_READ_URL", "postgresql+asyncpg://user:pass@replica:5432/db");
        assertThat(c.primary().host()).isEqualTo("primary");
        assertThat(c.replicas().get(0).host()).isEqualTo("replica");
    }

    @Test
    void anUnknownSqlAlchemyDriverIsAnErrorThatNamesTheKnownOnes() {
        ConfigException e = fail("DATABASE_URL", "postgresql+mysqldb://u:" + PASSWORD_ENCODED + "@h/db");
        assertThat(e.getMessage()).isEqualTo("DATABASE_URL names the SQLAlchemy driver 'mysqldb', which is not a "
                + "PostgreSQL driver Readsplit knows (expected postgresql+ one of asyncpg, psycopg, psycopg2, "
                + "psycopg2cffi, pg8000): 'postgresql+mysqldb://u:****@h/db'");
    }

    @Test
    void asyncpgAndLibpqParameterNamesBecomePgjdbcs() {
        ReadsplitConfig c = read("DATABASE_URL",
                "postgresql+asyncpg://u:p@h/db?ssl=require&connect_timeout=7&application_name=orders");
        assertThat(c.primary().jdbcProperties()).containsEntry("sslmode", "require").containsEntry("connectTimeout", "7")
                .containsEntry("ApplicationName", "orders").doesNotContainKeys("ssl", "connect_timeout");
        assertThat(read("DATABASE_URL", "jdbc:postgresql://h/db?ssl=true").primary().jdbcProperties())
                .as("a pgjdbc URL keeps pgjdbc's names").containsEntry("ssl", "true");
    }

    @Test
    void readUrlsAsAJsonListOfStrings() {
        ReadsplitConfig c = read("DATABASE_URL", "postgresql+asyncpg://primary/db",
                "DATABASE_READ_URLS", "[\"postgresql+asyncpg://replica1/db\", \"postgresql+asyncpg://ro:"
                        + PASSWORD_ENCODED + "@replica2:5433/db\"]");
        assertThat(c.replicas()).extracting(NodeConfig::address).containsExactly("replica1:5432", "replica2:5433");
        assertThat(c.replicas().get(1).password().reveal()).isEqualTo(PASSWORD);
        assertThat(read("DATABASE_URL", "postgresql://primary/db", "DATABASE_READ_URLS", "  [ ]").replicas())
                .isEmpty();
        assertThat(read("DATABASE_URL", "postgresql://primary/db",
                "DATABASE_READ_URLS", "postgresql://r1/db, postgresql://r2/db").replicas())
                .as("the comma-separated form still works").hasSize(2);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "`[\"postgresql://r1/db\",]`        | DATABASE_READ_URLS: malformed JSON at position 22: expected a value",
        "`[\"postgresql://r1/db\", 42]`     | DATABASE_READ_URLS[1] must be a URL string (postgresql://user:password@host:port/database): got a number",
        "`[\"postgresql://r1/db\", \"\"]`   | DATABASE_READ_URLS[1] must be a URL string (postgresql://user:password@host:port/database): got an empty string",
        "`[{\"host\":\"r1\"}]`              | DATABASE_READ_URLS[0] must be a URL string (postgresql://user:password@host:port/database): got an object",
        "`[\"mysql://r1/db\"]`              | DATABASE_READ_URLS must be postgresql://user:password@host:port/database (also postgres://, postgresql+asyncpg:// and the other SQLAlchemy drivers, jdbc:postgresql://, or jdbc:readsplit:postgresql:// for DATABASE_URL): 'mysql://r1/db'",
    })
    void aBadJsonReadUrlListNamesTheEntry(String json, String message) {
        ConfigException e = fail("DATABASE_URL", "postgresql://primary/db", "DATABASE_READ_URLS", json);
        assertThat(e.key()).isEqualTo("DATABASE_READ_URLS");
        assertThat(e.getMessage()).isEqualTo(message);
    }

    @Test
    void overflowIsAddedToThePoolMaximum() {
        ReadsplitConfig c = read("DATABASE_URL", "postgresql://primary/db", "DATABASE_READ_URL", "postgresql://r1/db",
                "DATABASE_POOL_SIZE", "10", "DATABASE_MAX_OVERFLOW", "20",
                "DATABASE_READ_POOL_SIZE", "20", "DATABASE_READ_MAX_OVERFLOW", "40");
        assertThat(c.pool().primarySize()).isEqualTo(10);
        assertThat(c.pool().primaryOverflow()).isEqualTo(20);
        assertThat(c.pool().maxPoolSize(c.primary(), true)).isEqualTo(30);
        assertThat(c.pool().maxPoolSize(c.replicas().get(0), false)).isEqualTo(60);
        ReadsplitConfig noOverflow = read("DATABASE_URL", "postgresql://primary/db", "DATABASE_POOL_SIZE", "7");
        assertThat(noOverflow.pool().maxPoolSize(noOverflow.primary(), true)).isEqualTo(7);
        ReadsplitConfig readsplitWins = read("DATABASE_URL", "postgresql://primary/db", "DATABASE_MAX_OVERFLOW", "5",
                "READSPLIT_PRIMARY_POOL_OVERFLOW", "2");
        assertThat(readsplitWins.pool().primaryOverflow()).isEqualTo(2);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "DATABASE_MAX_OVERFLOW      | abc   | DATABASE_MAX_OVERFLOW must be an integer: 'abc'",
        "DATABASE_READ_MAX_OVERFLOW | 1.5   | DATABASE_READ_MAX_OVERFLOW must be an integer: '1.5'",
        "DATABASE_MAX_OVERFLOW      | -3    | DATABASE_MAX_OVERFLOW: primaryPoolOverflow must not be negative: -3",
        "DATABASE_READ_MAX_OVERFLOW | -1    | DATABASE_READ_MAX_OVERFLOW: replicaPoolOverflow must not be negative: -1 (SQLAlchemy's max_overflow=-1, no limit, has no equivalent: a connection pool here has a fixed maximum; give a number)",
        "DATABASE_MAX_OVERFLOW      | 20000 | DATABASE_MAX_OVERFLOW: primaryPoolOverflow must be at most 10000: 20000",
    })
    void overflowIsValidatedNotIgnored(String variable, String value, String message) {
        ConfigException e = fail("DATABASE_URL", "postgresql://primary/db", variable, value);
        assertThat(e.key()).isEqualTo(variable);
        assertThat(e.getMessage()).isEqualTo(message);
    }

    @Test
    void poolSizePlusOverflowIsBounded() {
        ConfigException e = fail("DATABASE_URL", "postgresql://primary/db", "DATABASE_POOL_SIZE", "9000",
                "DATABASE_MAX_OVERFLOW", "2000");
        assertThat(e.key()).isEqualTo("DATABASE_MAX_OVERFLOW");
        assertThat(e.getMessage()).isEqualTo("DATABASE_MAX_OVERFLOW: primaryPoolSize + primaryPoolOverflow (9000 + 2000)"
                + " must be at most 10000");
    }
}

package dev.readsplit.it;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.jdbc.ReadsplitDriver;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.configuration.FluentConfiguration;
import org.flywaydb.core.api.output.MigrateResult;
import org.flywaydb.database.postgresql.PostgreSQLConfigurationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static dev.readsplit.it.Placement.queryLong;
import static dev.readsplit.it.Placement.queryString;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Flyway 13 through Readsplit, given the {@code jdbc:readsplit:} URL (found through readsplit-flyway's plugin) and
 * given a {@link ReadsplitDataSource}, with a {@code CREATE INDEX CONCURRENTLY} migration (which PostgreSQL refuses
 * inside a transaction). Each form migrates its own schema; what was created is asked of the primary itself.
 */
class FlywayIT {

    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).password("Flyway-It-pw1").start();
        Placement.exec(cluster.primary(), "CREATE SCHEMA by_url");
        Placement.exec(cluster.primary(), "CREATE SCHEMA by_data_source");
    }

    @AfterAll
    static void stop() {
        ReadsplitDriver.registered().closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void migratesThroughTheReadsplitUrl() {
        Flyway flyway = concurrentIndexes(Flyway.configure()
                .dataSource(Placement.url(cluster, "healthCheckInterval=200ms"), cluster.user(), cluster.password())
                .schemas("by_url")
                .locations("classpath:db/flyway"))
                .load();
        MigrateResult result = flyway.migrate();

        assertThat(result.success).isTrue();
        assertThat(result.migrationsExecuted).isEqualTo(2);
        assertMigrated("by_url");
        // a second run finds everything applied: Flyway read its history table back through Readsplit
        assertThat(flyway.migrate().migrationsExecuted).isZero();
        assertThat(flyway.info().applied()).hasSize(2);
    }

    @Test
    void migratesThroughTheDataSource() {
        try (ReadsplitDataSource ds = new ReadsplitDataSource(Placement.config(cluster, "flyway-ds").build())) {
            Flyway flyway = concurrentIndexes(Flyway.configure()
                    .dataSource(ds)
                    .schemas("by_data_source")
                    .locations("classpath:db/flyway"))
                    .load();
            MigrateResult result = flyway.migrate();

            assertThat(result.success).isTrue();
            assertThat(result.migrationsExecuted).isEqualTo(2);
            assertMigrated("by_data_source");
            assertThat(flyway.migrate().migrationsExecuted).isZero();
        }
    }

    /**
     * Flyway's own requirement for {@code CREATE INDEX CONCURRENTLY} on PostgreSQL, with or without Readsplit: its
     * default transactional advisory lock keeps a transaction open on a second connection, and a concurrent index
     * build waits for every open transaction, so it would wait forever ({@code flyway.postgresql.transactional.lock}).
     */
    private static FluentConfiguration concurrentIndexes(FluentConfiguration config) {
        config.getConfigurationExtension(PostgreSQLConfigurationExtension.class).setTransactionalLock(false);
        return config;
    }

    private static void assertMigrated(String schema) {
        int primaryPort = cluster.primary().port();
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM " + schema + ".accounts")).isEqualTo(2);
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM " + schema + ".accounts WHERE created_on = "
                + primaryPort)).as("rows inserted on the primary").isEqualTo(2);
        // the concurrently built index exists and is valid (a failed CONCURRENTLY build leaves an invalid one)
        assertThat(queryString(cluster.primary(), "SELECT i.indisvalid::text FROM pg_index i JOIN pg_class c"
                + " ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relname = 'accounts_name_idx' AND n.nspname = '" + schema + "'")).isEqualTo("true");
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM " + schema
                + ".flyway_schema_history WHERE success")).isEqualTo(2);
    }
}

package dev.readsplit.it;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.jdbc.ReadsplitDriver;
import liquibase.Liquibase;
import liquibase.database.Database;
import liquibase.database.DatabaseFactory;
import liquibase.database.jvm.JdbcConnection;
import liquibase.resource.ClassLoaderResourceAccessor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;

import static dev.readsplit.it.Placement.queryLong;
import static dev.readsplit.it.Placement.queryString;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Liquibase 4 through Readsplit, opened from the {@code jdbc:readsplit:} URL (the driver found through
 * readsplit-liquibase's extension) and from a {@link ReadsplitDataSource} connection, with a formatted-SQL changelog
 * whose last change set builds an index concurrently outside a transaction. Each form migrates its own schema.
 */
class LiquibaseIT {

    private static final String CHANGELOG = "db/liquibase/changelog.sql";
    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).password("Liquibase-It-pw1").start();
        Placement.exec(cluster.primary(), "CREATE SCHEMA lb_url");
        Placement.exec(cluster.primary(), "CREATE SCHEMA lb_ds");
    }

    @AfterAll
    static void stop() {
        ReadsplitDriver.registered().closeAll();
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void updatesThroughTheReadsplitUrl() throws Exception {
        Database database = DatabaseFactory.getInstance().openDatabase(
                Placement.url(cluster, "healthCheckInterval=200ms"), cluster.user(), cluster.password(), null,
                new ClassLoaderResourceAccessor());
        try {
            database.setDefaultSchemaName("lb_url");
            update(database);
        } finally {
            database.close();
        }
        assertUpdated("lb_url");
    }

    @Test
    void updatesThroughTheDataSource() throws Exception {
        try (ReadsplitDataSource ds = new ReadsplitDataSource(Placement.config(cluster, "liquibase-ds").build());
             Connection c = ds.getConnection()) {
            Database database = DatabaseFactory.getInstance().findCorrectDatabaseImplementation(new JdbcConnection(c));
            database.setDefaultSchemaName("lb_ds");
            update(database);
        }
        assertUpdated("lb_ds");
    }

    @SuppressWarnings("deprecation") // Liquibase's own facade; CommandScope takes the same Database
    private static void update(Database database) throws Exception {
        Liquibase liquibase = new Liquibase(CHANGELOG, new ClassLoaderResourceAccessor(), database);
        liquibase.update("");
        // a second update finds every change set applied: Liquibase read DATABASECHANGELOG back through Readsplit
        assertThat(liquibase.listUnrunChangeSets(null, null)).isEmpty();
    }

    private static void assertUpdated(String schema) {
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM " + schema + ".orders WHERE created_on = "
                + cluster.primary().port())).as("rows inserted on the primary").isEqualTo(2);
        assertThat(queryString(cluster.primary(), "SELECT i.indisvalid::text FROM pg_index i JOIN pg_class c"
                + " ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE c.relname = 'orders_item_idx' AND n.nspname = '" + schema + "'")).isEqualTo("true");
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM " + schema + ".databasechangelog")).isEqualTo(3);
    }
}

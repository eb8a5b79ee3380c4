package dev.readsplit.flyway;

import org.flywaydb.database.postgresql.PostgreSQLDatabaseType;

import java.sql.Connection;

/**
 * Flyway's database support for {@code jdbc:readsplit:postgresql://...} URLs: Flyway chooses a database plugin
 * by the URL's prefix before it opens any connection, and none of its own knows {@code jdbc:readsplit:}. This
 * plugin claims that prefix, names Readsplit's driver, and is otherwise Flyway's PostgreSQL support: the
 * connections it gets are Readsplit logical connections to a PostgreSQL primary and its standbys (see
 * {@code docs/frameworks.md}).
 *
 * <p>Found by Flyway through {@code META-INF/services/org.flywaydb.core.extensibility.Plugin}, the way Flyway
 * finds its own database modules. A Flyway given a {@code DataSource} picks its database support from the
 * connection's product name instead ("PostgreSQL"), so this plugin only answers for URLs and leaves connections
 * to Flyway's PostgreSQL plugin.
 */
public class ReadsplitDatabaseType extends PostgreSQLDatabaseType {

    static final String URL_PREFIX = "jdbc:readsplit:";
    static final String DRIVER = "dev.readsplit.jdbc.ReadsplitDriver";

    @Override
    public String getName() {
        return "Readsplit (PostgreSQL)";
    }

    @Override
    public boolean handlesJDBCUrl(String url) {
        return url != null && url.startsWith(URL_PREFIX);
    }

    @Override
    public String getDriverClass(String url, ClassLoader classLoader) {
        return DRIVER;
    }

    /** Connections are recognised by Flyway's PostgreSQL plugin (same product name); this one only claims URLs. */
    @Override
    public boolean handlesDatabaseProductNameAndVersion(String databaseProductName, String databaseProductVersion,
                                                        Connection connection) {
        return false;
    }
}

package dev.readsplit.liquibase;

import liquibase.database.DatabaseConnection;
import liquibase.database.core.PostgresDatabase;

/**
 * Lets Liquibase open {@code jdbc:readsplit:postgresql://...} URLs: Liquibase finds the JDBC driver for a URL by
 * asking each database implementation for its default driver, and none of its own knows {@code jdbc:readsplit:}.
 * This one names Readsplit's driver for that prefix and nothing else; once connected, the connection reports
 * itself as PostgreSQL and Liquibase's own {@link PostgresDatabase} handles it (see {@code docs/frameworks.md}).
 *
 * <p>Registered through {@code META-INF/services/liquibase.database.Database}, Liquibase's extension mechanism,
 * under its own short name so it never shadows Liquibase's PostgreSQL support.
 */
public class ReadsplitPostgresDatabase extends PostgresDatabase {

    static final String URL_PREFIX = "jdbc:readsplit:";
    static final String DRIVER = "dev.readsplit.jdbc.ReadsplitDriver";

    @Override
    public String getShortName() {
        return "readsplit";
    }

    @Override
    public String getDefaultDriver(String url) {
        return url != null && url.startsWith(URL_PREFIX) ? DRIVER : null;
    }

    /** Never chosen for a connection: Readsplit connections are PostgreSQL connections to Liquibase. */
    @Override
    public boolean isCorrectDatabaseImplementation(DatabaseConnection conn) {
        return false;
    }

    @Override
    public int getPriority() {
        return PRIORITY_DEFAULT - 1;
    }
}

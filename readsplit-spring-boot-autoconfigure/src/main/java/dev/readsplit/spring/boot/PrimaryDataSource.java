package dev.readsplit.spring.boot;

import dev.readsplit.Role;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The Readsplit data source seen by schema-migration tools (Flyway, Liquibase): every connection is a
 * {@link Role#PRIMARY} connection, so a migration's reads of its own history table never go to a replica that
 * has not replayed the previous step. Not a pool: connections still come from Readsplit's primary pool.
 */
public final class PrimaryDataSource extends DelegatingDataSource {

    private final ReadsplitDataSource readsplit;

    public PrimaryDataSource(ReadsplitDataSource readsplit) {
        super(readsplit);
        this.readsplit = readsplit;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return readsplit.getConnection(Role.PRIMARY);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        throw new SQLException("readsplit: the primary data source takes the configured credentials only",
                "0A000");
    }

    @Override
    public String toString() {
        return "PrimaryDataSource[" + readsplit.name() + "]";
    }
}

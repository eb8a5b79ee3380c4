package dev.readsplit.jdbc;

import dev.readsplit.routing.SessionState;
import dev.readsplit.cluster.Node;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * The JDBC settings of a logical connection (isolation, schema, catalog, holdability, network timeout, type map,
 * client info): each is applied at once to every physical connection the logical connection holds and recorded in
 * its {@link SessionSettings} for those it opens later. {@link LogicalConnection} is the rest of the connection.
 */
abstract class ConnectionSettings implements ReadsplitConnection {

    private final String dataSource;
    final SessionState session;
    final SessionSettings settings = new SessionSettings();

    ConnectionSettings(String dataSource, SessionState session) {
        this.dataSource = dataSource;
        this.session = session;
    }

    abstract PhysicalConnections physicals();

    abstract Connection physical(Node node) throws SQLException;

    abstract Node primary();

    abstract void checkOpen() throws SQLException;

    abstract boolean closed();

    /** Sends a failure on {@code node} through the one failure funnel ({@link FailureFunnel}). */
    abstract boolean funnel(Node node, SQLException e);

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        checkOpen();
        physicals().forEach((n, c) -> c.setTransactionIsolation(level));
        settings.isolation = level;
        session.serializable(level == Connection.TRANSACTION_SERIALIZABLE);
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        checkOpen();
        if (settings.isolation >= 0) {
            return settings.isolation;
        }
        return physicals().size() > 0 ? physicals().connectionAt(0).getTransactionIsolation() : Connection.TRANSACTION_READ_COMMITTED;
    }

    // ---------------------------------------------------------------------------------------------
    // session properties applied to every physical connection

    @Override
    public void setSchema(String schema) throws SQLException {
        checkOpen();
        physicals().forEach((n, c) -> c.setSchema(schema));
        settings.schema = schema;
        session.markDirty();
    }

    @Override
    public String getSchema() throws SQLException {
        checkOpen();
        if (physicals().size() > 0) {
            return physicals().connectionAt(0).getSchema();
        }
        return settings.schema != null ? settings.schema : physical(primary()).getSchema();
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        checkOpen();
        physicals().forEach((n, c) -> c.setCatalog(catalog));
        settings.catalog = catalog;
    }

    @Override
    public String getCatalog() throws SQLException {
        checkOpen();
        return physicals().size() > 0 ? physicals().connectionAt(0).getCatalog() : physical(primary()).getCatalog();
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        checkOpen();
        physicals().forEach((n, c) -> c.setHoldability(holdability));
        settings.holdability = holdability;
    }

    @Override
    public int getHoldability() throws SQLException {
        checkOpen();
        return settings.holdability >= 0 ? settings.holdability : ResultSet.HOLD_CURSORS_OVER_COMMIT;
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        checkOpen();
        physicals().forEach((n, c) -> c.setNetworkTimeout(executor, milliseconds));
        settings.networkTimeout = milliseconds;
        settings.networkTimeoutExecutor = executor;
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        checkOpen();
        return Math.max(0, settings.networkTimeout);
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        checkOpen();
        return settings.typeMap != null ? settings.typeMap : new java.util.HashMap<>();
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        checkOpen();
        physicals().forEach((n, c) -> c.setTypeMap(map));
        settings.typeMap = map;
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        if (closed()) {
            throw SessionSettings.closed(dataSource);
        }
        session.markDirty(); // pgjdbc sends application_name to the server: reset on return
        for (int i = 0; i < physicals().size(); i++) {
            try {
                physicals().connectionAt(i).setClientInfo(name, value);
            } catch (SQLClientInfoException e) {
                funnel(physicals().nodeAt(i), e);
                throw e;
            }
        }
        settings.clientInfo(name, value);
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        if (closed()) {
            throw SessionSettings.closed(dataSource);
        }
        session.markDirty(); // pgjdbc sends application_name to the server: reset on return
        for (int i = 0; i < physicals().size(); i++) {
            try {
                physicals().connectionAt(i).setClientInfo(properties);
            } catch (SQLClientInfoException e) {
                funnel(physicals().nodeAt(i), e);
                throw e;
            }
        }
        settings.clientInfo(properties);
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        checkOpen();
        return settings.clientInfo(name);
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        checkOpen();
        return settings.clientInfoCopy();
    }

}

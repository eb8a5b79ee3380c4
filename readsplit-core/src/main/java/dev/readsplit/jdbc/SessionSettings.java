package dev.readsplit.jdbc;

import java.sql.Connection;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Executor;

/**
 * The session state a logical connection replays onto every physical connection it opens: the JDBC settings
 * (read-only flag, isolation, schema, catalog, holdability, network timeout, type map, client info) and the
 * {@code SET}/{@code RESET} statements run outside a transaction (design §2 rule 5).
 *
 * <p>Concurrency: one logical connection, one thread at a time. Collections are created on first use: most
 * sessions never set any of this.
 */
final class SessionSettings {

    boolean readOnly;
    int isolation = -1;
    String schema;
    String catalog;
    int holdability = -1;
    int networkTimeout = -1;
    Executor networkTimeoutExecutor;
    Map<String, Class<?>> typeMap;
    private Properties clientInfo;
    private List<String> sessionStatements;

    /** Whether SQL changed server-side session state that {@code DISCARD ALL} must clear before the pool reuses it. */
    boolean changedBySql() {
        // setSchema changes search_path, which HikariCP resets only when its pool has a schema configured
        return sessionStatements != null || schema != null;
    }

    /** Applies everything recorded so far to a newly opened physical connection. */
    void applyTo(Connection c, boolean readOnlyFlag) throws SQLException {
        if (readOnly && readOnlyFlag) {
            c.setReadOnly(true);
        }
        if (isolation >= 0) {
            c.setTransactionIsolation(isolation);
        }
        if (schema != null) {
            c.setSchema(schema);
        }
        if (catalog != null) {
            c.setCatalog(catalog);
        }
        if (holdability >= 0) {
            c.setHoldability(holdability);
        }
        if (networkTimeout >= 0) {
            c.setNetworkTimeout(networkTimeoutExecutor, networkTimeout);
        }
        if (typeMap != null) {
            c.setTypeMap(typeMap);
        }
        if (clientInfo != null && !clientInfo.isEmpty()) {
            c.setClientInfo(clientInfo);
        }
        for (int i = 0, n = sessionStatements == null ? 0 : sessionStatements.size(); i < n; i++) {
            try (Statement s = c.createStatement()) {
                s.execute(sessionStatements.get(i));
            }
        }
    }

    /** Records a SET/RESET that ran outside a transaction, to be replayed on connections opened later. */
    void recordSessionStatement(String sql) {
        if (sessionStatements == null) {
            sessionStatements = new ArrayList<>(2);
        }
        sessionStatements.add(sql);
    }

    void clientInfo(String name, String value) {
        if (value == null) {
            if (clientInfo != null) {
                clientInfo.remove(name);
            }
        } else {
            if (clientInfo == null) {
                clientInfo = new Properties();
            }
            clientInfo.setProperty(name, value);
        }
    }

    void clientInfo(Properties properties) {
        clientInfo = new Properties();
        clientInfo.putAll(properties);
    }

    String clientInfo(String name) {
        return clientInfo == null ? null : clientInfo.getProperty(name);
    }

    Properties clientInfoCopy() {
        Properties p = new Properties();
        if (clientInfo != null) {
            p.putAll(clientInfo);
        }
        return p;
    }

    static SQLClientInfoException closed(String dataSource) {
        return new SQLClientInfoException(dataSource + ": connection is closed", "08003", null);
    }
}

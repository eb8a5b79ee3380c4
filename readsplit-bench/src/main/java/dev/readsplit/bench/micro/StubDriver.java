package dev.readsplit.bench.micro;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * A JDBC driver for {@code jdbc:stub:NAME} URLs that does no I/O: every query returns one row whose
 * columns are all 1, every update counts 1. For measuring what the layers above a driver cost. The
 * connection is a {@link Proxy}; its own cost is the same for every layer measured over
 * it, so compare layers with each other, not with zero.
 */
public final class StubDriver implements Driver {

    static final StubDriver INSTANCE = new StubDriver();

    static {
        try {
            DriverManager.registerDriver(INSTANCE);
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static void register() {
        // class initialisation registers the driver
    }

    @Override
    public Connection connect(String url, Properties info) {
        return acceptsURL(url) ? (Connection) proxy(Connection.class, new ConnectionHandler()) : null;
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && url.startsWith("jdbc:stub:");
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        return new DriverPropertyInfo[0];
    }

    @Override
    public int getMajorVersion() {
        return 1;
    }

    @Override
    public int getMinorVersion() {
        return 0;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException();
    }

    private static Object proxy(Class<?> type, InvocationHandler h) {
        return Proxy.newProxyInstance(StubDriver.class.getClassLoader(), new Class<?>[] {type}, h);
    }

    static Object defaultValue(Class<?> t) {
        if (t == boolean.class) {
            return false;
        } else if (t == int.class) {
            return 0;
        } else if (t == long.class) {
            return 0L;
        } else if (t == double.class) {
            return 0.0;
        } else if (t == float.class) {
            return 0f;
        } else if (t == short.class) {
            return (short) 0;
        } else if (t == byte.class) {
            return (byte) 0;
        }
        return null;
    }

    private static final class ConnectionHandler implements InvocationHandler {
        boolean autoCommit = true;
        boolean readOnly;
        boolean closed;
        int isolation = Connection.TRANSACTION_READ_COMMITTED;

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) {
            switch (m.getName()) {
                case "prepareStatement":
                    return proxy(PreparedStatement.class, new StatementHandler());
                case "createStatement":
                    return proxy(Statement.class, new StatementHandler());
                case "getAutoCommit":
                    return autoCommit;
                case "setAutoCommit":
                    autoCommit = (Boolean) args[0];
                    return null;
                case "isReadOnly":
                    return readOnly;
                case "setReadOnly":
                    readOnly = (Boolean) args[0];
                    return null;
                case "getTransactionIsolation":
                    return isolation;
                case "setTransactionIsolation":
                    isolation = (Integer) args[0];
                    return null;
                case "isValid":
                    return !closed;
                case "isClosed":
                    return closed;
                case "close":
                    closed = true;
                    return null;
                case "isWrapperFor":
                    return false;
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                case "toString":
                    return "StubConnection";
                default:
                    return defaultValue(m.getReturnType());
            }
        }
    }

    private static final class StatementHandler implements InvocationHandler {
        @Override
        public Object invoke(Object proxy, Method m, Object[] args) {
            switch (m.getName()) {
                case "executeQuery":
                case "getResultSet":
                    return proxy(ResultSet.class, new ResultSetHandler());
                case "execute":
                    return true;
                case "executeUpdate":
                case "getUpdateCount":
                    return m.getName().equals("executeUpdate") ? 1 : -1;
                case "executeLargeUpdate":
                    return 1L;
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                case "toString":
                    return "StubStatement";
                default:
                    return defaultValue(m.getReturnType());
            }
        }
    }

    private static final class ResultSetHandler implements InvocationHandler {
        int row;

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) {
            switch (m.getName()) {
                case "next":
                    return ++row == 1;
                case "getInt":
                    return 1;
                case "getLong":
                    return 1L;
                case "getString":
                    return "1";
                case "getObject":
                    return 1;
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "equals":
                    return proxy == args[0];
                case "toString":
                    return "StubResultSet";
                default:
                    return defaultValue(m.getReturnType());
            }
        }
    }
}

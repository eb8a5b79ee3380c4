package dev.readsplit.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.logging.Logger;

/**
 * A JDBC driver for {@code jdbc:stub:NAME} URLs that does no I/O, for the fast unit layer of routing (as HikariCP
 * tests its proxies): each NAME is a {@link Server} that records what it ran (per calling thread, so health checks
 * on their own threads do not mix in), answers every query with one row of 1s, and can be told to refuse some text
 * as a hot standby refuses a write (SQLSTATE 25006) or to fail everything as a dead server (08006), or to hang some
 * text (as a SIGSTOPped server does) until released or until the connection is aborted, which then fails with 08006.
 * A query's one row says which server answered in its {@code server} column.
 */
final class StubDriver implements Driver {

    private static final StubDriver INSTANCE = new StubDriver();
    private static final Map<String, Server> SERVERS = new ConcurrentHashMap<>();

    static {
        try {
            DriverManager.registerDriver(INSTANCE);
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One stub server: what ran on it, and how it misbehaves. */
    static final class Server {
        final String name;
        private final List<Ran> ran = new ArrayList<>();
        volatile Predicate<String> refuseAsReadOnly = sql -> false;
        /** The SQLSTATE this server refuses a statement with (as a standby refuses what only a primary runs), or null. */
        volatile java.util.function.Function<String, String> refuseWithState = sql -> null;
        volatile boolean dead;
        /** Statements whose text matches hang until {@link #release()} or until their connection is aborted. */
        volatile Predicate<String> hangOn = sql -> false;
        /** Result sets of statements whose text matches hang in {@code next()} the same way. */
        volatile Predicate<String> hangOnNext = sql -> false;
        private volatile java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
        /** Statements (or {@code next()} calls) hanging right now. */
        final java.util.concurrent.atomic.AtomicInteger hanging = new java.util.concurrent.atomic.AtomicInteger();
        /** Connections aborted ({@code Connection.abort}) so far. */
        final java.util.concurrent.atomic.AtomicInteger aborts = new java.util.concurrent.atomic.AtomicInteger();

        /** Lets every hanging statement go on (and those that hang later), until {@link #heal()}. */
        void release() {
            released.countDown();
        }

        /** No hang, no refusal, alive. */
        void heal() {
            dead = false;
            refuseAsReadOnly = sql -> false;
            refuseWithState = sql -> null;
            hangOn = sql -> false;
            hangOnNext = sql -> false;
            released.countDown();
            released = new java.util.concurrent.CountDownLatch(1);
            aborts.set(0);
            clear();
        }

        /** Hangs as a SIGSTOPped server until released or the connection is aborted (then 08006). */
        void hang(ConnectionHandler conn) throws SQLException {
            java.util.concurrent.CountDownLatch latch = released;
            hanging.incrementAndGet();
            try {
                while (!conn.aborted && latch.getCount() > 0) {
                    try {
                        latch.await(2, java.util.concurrent.TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new SQLException("stub " + name + ": interrupted", "08006");
                    }
                }
            } finally {
                hanging.decrementAndGet();
            }
            if (conn.aborted) {
                throw new SQLException("stub " + name + ": connection aborted", "08006");
            }
        }

        /** How many times anyone (any thread: hedges run on their own) ran {@code sql} here. */
        synchronized int ranByAnyone(String sql) {
            int n = 0;
            for (Ran r : ran) {
                if (r.sql.equals(sql)) {
                    n++;
                }
            }
            return n;
        }

        Server(String name) {
            this.name = name;
        }

        synchronized void record(String sql) {
            ran.add(new Ran(Thread.currentThread(), sql));
        }

        /** What this thread ran here, oldest first. */
        synchronized List<String> ranBy(Thread t) {
            List<String> out = new ArrayList<>();
            for (Ran r : ran) {
                if (r.thread == t) {
                    out.add(r.sql);
                }
            }
            return out;
        }

        synchronized void clear() {
            ran.clear();
        }

        private record Ran(Thread thread, String sql) {
        }
    }

    /** The server behind {@code jdbc:stub:NAME} (made on first use). */
    static Server server(String name) {
        return SERVERS.computeIfAbsent(name, Server::new);
    }

    static void register() {
        // class initialisation registers the driver
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null;
        }
        Server s = server(url.substring("jdbc:stub:".length()));
        if (s.dead) {
            throw new SQLException("stub " + s.name + " is down", "08001");
        }
        return (Connection) proxy(Connection.class, new ConnectionHandler(s));
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
        } else if (t == int[].class) {
            return new int[0];
        } else if (t == long[].class) {
            return new long[0];
        }
        return null;
    }

    private static Object identity(Object proxy, Method m, Object[] args, String name) {
        return switch (m.getName()) {
            case "hashCode" -> System.identityHashCode(proxy);
            case "equals" -> proxy == args[0];
            case "toString" -> name;
            default -> defaultValue(m.getReturnType());
        };
    }

    private static final class ConnectionHandler implements InvocationHandler {
        final Server server;
        volatile boolean aborted;
        boolean autoCommit = true;
        boolean readOnly;
        boolean closed;
        int isolation = Connection.TRANSACTION_READ_COMMITTED;

        ConnectionHandler(Server server) {
            this.server = server;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) throws SQLException {
            if (server.dead && !m.getName().equals("close") && !m.getName().equals("abort")) {
                if (m.getName().equals("setClientInfo")) { // declared to throw only SQLClientInfoException
                    throw new java.sql.SQLClientInfoException("stub " + server.name + ": connection lost", "08006", null);
                }
                throw new SQLException("stub " + server.name + ": connection lost", "08006");
            }
            switch (m.getName()) {
                case "abort":
                    if (!aborted) {
                        aborted = true;
                        closed = true;
                        server.aborts.incrementAndGet();
                    }
                    return null;
                case "prepareStatement":
                    return proxy(PreparedStatement.class, new StatementHandler(server, this, (String) args[0]));
                case "prepareCall":
                    return proxy(CallableStatement.class, new StatementHandler(server, this, (String) args[0]));
                case "createStatement":
                    return proxy(Statement.class, new StatementHandler(server, this, null));
                case "getAutoCommit":
                    return autoCommit;
                case "setAutoCommit":
                    autoCommit = (Boolean) args[0];
                    return null;
                case "commit":
                    server.record("<commit>");
                    return null;
                case "rollback":
                    server.record("<rollback>");
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
                    return !closed && !aborted;
                case "isClosed":
                    return closed;
                case "close":
                    closed = true;
                    return null;
                case "isWrapperFor":
                    return false;
                default:
                    return identity(proxy, m, args, "StubConnection[" + server.name + "]");
            }
        }
    }

    private static final class StatementHandler implements InvocationHandler {
        final Server server;
        final ConnectionHandler conn;
        final String prepared;
        String last;

        StatementHandler(Server server, ConnectionHandler conn, String prepared) {
            this.server = server;
            this.conn = conn;
            this.prepared = prepared;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) throws SQLException {
            String name = m.getName();
            if (name.startsWith("execute")) {
                if (server.dead) {
                    throw new SQLException("stub " + server.name + ": connection lost", "08006");
                }
                String sql = args != null && args.length > 0 && args[0] instanceof String s ? s : prepared;
                if (conn.aborted) {
                    throw new SQLException("stub " + server.name + ": connection aborted", "08006");
                }
                if (sql != null && server.hangOn.test(sql)) {
                    server.hang(conn);
                }
                last = sql;
                if (sql != null && server.refuseAsReadOnly.test(sql)) {
                    throw new SQLException("cannot execute in a read-only transaction", "25006");
                }
                String refusal = sql == null ? null : server.refuseWithState.apply(sql);
                if (refusal != null) {
                    throw new SQLException("stub " + server.name + " refuses this", refusal);
                }
                server.record(name.contains("Batch") ? "<batch>" : sql);
            }
            return switch (name) {
                case "executeQuery", "getResultSet" -> proxy(ResultSet.class, new ResultSetHandler(server, conn, last));
                case "execute" -> true;
                case "executeUpdate" -> 1;
                case "getUpdateCount" -> -1;
                case "executeLargeUpdate" -> 1L;
                default -> identity(proxy, m, args, "StubStatement[" + server.name + "]");
            };
        }
    }

    private static final class ResultSetHandler implements InvocationHandler {
        final Server server;
        final ConnectionHandler conn;
        final String sql;
        int row;

        ResultSetHandler(Server server, ConnectionHandler conn, String sql) {
            this.server = server;
            this.conn = conn;
            this.sql = sql;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) throws SQLException {
            if (m.getName().equals("next") && sql != null && server.hangOnNext.test(sql)) {
                server.hang(conn);
            }
            return switch (m.getName()) {
                case "next" -> ++row == 1;
                case "getInt" -> 1;
                case "getLong" -> 1L;
                case "getString" -> "server".equals(args[0]) ? server.name : "1";
                case "getObject" -> 1;
                default -> identity(proxy, m, args, "StubResultSet");
            };
        }
    }
}

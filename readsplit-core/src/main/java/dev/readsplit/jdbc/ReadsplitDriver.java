package dev.readsplit.jdbc;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.ReadsplitUrl;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * A JDBC {@link Driver} for tools that only take a URL:
 * {@code jdbc:readsplit:postgresql://primary:5432,replica1:5432,replica2:5432/db?consistency=read_your_writes}.
 * The first host is the primary until the topology observes otherwise.
 *
 * <p>State: a JDBC driver is registered once per class loader ({@code META-INF/services/java.sql.Driver}),
 * so the one {@link ReadsplitDataSource} per distinct URL and properties lives in the registered instance —
 * that is what lets successive {@code DriverManager.getConnection} calls share pools and topology. It is
 * the only place Readsplit keeps state outside an object the application owns; applications that can hold
 * a {@code DataSource} should use {@link ReadsplitDataSource} directly. {@link #closeAll()} closes them.
 */
public final class ReadsplitDriver implements Driver {

    private static final ReadsplitDriver REGISTERED = new ReadsplitDriver();

    static {
        try {
            DriverManager.registerDriver(REGISTERED);
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Map<String, ReadsplitDataSource> dataSources = new ConcurrentHashMap<>();

    /** The instance registered with {@link DriverManager}. */
    public static ReadsplitDriver registered() {
        return REGISTERED;
    }

    @Override
    public Connection connect(String url, Properties info) throws SQLException {
        if (!acceptsURL(url)) {
            return null; // JDBC: not ours, let DriverManager try the next driver
        }
        Properties props = info == null ? new Properties() : info;
        String key = key(url, props);
        ReadsplitDataSource ds = dataSources.get(key);
        if (ds == null) {
            ReadsplitConfig config;
            try {
                config = ReadsplitUrl.parse(url, props);
            } catch (IllegalArgumentException e) { // a ConfigException: the URL or its properties are invalid
                throw new dev.readsplit.ReadsplitException(dev.readsplit.ReadsplitException.Reason.INVALID_CONFIG,
                        e.getMessage(), "08001", e);
            }
            ds = dataSources.computeIfAbsent(key, k -> new ReadsplitDataSource(config));
        }
        return ds.getConnection();
    }

    /** The data source behind a URL (for status and metrics), or null if no connection was made to it yet. */
    public ReadsplitDataSource dataSource(String url, Properties info) {
        return dataSources.get(key(url, info == null ? new Properties() : info));
    }

    /** Closes every data source this driver made (their pools and threads). */
    public void closeAll() {
        dataSources.values().forEach(ReadsplitDataSource::close);
        dataSources.clear();
    }

    private static String key(String url, Properties info) {
        return url + "|" + new TreeMap<>(info);
    }

    @Override
    public boolean acceptsURL(String url) {
        return url != null && ReadsplitUrl.accepts(url);
    }

    @Override
    public DriverPropertyInfo[] getPropertyInfo(String url, Properties info) {
        return new DriverPropertyInfo[] {
            new DriverPropertyInfo("user", info == null ? null : info.getProperty("user")),
            new DriverPropertyInfo("password", null),
            new DriverPropertyInfo("consistency", "read_your_writes"),
            new DriverPropertyInfo("balancer", "round_robin"),
        };
    }

    @Override
    public int getMajorVersion() {
        return 0;
    }

    @Override
    public int getMinorVersion() {
        return 1;
    }

    @Override
    public boolean jdbcCompliant() {
        return false;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
        throw new SQLFeatureNotSupportedException("SLF4J is used, not java.util.logging");
    }
}

package dev.readsplit.spring.boot.web;

import dev.readsplit.jdbc.ReadsplitConnection;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The application's {@code DataSource} when request-scoped read-your-writes is on: the Readsplit data source
 * itself, with each connection joined to the request's {@link CausalRequestContext} (it observes the request's
 * position when opened and reports its own when closed). Not a pool: every call goes straight to Readsplit,
 * whose node pools are the only ones; {@code unwrap(ReadsplitDataSource.class)} gives the data source.
 */
public final class CausalTrackingDataSource extends DelegatingDataSource {

    private final ReadsplitDataSource readsplit;
    private final CausalRequestContext context;

    public CausalTrackingDataSource(ReadsplitDataSource readsplit, CausalRequestContext context) {
        super(readsplit);
        this.readsplit = readsplit;
        this.context = context;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return track(readsplit.getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return readsplit.getConnection(username, password);
    }

    private Connection track(ReadsplitConnection c) throws SQLException {
        if (context.current() == null) {
            return c;
        }
        try {
            context.connectionOpened(c);
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
        return (Connection) Proxy.newProxyInstance(ReadsplitConnection.class.getClassLoader(),
                new Class<?>[] {ReadsplitConnection.class}, new Tracked(c));
    }

    /** Reports the connection's position to the request scope before it closes; delegates everything else. */
    private final class Tracked implements InvocationHandler {
        private final ReadsplitConnection target;
        private boolean closed;

        Tracked(ReadsplitConnection target) {
            this.target = target;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "close":
                    if (!closed) {
                        closed = true;
                        try {
                            context.connectionClosing(target);
                        } finally {
                            target.close();
                        }
                    }
                    return null;
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "toString":
                    return "Tracked[" + target + "]";
                default:
                    try {
                        return method.invoke(target, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
            }
        }
    }

    @Override
    public String toString() {
        return "CausalTrackingDataSource[" + readsplit + "]";
    }
}

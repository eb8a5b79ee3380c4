package dev.readsplit.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.DatabaseMetaData;

/**
 * Database metadata whose {@code getConnection()} is the logical connection (the physical one must not
 * escape: closing it would hand it back to its pool behind the logical connection's back). A dynamic proxy:
 * metadata is rarely called, and {@code DatabaseMetaData} has some 180 methods.
 */
final class MetaData {

    private MetaData() {
    }

    static DatabaseMetaData wrap(DatabaseMetaData physical, LogicalConnection logical) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("getConnection") && method.getParameterCount() == 0) {
                return logical;
            }
            try {
                return method.invoke(physical, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (DatabaseMetaData) Proxy.newProxyInstance(MetaData.class.getClassLoader(),
                new Class<?>[] {DatabaseMetaData.class}, handler);
    }
}

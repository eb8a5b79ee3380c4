package dev.readsplit.jdbc;

import dev.readsplit.cluster.Node;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.DatabaseMetaData;
import java.sql.SQLException;

/**
 * Database metadata whose {@code getConnection()} is the logical connection (the physical one must not
 * escape: closing it would hand it back to its pool behind the logical connection's back). A dynamic proxy:
 * metadata is rarely called, and {@code DatabaseMetaData} has some 180 methods.
 */
final class MetaData {

    private MetaData() {
    }

    static DatabaseMetaData wrap(DatabaseMetaData physical, LogicalConnection logical, Node node) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("getConnection") && method.getParameterCount() == 0) {
                return logical;
            }
            try {
                return method.invoke(physical, args);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof SQLException failure) {
                    logical.funnel(node, failure); // every method's failure through the one funnel
                }
                throw e.getCause();
            }
        };
        return (DatabaseMetaData) Proxy.newProxyInstance(MetaData.class.getClassLoader(),
                new Class<?>[] {DatabaseMetaData.class}, handler);
    }
}

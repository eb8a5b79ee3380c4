package dev.readsplit.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;

/**
 * Callable statements run on the primary (or the running transaction's node) as they are: the only
 * behaviour a logical connection must change is {@code getConnection()}, which must return the logical
 * connection, not the physical one. A dynamic proxy does that without hand-writing CallableStatement's
 * hundred getters; callable statements are rare enough that the proxy's cost does not matter.
 */
final class CallableStatements {

    private CallableStatements() {
    }

    static CallableStatement wrap(CallableStatement physical, LogicalConnection logical) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getName().equals("getConnection") && method.getParameterCount() == 0) {
                return logical;
            }
            if (method.getName().equals("unwrap") && args[0] instanceof Class<?> c && c.isInstance(proxy)) {
                return proxy;
            }
            try {
                return method.invoke(physical, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (CallableStatement) Proxy.newProxyInstance(CallableStatements.class.getClassLoader(),
                new Class<?>[] {CallableStatement.class}, handler);
    }

}

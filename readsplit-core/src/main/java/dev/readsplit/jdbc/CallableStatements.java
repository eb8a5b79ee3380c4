package dev.readsplit.jdbc;

import dev.readsplit.routing.Decision;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.SQLException;

/**
 * Callable statements run where their decision put them when prepared (the primary, or the running transaction's
 * node). What a logical connection must add to pgjdbc's: {@code getConnection()} returns the logical connection,
 * every execution (however often the statement is re-executed) counts as a possible write for the session's causal
 * position, and every {@link SQLException} goes through the {@link FailureFunnel}. A dynamic proxy does that
 * without hand-writing CallableStatement's hundred getters; callable statements are rare enough that the proxy's
 * cost does not matter.
 */
final class CallableStatements {

    private CallableStatements() {
    }

    static CallableStatement wrap(CallableStatement physical, LogicalConnection logical, Decision decision) {
        InvocationHandler handler = (proxy, method, args) -> {
            String name = method.getName();
            if (name.equals("getConnection") && method.getParameterCount() == 0) {
                return logical;
            }
            if (name.equals("unwrap") && args[0] instanceof Class<?> c && c.isInstance(proxy)) {
                return proxy;
            }
            boolean execution = name.startsWith("execute");
            try {
                Object result = method.invoke(physical, args);
                if (execution) {
                    logical.countPossibleWrite(decision); // ran: it may have written (the same rule as a failure)
                }
                return result;
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof SQLException s) {
                    logical.funnel(decision.node(), s);
                    if (execution) {
                        logical.countPossibleWrite(decision);
                    }
                }
                throw cause;
            }
        };
        return (CallableStatement) Proxy.newProxyInstance(CallableStatements.class.getClassLoader(),
                new Class<?>[] {CallableStatement.class}, handler);
    }
}

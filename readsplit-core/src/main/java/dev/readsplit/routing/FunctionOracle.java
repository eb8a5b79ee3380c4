package dev.readsplit.routing;

import java.util.List;

/**
 * Whether user-defined functions a read calls may write (for PostgreSQL: {@code VOLATILE} in {@code pg_proc}).
 * The adapter implements it (it needs the database); answers are cached there, so the router may ask per statement.
 */
@FunctionalInterface
public interface FunctionOracle {

    /** True if any of {@code functions} may write, or if that cannot be known now (fail closed). */
    boolean anyMayWrite(List<String> functions);
}

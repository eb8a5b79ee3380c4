package dev.readsplit.jdbc;

import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether a user-defined function may write, learned from {@code pg_proc}: {@code VOLATILE} functions
 * may (and go to the primary), {@code STABLE}/{@code IMMUTABLE} ones may not. Each name found is looked up
 * once on the primary and cached for the data source's life.
 *
 * <p>A name the catalog does not know cannot run anywhere, so it does not make the statement a write (the
 * classifier also reports a few names that are not functions, such as a table alias with column names,
 * {@code FROM t x(a)}). Such names are remembered for {@link #NOT_FOUND_TTL_MILLIS} only, so that a function
 * created later is looked up again. If the primary cannot answer at all, the statement goes to the primary
 * (fail closed) and nothing is cached.
 */
final class FunctionVolatility {

    static final long NOT_FOUND_TTL_MILLIS = 60_000;

    /** Cached verdict: volatile, or not found until the given time. */
    private record Verdict(boolean mayWrite, long expiresAtMillis) {
    }

    private static final String QUERY = "SELECT bool_or(p.provolatile = 'v') FROM pg_proc p"
            + " JOIN pg_namespace n ON n.oid = p.pronamespace"
            + " WHERE p.proname = ? AND (?::text IS NULL OR n.nspname = ?)";

    private final Topology topology;
    private final ConcurrentHashMap<String, Verdict> cache = new ConcurrentHashMap<>();

    FunctionVolatility(Topology topology) {
        this.topology = topology;
    }

    /** True if any of the functions may write (or cannot be looked up). */
    boolean anyVolatile(List<String> functions) {
        for (int i = 0; i < functions.size(); i++) {
            String f = functions.get(i);
            Verdict v = cache.get(f);
            if (v == null || v.expiresAtMillis() != Long.MAX_VALUE && v.expiresAtMillis() < topology.clock().millis()) {
                v = lookup(f);
                if (v == null) {
                    return true; // the primary cannot answer now: fail closed, do not cache
                }
                cache.put(f, v);
            }
            if (v.mayWrite()) {
                return true;
            }
        }
        return false;
    }

    private Verdict lookup(String qualified) {
        if (!topology.primary().isPostgres()) {
            return new Verdict(true, Long.MAX_VALUE); // no catalog to ask: fail closed
        }
        int dot = qualified.lastIndexOf('.');
        String schema = dot > 0 ? qualified.substring(0, dot) : null;
        String name = dot > 0 ? qualified.substring(dot + 1) : qualified;
        Node primary = topology.primary();
        try (Connection c = primary.borrow(); PreparedStatement ps = c.prepareStatement(QUERY)) {
            ps.setString(1, name);
            ps.setString(2, schema);
            ps.setString(3, schema);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                boolean volatileFound = rs.getBoolean(1);
                if (rs.wasNull()) {
                    return new Verdict(false, topology.clock().millis() + NOT_FOUND_TTL_MILLIS);
                }
                return new Verdict(volatileFound, Long.MAX_VALUE);
            }
        } catch (SQLException e) {
            topology.onTrafficError(primary, e);
            return null;
        }
    }

    int cached() {
        return cache.size();
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.topology.Node;
import dev.readsplit.topology.Topology;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether a user-defined function may write, learned from {@code pg_proc}: {@code VOLATILE} functions
 * may (and go to the primary), {@code STABLE}/{@code IMMUTABLE} ones may not. Each name is looked up once
 * on the primary and cached for the data source's life. A name the catalog does not know is treated as
 * volatile (fail closed: the statement will probably fail anyway, and on the primary it fails honestly).
 */
final class FunctionVolatility {

    private static final String QUERY = "SELECT coalesce(bool_or(p.provolatile = 'v'), true) FROM pg_proc p"
            + " JOIN pg_namespace n ON n.oid = p.pronamespace"
            + " WHERE p.proname = ? AND (?::text IS NULL OR n.nspname = ?)";

    private final Topology topology;
    private final ConcurrentHashMap<String, Boolean> cache = new ConcurrentHashMap<>();

    FunctionVolatility(Topology topology) {
        this.topology = topology;
    }

    /** True if any of the functions may write (or cannot be looked up). */
    boolean anyVolatile(List<String> functions) {
        for (int i = 0; i < functions.size(); i++) {
            String f = functions.get(i);
            Boolean v = cache.get(f);
            if (v == null) {
                v = lookup(f);
                if (v == null) {
                    return true; // the primary cannot answer now: fail closed, do not cache
                }
                cache.put(f, v);
            }
            if (v) {
                return true;
            }
        }
        return false;
    }

    private Boolean lookup(String qualified) {
        if (!topology.primary().isPostgres()) {
            return Boolean.TRUE; // no catalog to ask: fail closed
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
                return rs.next() && rs.getBoolean(1);
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

package dev.readsplit.config;

import java.util.Locale;

/**
 * Where Readsplit learns which node is the primary and which replicas may serve. SQL observation of every node
 * runs under both; see {@code docs/failover.md}, "Patroni".
 */
public enum TopologySource {
    /** Only what each node says of itself ({@code pg_is_in_recovery()}, WAL positions): the default. */
    SQL,
    /**
     * Patroni's view ({@code GET /cluster} on one of {@code patroniUrls}, about every second) decides the write target
     * and the members that may serve reads (running, not {@code noloadbalance}, within the lag limits); SQL stays the
     * safety net: a node whose own answer contradicts Patroni gets no writes.
     */
    PATRONI;

    /**
     * Parses a name case-insensitively.
     *
     * @throws ConfigException naming {@code key} and the text
     */
    static TopologySource parse(String key, String text) {
        String norm = text.trim().toUpperCase(Locale.ROOT);
        for (TopologySource s : values()) {
            if (s.name().equals(norm)) {
                return s;
            }
        }
        throw new ConfigException(key, key + " must be one of sql, patroni: '" + text.trim() + "'");
    }
}

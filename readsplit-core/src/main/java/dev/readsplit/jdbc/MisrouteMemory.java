package dev.readsplit.jdbc;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Statements a replica refused with 25006: remembered by text so their next execution goes straight to
 * the primary. Bounded: when full, it is cleared and learns again (a rare, self-correcting cost), rather
 * than growing without limit on applications that build SQL text dynamically.
 */
final class MisrouteMemory {

    private final int capacity;
    private final ConcurrentHashMap<String, Boolean> learned = new ConcurrentHashMap<>();

    MisrouteMemory(int capacity) {
        this.capacity = capacity;
    }

    boolean contains(String sql) {
        return !learned.isEmpty() && learned.containsKey(sql);
    }

    void learn(String sql) {
        if (learned.size() >= capacity) {
            learned.clear();
        }
        learned.put(sql, Boolean.TRUE);
    }

    int size() {
        return learned.size();
    }
}

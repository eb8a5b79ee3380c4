package dev.readsplit.routing;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Statements a replica refused with 25006: remembered by text so their next execution goes straight to
 * the primary. Bounded: when full, it is cleared and learns again (a rare, self-correcting cost), rather
 * than growing without limit on applications that build SQL text dynamically.
 */
public final class MisrouteMemory {

    private final int capacity;
    private final ConcurrentHashMap<String, Boolean> learned = new ConcurrentHashMap<>();

    public MisrouteMemory(int capacity) {
        this.capacity = capacity;
    }

    public boolean contains(String sql) {
        return !learned.isEmpty() && learned.containsKey(sql);
    }

    public void learn(String sql) {
        if (learned.size() >= capacity) {
            learned.clear();
        }
        learned.put(sql, Boolean.TRUE);
    }

    public int size() {
        return learned.size();
    }
}

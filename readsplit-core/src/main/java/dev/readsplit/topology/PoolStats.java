package dev.readsplit.topology;

/** A node pool's connections as HikariCP counts them. */
public record PoolStats(int active, int idle, int total, int pending, int max) {

    /** Seed 002's name for the connections a caller could still take without waiting. */
    public int available() {
        return Math.max(0, max - active);
    }
}

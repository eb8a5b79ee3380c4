package dev.readsplit.proxy;

import java.util.Locale;

/**
 * When a client's backend connections go back to the pool (see {@code docs/proxy.md}, Threads and pooling).
 */
public enum PoolMode {
    /** When the client leaves (the default): every PostgreSQL feature works. */
    SESSION,
    /**
     * At the end of each transaction (or autocommit statement) while the client holds no state that cannot move to
     * another backend; a client that creates such state keeps its backends until it leaves, as in {@link #SESSION}.
     */
    TRANSACTION;

    /** {@code session} or {@code transaction}, any case. */
    public static PoolMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("pool mode must be session or transaction, not " + s);
        }
    }
}

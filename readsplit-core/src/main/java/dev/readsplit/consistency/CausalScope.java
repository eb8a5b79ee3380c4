package dev.readsplit.consistency;

import java.util.Locale;

/**
 * Who shares a causal position: whose writes a read under {@code READ_YOUR_WRITES} must see. The trade-offs are in
 * {@code docs/consistency.md}.
 */
public enum CausalScope {
    /** One logical connection: a read sees the writes made on the same connection (and tokens it imported). */
    CONNECTION,
    /**
     * Every logical connection of the data source opened on the same thread (the default): a read sees the latest
     * write the thread made through any of them, which is what Spring, Hibernate, jOOQ and MyBatis need, since
     * they borrow a new connection per call.
     */
    THREAD,
    /** Every logical connection of the data source: a read sees the latest write made through it in this process. */
    DATA_SOURCE;

    /** The default scope. */
    public static final CausalScope DEFAULT = THREAD;

    /**
     * The scope named {@code text}: {@code connection}, {@code thread} or {@code data-source}, case-insensitively,
     * {@code -} and {@code _} interchangeable.
     *
     * @throws IllegalArgumentException naming the text
     */
    public static CausalScope parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("causalScope must not be blank (expected connection, thread or data-source)");
        }
        String norm = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (CausalScope s : values()) {
            if (s.name().equals(norm)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown causalScope '" + text.trim() + "' (expected connection, thread or data-source)");
    }

    /** The canonical text form ({@code connection}, {@code thread}, {@code data-source}). */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}

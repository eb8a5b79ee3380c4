package dev.readsplit.sql;

/**
 * Routing hint found in a leading {@code /* readsplit:... *&#47;} comment. The classifier only reports it;
 * the router decides precedence (design §2 rule 4: explicit control wins).
 */
public enum Hint {
    /** No valid routing directive was found. */
    NONE,
    /** {@code readsplit:primary}: run on the primary. Wins over {@code replica} when both are given. */
    PRIMARY,
    /** {@code readsplit:replica}: the caller asks for a replica even if the text does not look read-only. */
    REPLICA
}

package dev.readsplit.routing;

/** What the adapter is about to run, besides SQL text: the JDBC (or protocol) operation behind a decision. */
public enum Operation {
    /** One SQL statement (its classification says what it is). */
    STATEMENT,
    /** A batch of statements or parameter sets: may write, never retried. */
    BATCH,
    /** A stored procedure call prepared with {@code prepareCall}: may write. */
    CALL,
    /**
     * A transaction started by the API with no statement yet ({@code setSavepoint} as the first call of a JDBC
     * transaction): the transaction's node is chosen as for its first statement.
     */
    TRANSACTION_START
}

package dev.readsplit.sql;

/** What executing a statement does to the state of the session (the logical connection). */
public enum SessionEffect {
    /** No effect the router has to track. */
    NONE,
    /**
     * Changes session state that can follow the session ({@code SET}, {@code RESET}, {@code SET ROLE},
     * {@code DISCARD}): the router runs it on the primary and re-applies it to every physical connection
     * the logical connection holds or opens later.
     */
    SET_SESSION_STATE,
    /**
     * Creates session state that cannot follow the session ({@code LISTEN}, {@code PREPARE}, cursors, temp
     * tables, session advisory locks, {@code set_config}): the logical connection stays on the primary until
     * it is closed.
     */
    PIN_TO_PRIMARY,
    /** Opens a transaction block ({@code BEGIN}, {@code START TRANSACTION}). */
    BEGIN_TRANSACTION,
    /** Ends the session's transaction block ({@code COMMIT}, {@code ROLLBACK}, {@code PREPARE TRANSACTION}...). */
    END_TRANSACTION
}

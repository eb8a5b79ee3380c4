package dev.readsplit.sql;

/** Why a statement was classified the way it was. Only {@link #READ} may go to a replica. */
public enum Reason {
    /** Certainly read-only: {@code SELECT}, {@code VALUES}, {@code TABLE}, {@code SHOW}, {@code EXPLAIN}... */
    READ,
    /** {@code INSERT}, {@code UPDATE}, {@code DELETE}, {@code MERGE}, {@code NOTIFY}, or a write keyword in a query. */
    WRITE,
    /** Schema or maintenance command: {@code CREATE}, {@code ALTER}, {@code DROP}, {@code VACUUM}... */
    DDL,
    /** {@code SELECT ... FOR UPDATE/SHARE/NO KEY UPDATE/KEY SHARE}, or {@code LOCK TABLE}. */
    LOCKING_CLAUSE,
    /** {@code SELECT ... INTO new_table}. */
    SELECT_INTO,
    /** A {@code WITH} query containing {@code INSERT/UPDATE/DELETE/MERGE}. */
    DATA_MODIFYING_CTE,
    /** A call to a function that writes or must run on the primary ({@code nextval}, {@code pg_notify}...). */
    WRITE_FUNCTION,
    /** {@code EXPLAIN ANALYZE} (which executes the statement) of a statement that is not a read. */
    EXPLAIN_ANALYZE_WRITE,
    /** Transaction control: {@code BEGIN}, {@code COMMIT}, {@code ROLLBACK}, {@code SAVEPOINT}... */
    TRANSACTION_CONTROL,
    /** Session or transaction settings: {@code SET}, {@code RESET}, {@code DISCARD}, {@code SET LOCAL}... */
    SESSION_STATE,
    /** Creates session state that cannot follow the session; see {@link SessionEffect#PIN_TO_PRIMARY}. */
    SESSION_PIN,
    /** {@code COPY ... FROM}. */
    COPY_FROM,
    /** Procedural code: {@code CALL} and {@code DO}. */
    CALL,
    /** Several statements, at least one of which is not a read. */
    MULTI_STATEMENT_WRITE,
    /** Nothing but whitespace, comments and semicolons. */
    EMPTY,
    /** Not recognised, or not lexically valid (unterminated comment, literal or identifier): fail closed. */
    UNKNOWN
}

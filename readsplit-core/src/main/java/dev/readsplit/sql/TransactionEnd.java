package dev.readsplit.sql;

import static dev.readsplit.sql.SqlLexer.end;
import static dev.readsplit.sql.SqlLexer.isWord;
import static dev.readsplit.sql.SqlLexer.next;

/**
 * How a transaction-control statement ends the session's work so far, for PostgreSQL's rule on session settings
 * changed inside a transaction: a plain {@code SET} persists after {@code COMMIT} (and {@code PREPARE TRANSACTION}),
 * not after {@code ROLLBACK}, and a {@code ROLLBACK TO SAVEPOINT} undoes those made since the savepoint (see
 * {@code docs/routing.md}). A pure function of the text, total.
 */
public enum TransactionEnd {
    /** Not a transaction end. */
    NONE,
    /** {@code COMMIT}, {@code END}, {@code PREPARE TRANSACTION}: the transaction's settings become the session's. */
    COMMIT,
    /** {@code ROLLBACK}, {@code ABORT}: the transaction's settings are undone. */
    ROLLBACK,
    /** {@code ROLLBACK TO [SAVEPOINT] name}: the settings made since that savepoint are undone. */
    ROLLBACK_TO_SAVEPOINT;

    public static TransactionEnd of(String sql) {
        if (sql == null) {
            return NONE;
        }
        try {
            long t = next(sql, 0);
            if (isWord(sql, t, "commit") || isWord(sql, t, "end")) {
                return isWord(sql, next(sql, end(t)), "prepared") ? NONE : COMMIT;
            }
            if (isWord(sql, t, "prepare")) {
                return isWord(sql, next(sql, end(t)), "transaction") ? COMMIT : NONE;
            }
            if (isWord(sql, t, "rollback") || isWord(sql, t, "abort")) {
                long u = next(sql, end(t));
                if (isWord(sql, u, "work") || isWord(sql, u, "transaction")) {
                    u = next(sql, end(u));
                }
                if (isWord(sql, u, "to")) {
                    return ROLLBACK_TO_SAVEPOINT;
                }
                return isWord(sql, u, "prepared") ? NONE : ROLLBACK;
            }
            return NONE;
        } catch (RuntimeException e) {
            return NONE;
        }
    }
}

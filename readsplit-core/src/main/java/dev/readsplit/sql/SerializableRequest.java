package dev.readsplit.sql;

import static dev.readsplit.sql.SqlLexer.EOF;
import static dev.readsplit.sql.SqlLexer.SEMI;
import static dev.readsplit.sql.SqlLexer.STRING;
import static dev.readsplit.sql.SqlLexer.WORD;
import static dev.readsplit.sql.SqlLexer.end;
import static dev.readsplit.sql.SqlLexer.isWord;
import static dev.readsplit.sql.SqlLexer.next;
import static dev.readsplit.sql.SqlLexer.start;
import static dev.readsplit.sql.SqlLexer.type;

/**
 * Whether a statement asks for the {@code SERIALIZABLE} isolation level, which a hot standby refuses ("cannot use
 * serializable mode in a hot standby", SQLSTATE 0A000): the SQL forms of JDBC's
 * {@code setTransactionIsolation(TRANSACTION_SERIALIZABLE)}, so that they route like it (see {@code docs/routing.md}).
 * A pure function of the text, total (never throws), on the classifier's lexer.
 */
public enum SerializableRequest {
    /** Says nothing about isolation. */
    NONE,
    /**
     * Makes the transaction it starts or runs in serializable: {@code BEGIN}/{@code START TRANSACTION ... ISOLATION
     * LEVEL SERIALIZABLE}, {@code SET TRANSACTION ... SERIALIZABLE}, {@code SET transaction_isolation = serializable}.
     */
    THIS_TRANSACTION,
    /**
     * Makes every later transaction of the session serializable: {@code SET SESSION CHARACTERISTICS AS TRANSACTION
     * ISOLATION LEVEL SERIALIZABLE}, {@code SET default_transaction_isolation = serializable}.
     */
    SESSION_DEFAULT,
    /**
     * Puts the session's default back to something a standby accepts: another level in the same forms,
     * {@code RESET default_transaction_isolation}, {@code RESET ALL}, {@code DISCARD ALL}.
     */
    SESSION_DEFAULT_CLEARED;

    /** What {@code sql} (its first statement) asks for. */
    public static SerializableRequest of(String sql) {
        if (sql == null) {
            return NONE;
        }
        try {
            return scan(sql);
        } catch (RuntimeException e) {
            return NONE; // total, like the classifier: odd text asks for nothing here
        }
    }

    private static SerializableRequest scan(String s) {
        long t = next(s, 0);
        if (isWord(s, t, "begin") || isWord(s, t, "start")) {
            return isolationLevelSerializable(s, end(t)) == Boolean.TRUE ? THIS_TRANSACTION : NONE;
        }
        if (isWord(s, t, "reset")) {
            long u = next(s, end(t));
            return isWord(s, u, "default_transaction_isolation") || isWord(s, u, "all") ? SESSION_DEFAULT_CLEARED : NONE;
        }
        if (isWord(s, t, "discard")) {
            return isWord(s, next(s, end(t)), "all") ? SESSION_DEFAULT_CLEARED : NONE;
        }
        if (!isWord(s, t, "set")) {
            return NONE;
        }
        long u = next(s, end(t));
        if (isWord(s, u, "local")) {
            return NONE; // ends with the transaction it runs in
        }
        if (isWord(s, u, "transaction")) {
            return isolationLevelSerializable(s, end(u)) == Boolean.TRUE ? THIS_TRANSACTION : NONE;
        }
        if (isWord(s, u, "session")) {
            long v = next(s, end(u));
            if (isWord(s, v, "characteristics")) {
                Boolean level = isolationLevelSerializable(s, end(v));
                return level == null ? NONE : level ? SESSION_DEFAULT : SESSION_DEFAULT_CLEARED;
            }
            u = v; // SET SESSION name = value is SET name = value
        }
        if (isWord(s, u, "default_transaction_isolation") || isWord(s, u, "transaction_isolation")) {
            boolean session = isWord(s, u, "default_transaction_isolation");
            long op = next(s, end(u));
            long value = next(s, end(op));
            boolean serializable = (type(value) == WORD && SqlLexer.is(s, start(value), end(value), "serializable"))
                    || (type(value) == STRING && quoted(s, value).equalsIgnoreCase("serializable"));
            if (session) {
                return serializable ? SESSION_DEFAULT : SESSION_DEFAULT_CLEARED;
            }
            return serializable ? THIS_TRANSACTION : NONE;
        }
        return NONE;
    }

    /** After the keyword: TRUE for ISOLATION LEVEL SERIALIZABLE, FALSE for another level, null for none given. */
    private static Boolean isolationLevelSerializable(String s, int pos) {
        long t = next(s, pos);
        for (int i = 0; i < 64 && type(t) != EOF && type(t) != SEMI; i++) {
            if (isWord(s, t, "isolation")) {
                long level = next(s, end(t));
                if (isWord(s, level, "level")) {
                    return isWord(s, next(s, end(level)), "serializable");
                }
            }
            t = next(s, end(t));
        }
        return null;
    }

    private static String quoted(String s, long token) {
        int a = start(token);
        int b = end(token);
        return b - a >= 2 ? s.substring(a + 1, b - 1) : "";
    }
}

package dev.readsplit.sql;

import static dev.readsplit.sql.SqlLexer.DCOLON;
import static dev.readsplit.sql.SqlLexer.DOT;
import static dev.readsplit.sql.SqlLexer.EOF;
import static dev.readsplit.sql.SqlLexer.ERROR;
import static dev.readsplit.sql.SqlLexer.LPAREN;
import static dev.readsplit.sql.SqlLexer.NUMBER;
import static dev.readsplit.sql.SqlLexer.QIDENT;
import static dev.readsplit.sql.SqlLexer.RPAREN;
import static dev.readsplit.sql.SqlLexer.SEMI;
import static dev.readsplit.sql.SqlLexer.STRING;
import static dev.readsplit.sql.SqlLexer.WORD;
import static dev.readsplit.sql.SqlLexer.end;
import static dev.readsplit.sql.SqlLexer.is;
import static dev.readsplit.sql.SqlLexer.isWord;
import static dev.readsplit.sql.SqlLexer.next;
import static dev.readsplit.sql.SqlLexer.start;
import static dev.readsplit.sql.SqlLexer.type;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Classifies SQL text as certainly read-only (may run on a replica) or not (must run on the primary), and
 * reports leading routing hints and the statement's effect on the session. A pure, thread-safe function of
 * the text: no JDBC, no I/O, no shared mutable state.
 *
 * <h2>Lexer, not regex, not parser</h2>
 * {@link SqlLexer} turns the text into tokens, skipping whitespace and comments (nested {@code /* *&#47;},
 * {@code --}) and treating string literals (all PostgreSQL forms, including dollar quotes) and quoted
 * identifiers as single opaque tokens, so a keyword hidden in a comment, a literal or a quoted identifier is
 * never seen. The classifier then looks at a handful of tokens: the first keyword of each statement decides
 * the statement kind; for queries ({@code SELECT}, {@code VALUES}, {@code TABLE}, {@code WITH},
 * {@code (SELECT ...)}) every token is visited once, tracking parenthesis depth and the last four tokens,
 * looking for: {@code INSERT/UPDATE/DELETE/MERGE} (a data-modifying CTE, or the main statement of a
 * {@code WITH}), {@code FOR UPDATE/SHARE/NO KEY UPDATE/KEY SHARE}, {@code INTO} ({@code SELECT INTO}), and
 * function calls (a possibly qualified name followed by {@code (}, unless the name is a keyword such as
 * {@code IN}/{@code EXISTS}/{@code VALUES}, follows {@code ::} or {@code AS}, or follows {@code )}).
 * Statements are split on {@code ;} at parenthesis depth 0 (a {@code BEGIN ATOMIC ... END} function body
 * is kept whole).
 *
 * <h2>Fail closed</h2>
 * Only {@link Reason#READ} may go to a replica, and it is returned only when the text is certainly
 * read-only. Anything not recognised ({@link Reason#UNKNOWN}), lexically invalid (an unterminated comment,
 * literal, quoted identifier or dollar quote), empty, or ambiguous goes to the primary: a read wrongly sent
 * to the primary costs a little load, a write sent to a replica fails or, worse, a misrouted
 * {@code SELECT nextval(...)} surprises the user. So an unquoted word {@code update} used as a column name in
 * a {@code SELECT} makes it go to the primary, and a write function matches by name in any schema. Functions
 * in neither curated list are reported in {@link Classification#userFunctions()} and the router decides with
 * {@code pg_proc}. The classifier never throws: {@code null} is {@link Reason#UNKNOWN}.
 *
 * <p>What text alone cannot see, and the router's {@code 25006} re-run on the primary must catch: volatile
 * functions reached indirectly (through a view, a column default, an operator, or attribute notation
 * {@code t.f}). The lexer assumes {@code standard_conforming_strings = on} (the default since PostgreSQL 9.1);
 * with it off, a backslash before a quote in a plain {@code '...'} literal is lexed differently.
 *
 * <h2>Hints</h2>
 * Leading block comments (before the first token, possibly after whitespace, other comments and line
 * comments) whose text is {@code readsplit:} followed by one or more directives separated by commas and/or
 * whitespace are routing hints: {@code primary}, {@code replica}, {@code max-lag=<n><unit>} with unit
 * {@code ms}, {@code s} or {@code m} and {@code n} a decimal number ({@code 500ms}, {@code 2s},
 * {@code 1.5s}; fractions of a millisecond are truncated). Later directives in the same comment may repeat
 * the {@code readsplit:} prefix: {@code /* readsplit:replica, max-lag=500ms *&#47;} and
 * {@code /* readsplit:replica readsplit:max-lag=500ms *&#47;} are equivalent. A comment with any invalid
 * directive is ignored as a whole (an ordinary comment). When several hints are given, {@code primary} wins
 * over {@code replica} and the smallest {@code max-lag} wins. Hints are case-insensitive. The hint is only
 * reported: the classification of the text is still computed, and the router decides precedence.
 *
 * <h2>Session effects and transaction control</h2>
 * See {@link SessionEffect}. Decisions beyond the obvious: {@code SET LOCAL}, {@code SET TRANSACTION},
 * {@code SET CONSTRAINTS} are transaction-scoped ({@code NONE}); {@code DISCARD} and {@code RESET} are
 * {@code SET_SESSION_STATE} (apply everywhere); {@code DEALLOCATE} is primary with {@code NONE};
 * {@code EXECUTE}, {@code FETCH}, {@code MOVE}, {@code CLOSE}, {@code LOAD} pin like {@code PREPARE} and
 * {@code DECLARE} (they use state that exists only on the pinned primary); {@code set_config(...)} pins.
 * {@code SAVEPOINT}, {@code RELEASE}, {@code ROLLBACK TO}, {@code COMMIT/ROLLBACK PREPARED} and
 * {@code COMMIT/ROLLBACK AND CHAIN} are {@code TRANSACTION_CONTROL} with {@code NONE} (the session's
 * transaction state does not change); {@code PREPARE TRANSACTION} ends the session's transaction
 * ({@code END_TRANSACTION}). {@code CALL} and {@code DO} both report {@link Reason#CALL}.
 *
 * <h2>Several statements</h2>
 * Read only if every statement is a read (user functions of all of them are reported). Otherwise
 * {@link Reason#MULTI_STATEMENT_WRITE} ({@link Reason#UNKNOWN} if any statement is unknown), with effect
 * {@code PIN_TO_PRIMARY} if any statement pins or changes session state (the router cannot replay a part of
 * the text on other nodes), else the last transaction-control effect, else {@code NONE}. Empty statements
 * ({@code ;;}, a trailing {@code ;}) are ignored.
 *
 * <h2>Performance</h2>
 * Tokens are packed in {@code long}s and keywords compared in place, so a statement without a
 * {@code max-lag} hint or user functions allocates nothing and returns a shared constant
 * {@link Classification}. User functions are collected by a second pass only when the first found some.
 */
public final class SqlClassifier {

    private static final SqlClassifier DEFAULTS = new Builder().build();

    // Statement result packed in a long: bits 0-29 position where the statement scan stopped (parenthesis
    // depth 0), bits 32-39 Reason ordinal, bits 40-43 SessionEffect ordinal, flags above.
    private static final long POS_MASK = SqlLexer.MAX_LENGTH;
    private static final long USER_FN = 1L << 48;
    private static final long LEX_ERROR = 1L << 49;
    private static final long ATOMIC_BODY = 1L << 50; // CREATE: a BEGIN ATOMIC ... END body may follow

    private static final int READ = Reason.READ.ordinal();
    private static final int UNKNOWN = Reason.UNKNOWN.ordinal();

    private static final int CALL_READ = 0;
    private static final int CALL_WRITE = 1;
    private static final int CALL_PIN = 2;
    private static final int CALL_USER = 3;

    private final NameSet userWrite;
    private final NameSet userRead;

    private SqlClassifier(NameSet userWrite, NameSet userRead) {
        this.userWrite = userWrite;
        this.userRead = userRead;
    }

    /** A classifier with the curated built-in function lists only. */
    public static SqlClassifier defaults() {
        return DEFAULTS;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Classifies {@code sql}. Never throws; {@code null} and texts longer than 2^30-1 characters are
     * {@link Reason#UNKNOWN}.
     */
    public Classification classify(String sql) {
        if (sql == null || sql.length() > SqlLexer.MAX_LENGTH) {
            return Classification.constant(UNKNOWN, Hint.NONE.ordinal(), SessionEffect.NONE.ordinal());
        }
        // Leading comments: routing hints.
        int n = sql.length();
        int pos = 0;
        int hintBits = 0;
        long maxLag = -1;
        while (true) {
            while (pos < n && isSpace(sql.charAt(pos))) {
                pos++;
            }
            if (pos + 1 < n && sql.charAt(pos) == '/' && sql.charAt(pos + 1) == '*') {
                int e = SqlLexer.blockCommentEnd(sql, pos);
                if (e < 0) {
                    break; // the lexer reports the unterminated comment
                }
                long d = parseDirectives(sql, pos + 2, e - 2);
                if (d >= 0) {
                    hintBits |= (int) (d & 3);
                    if ((d & 4) != 0) {
                        long lag = d >>> 3;
                        maxLag = maxLag < 0 ? lag : Math.min(maxLag, lag);
                    }
                }
                pos = e;
            } else if (pos + 1 < n && sql.charAt(pos) == '-' && sql.charAt(pos + 1) == '-') {
                while (pos < n && sql.charAt(pos) != '\n' && sql.charAt(pos) != '\r') {
                    pos++;
                }
            } else {
                break;
            }
        }
        int hint = (hintBits & 1) != 0 ? Hint.PRIMARY.ordinal()
                : (hintBits & 2) != 0 ? Hint.REPLICA.ordinal() : Hint.NONE.ordinal();

        long r = classifyText(sql, pos, null);
        int reason = reasonOf(r);
        int effect = effectOf(r);
        List<String> fns = List.of();
        if (reason == READ && (r & USER_FN) != 0) {
            List<String> sink = new ArrayList<>(4);
            classifyText(sql, pos, sink);
            fns = sink;
        }
        if (maxLag < 0 && fns.isEmpty()) {
            return Classification.constant(reason, hint, effect);
        }
        return Classification.of(reason, hint, effect, maxLag, fns);
    }

    // ---------------------------------------------------------------- packed results

    private static long result(int pos, int reason, int effect) {
        return pos | ((long) reason << 32) | ((long) effect << 40);
    }

    private static long result(int pos, Reason reason, SessionEffect effect) {
        return result(pos, reason.ordinal(), effect.ordinal());
    }

    private static long result(int pos, Reason reason) {
        return result(pos, reason.ordinal(), SessionEffect.NONE.ordinal());
    }

    private static long lexError(String s) {
        return LEX_ERROR | result(s.length(), Reason.UNKNOWN);
    }

    private static int posOf(long r) {
        return (int) (r & POS_MASK);
    }

    private static int reasonOf(long r) {
        return (int) ((r >>> 32) & 0xFF);
    }

    private static int effectOf(long r) {
        return (int) ((r >>> 40) & 0xF);
    }

    // ---------------------------------------------------------------- statements

    /** Classifies all statements from {@code pos}; combines them (see class comment). */
    private long classifyText(String s, int pos, List<String> sink) {
        int count = 0;
        long single = 0;
        boolean allRead = true;
        boolean anyUnknown = false;
        boolean anyState = false;
        int txn = SessionEffect.NONE.ordinal();
        long userFn = 0;
        while (true) {
            long t = next(s, pos);
            int type = type(t);
            if (type == EOF) {
                break;
            }
            if (type == ERROR) {
                return lexError(s);
            }
            if (type == SEMI) {
                pos = end(t);
                continue;
            }
            long r = statement(s, t, false, sink);
            if ((r & LEX_ERROR) != 0) {
                return r;
            }
            int stop = posOf(r);
            pos = stop >= s.length() ? stop : skipToEnd(s, stop, (r & ATOMIC_BODY) != 0);
            if (pos < 0) {
                return lexError(s);
            }
            count++;
            single = r;
            int reason = reasonOf(r);
            int effect = effectOf(r);
            allRead &= reason == READ;
            anyUnknown |= reason == UNKNOWN;
            if (effect == SessionEffect.PIN_TO_PRIMARY.ordinal()
                    || effect == SessionEffect.SET_SESSION_STATE.ordinal()) {
                anyState = true;
            } else if (effect != SessionEffect.NONE.ordinal()) {
                txn = effect;
            }
            userFn |= r & USER_FN;
        }
        if (count == 0) {
            return result(0, Reason.EMPTY);
        }
        if (count == 1) {
            return single;
        }
        if (allRead) {
            return result(0, Reason.READ) | userFn;
        }
        return result(0, anyUnknown ? UNKNOWN : Reason.MULTI_STATEMENT_WRITE.ordinal(),
                anyState ? SessionEffect.PIN_TO_PRIMARY.ordinal() : txn);
    }

    /**
     * {@code SHOW name}, {@code SHOW a.b}, {@code SHOW ALL}, {@code SHOW TIME ZONE},
     * {@code SHOW TRANSACTION ISOLATION LEVEL}, {@code SHOW SESSION AUTHORIZATION}: at most three words
     * (dotted names count once), then the end of the statement. Anything else is not a SHOW PostgreSQL
     * would run: unknown, so primary (found by the property test: {@code SHOW MERGE INTO ...} was a read).
     */
    private static long show(String s, int pos) {
        long t = next(s, pos);
        if (isWord(s, t, "time")) {
            return endOfShow(s, expectWords(s, end(t), "zone"));
        }
        if (isWord(s, t, "transaction")) {
            return endOfShow(s, expectWords(s, end(t), "isolation", "level"));
        }
        if (isWord(s, t, "session")) {
            return endOfShow(s, expectWords(s, end(t), "authorization"));
        }
        // one setting name, possibly dotted (pg_stat_statements.max), or ALL
        int p = -1;
        while (type(t) == WORD || type(t) == QIDENT) {
            p = end(t);
            long dot = next(s, p);
            if (type(dot) != DOT) {
                break;
            }
            t = next(s, end(dot));
            p = -1;
        }
        return endOfShow(s, p);
    }

    /** The position after the given words in order, or -1. */
    private static int expectWords(String s, int pos, String... words) {
        for (String w : words) {
            long t = next(s, pos);
            if (!isWord(s, t, w)) {
                return -1;
            }
            pos = end(t);
        }
        return pos;
    }

    /** A SHOW is a read only if its name is followed by the end of the statement. */
    private static long endOfShow(String s, int pos) {
        if (pos < 0) {
            return result(s.length(), Reason.UNKNOWN);
        }
        long t = next(s, pos);
        int type = type(t);
        return type == EOF || type == SEMI ? result(start(t), Reason.READ) : result(pos, Reason.UNKNOWN);
    }

    /**
     * Skips to the end of the statement: just after the next {@code ;} at parenthesis depth 0 (outside a
     * {@code BEGIN ATOMIC ... END} body if {@code atomicBody}), or the end of text. -1 on a lexical error.
     */
    private static int skipToEnd(String s, int pos, boolean atomicBody) {
        int depth = 0;
        int atomic = 0;
        long prev = 0;
        while (true) {
            long t = next(s, pos);
            int type = type(t);
            if (type == EOF) {
                return end(t);
            }
            if (type == ERROR) {
                return -1;
            }
            pos = end(t);
            if (type == SEMI && depth <= 0 && atomic == 0) {
                return pos;
            } else if (type == LPAREN) {
                depth++;
            } else if (type == RPAREN) {
                depth--;
            } else if (type == WORD) {
                if (atomicBody && isWord(s, t, "atomic") && isWord(s, prev, "begin")) {
                    atomic = 1;
                } else if (atomic > 0 && isWord(s, t, "case")) {
                    atomic++;
                } else if (atomic > 0 && isWord(s, t, "end")) {
                    atomic--;
                }
            }
            prev = t;
        }
    }

    /**
     * Classifies the statement whose first token starts at {@code pos}. The returned position is where the
     * scan stopped, at parenthesis depth 0 of this statement. {@code nested}: inside {@code EXPLAIN} or
     * {@code COPY}, which may not nest again.
     */
    private long statement(String s, int pos, boolean nested, List<String> sink) {
        return statement(s, next(s, pos), nested, sink);
    }

    /** As {@link #statement(String, int, boolean, List)} with the statement's first token already lexed. */
    private long statement(String s, long t, boolean nested, List<String> sink) {
        int type = type(t);
        if (type == ERROR) {
            return lexError(s);
        }
        int a = start(t);
        int b = end(t);
        if (type == LPAREN) {
            return scanQuery(s, a, 0L, false, sink);
        }
        if (type != WORD) {
            return result(a, Reason.UNKNOWN);
        }
        switch (SqlLexer.lower(s.charAt(a))) {
            case 'a':
                if (is(s, a, b, "alter") || is(s, a, b, "analyze") || is(s, a, b, "analyse")) {
                    return result(b, Reason.DDL);
                }
                if (is(s, a, b, "abort")) {
                    return endTransaction(s, b);
                }
                break;
            case 'b':
                if (is(s, a, b, "begin")) {
                    return result(b, Reason.TRANSACTION_CONTROL, SessionEffect.BEGIN_TRANSACTION);
                }
                break;
            case 'c':
                if (is(s, a, b, "create")) {
                    return create(s, b);
                }
                if (is(s, a, b, "commit")) {
                    return endTransaction(s, b);
                }
                if (is(s, a, b, "copy")) {
                    return nested ? result(b, Reason.UNKNOWN) : copy(s, b, sink);
                }
                if (is(s, a, b, "call")) {
                    return result(b, Reason.CALL);
                }
                if (is(s, a, b, "close")) {
                    return pin(b);
                }
                if (is(s, a, b, "comment") || is(s, a, b, "cluster") || is(s, a, b, "checkpoint")) {
                    return result(b, Reason.DDL);
                }
                break;
            case 'd':
                if (is(s, a, b, "delete")) {
                    return result(b, Reason.WRITE);
                }
                if (is(s, a, b, "drop")) {
                    return result(b, Reason.DDL);
                }
                if (is(s, a, b, "do")) {
                    return result(b, Reason.CALL);
                }
                if (is(s, a, b, "declare")) {
                    return pin(b);
                }
                if (is(s, a, b, "discard")) {
                    return result(b, Reason.SESSION_STATE, SessionEffect.SET_SESSION_STATE);
                }
                if (is(s, a, b, "deallocate")) {
                    return result(b, Reason.SESSION_STATE);
                }
                break;
            case 'e':
                if (is(s, a, b, "explain")) {
                    return nested ? result(b, Reason.UNKNOWN) : explain(s, b, sink);
                }
                if (is(s, a, b, "end")) {
                    return endTransaction(s, b);
                }
                if (is(s, a, b, "execute")) {
                    return pin(b);
                }
                break;
            case 'f':
                if (is(s, a, b, "fetch")) {
                    return pin(b);
                }
                break;
            case 'g':
                if (is(s, a, b, "grant")) {
                    return result(b, Reason.DDL);
                }
                break;
            case 'i':
                if (is(s, a, b, "insert")) {
                    return result(b, Reason.WRITE);
                }
                if (is(s, a, b, "import")) {
                    return result(b, Reason.DDL);
                }
                break;
            case 'l':
                if (is(s, a, b, "lock")) {
                    return result(b, Reason.LOCKING_CLAUSE);
                }
                if (is(s, a, b, "listen") || is(s, a, b, "load")) {
                    return pin(b);
                }
                break;
            case 'm':
                if (is(s, a, b, "merge")) {
                    return result(b, Reason.WRITE);
                }
                if (is(s, a, b, "move")) {
                    return pin(b);
                }
                break;
            case 'n':
                if (is(s, a, b, "notify")) {
                    return result(b, Reason.WRITE);
                }
                break;
            case 'p':
                if (is(s, a, b, "prepare")) {
                    long u = next(s, b);
                    if (isWord(s, u, "transaction")) {
                        return result(end(u), Reason.TRANSACTION_CONTROL, SessionEffect.END_TRANSACTION);
                    }
                    return pin(b);
                }
                break;
            case 'r':
                if (is(s, a, b, "rollback")) {
                    return endTransaction(s, b);
                }
                if (is(s, a, b, "reset")) {
                    return result(b, Reason.SESSION_STATE, SessionEffect.SET_SESSION_STATE);
                }
                if (is(s, a, b, "release")) {
                    return result(b, Reason.TRANSACTION_CONTROL);
                }
                if (is(s, a, b, "revoke") || is(s, a, b, "reindex") || is(s, a, b, "refresh")
                        || is(s, a, b, "reassign")) {
                    return result(b, Reason.DDL);
                }
                break;
            case 's':
                if (is(s, a, b, "select")) {
                    return scanQuery(s, b, t, false, sink);
                }
                if (is(s, a, b, "set")) {
                    return set(s, b);
                }
                if (is(s, a, b, "show")) {
                    return show(s, b);
                }
                if (is(s, a, b, "start")) {
                    long u = next(s, b);
                    if (isWord(s, u, "transaction")) {
                        return result(end(u), Reason.TRANSACTION_CONTROL, SessionEffect.BEGIN_TRANSACTION);
                    }
                    return result(b, Reason.UNKNOWN);
                }
                if (is(s, a, b, "savepoint")) {
                    return result(b, Reason.TRANSACTION_CONTROL);
                }
                if (is(s, a, b, "security")) {
                    return result(b, Reason.DDL);
                }
                break;
            case 't':
                if (is(s, a, b, "table")) {
                    return scanQuery(s, b, t, false, sink);
                }
                if (is(s, a, b, "truncate")) {
                    return result(b, Reason.DDL);
                }
                break;
            case 'u':
                if (is(s, a, b, "update")) {
                    return result(b, Reason.WRITE);
                }
                if (is(s, a, b, "unlisten")) {
                    return pin(b);
                }
                break;
            case 'v':
                if (is(s, a, b, "values")) {
                    return scanQuery(s, b, t, false, sink);
                }
                if (is(s, a, b, "vacuum")) {
                    return result(b, Reason.DDL);
                }
                break;
            case 'w':
                if (is(s, a, b, "with")) {
                    return scanQuery(s, b, t, true, sink);
                }
                break;
            default:
                break;
        }
        return result(b, Reason.UNKNOWN);
    }

    private static long pin(int pos) {
        return result(pos, Reason.SESSION_PIN, SessionEffect.PIN_TO_PRIMARY);
    }

    /**
     * {@code COMMIT}/{@code END}/{@code ROLLBACK}/{@code ABORT} [{@code WORK}|{@code TRANSACTION}]: ends the
     * transaction, except {@code ... PREPARED 'gid'}, {@code ROLLBACK TO [SAVEPOINT] x} and
     * {@code ... AND CHAIN}, which leave the session's transaction state unchanged.
     */
    private static long endTransaction(String s, int pos) {
        long u = next(s, pos);
        if (isWord(s, u, "work") || isWord(s, u, "transaction")) {
            pos = end(u);
            u = next(s, pos);
        }
        if (isWord(s, u, "prepared") || isWord(s, u, "to")) {
            return result(end(u), Reason.TRANSACTION_CONTROL);
        }
        if (isWord(s, u, "and")) {
            long v = next(s, end(u));
            if (isWord(s, v, "chain")) {
                return result(end(v), Reason.TRANSACTION_CONTROL);
            }
        }
        return result(pos, Reason.TRANSACTION_CONTROL, SessionEffect.END_TRANSACTION);
    }

    /** {@code SET ...}: see the class comment. */
    private static long set(String s, int pos) {
        long u = next(s, pos);
        if (isWord(s, u, "local")) {
            return result(end(u), Reason.SESSION_STATE);
        }
        if (isWord(s, u, "transaction") || isWord(s, u, "constraints")) {
            return result(end(u), Reason.TRANSACTION_CONTROL);
        }
        return result(pos, Reason.SESSION_STATE, SessionEffect.SET_SESSION_STATE);
    }

    /** {@code CREATE}: DDL, or a session pin for temporary tables, views and sequences. */
    private static long create(String s, int pos) {
        boolean objectSeen = false;
        for (int i = 0; i < 10; i++) {
            long u = next(s, pos);
            int type = type(u);
            if (type == EOF || type == SEMI || type == ERROR || type == LPAREN || isWord(s, u, "as")) {
                break;
            }
            pos = end(u);
            if (type != WORD) {
                continue;
            }
            if (!objectSeen && (isWord(s, u, "temp") || isWord(s, u, "temporary"))) {
                return pin(pos);
            }
            if (isWord(s, u, "table") || isWord(s, u, "view") || isWord(s, u, "sequence")) {
                objectSeen = true;
            } else if (objectSeen && isWord(s, u, "pg_temp") && type(next(s, pos)) == DOT) {
                return pin(pos);
            }
        }
        return result(pos, Reason.DDL) | ATOMIC_BODY;
    }

    /** {@code COPY (query) TO ...} is the query; {@code COPY t ... FROM} writes; {@code COPY t ... TO} reads. */
    private long copy(String s, int pos, List<String> sink) {
        long u = next(s, pos);
        if (type(u) == LPAREN) {
            long inner = statement(s, end(u), true, sink);
            if ((inner & LEX_ERROR) != 0) {
                return inner;
            }
            int reason = reasonOf(inner);
            // Resume at the '(' so that the caller skips the parenthesised query at depth 0.
            return reason == READ ? result(start(u), Reason.READ) | (inner & USER_FN)
                    : result(start(u), reason, SessionEffect.NONE.ordinal());
        }
        int depth = 0;
        while (true) {
            long t = next(s, pos);
            int type = type(t);
            if (type == ERROR) {
                return lexError(s);
            }
            if (type == EOF || (type == SEMI && depth <= 0)) {
                return result(start(t), Reason.UNKNOWN);
            }
            pos = end(t);
            if (type == LPAREN) {
                depth++;
            } else if (type == RPAREN) {
                depth--;
            } else if (depth == 0 && isWord(s, t, "from")) {
                return result(pos, Reason.COPY_FROM);
            } else if (depth == 0 && isWord(s, t, "to")) {
                return result(pos, Reason.READ);
            }
        }
    }

    /**
     * {@code EXPLAIN [ANALYZE] [VERBOSE] stmt} and {@code EXPLAIN (option [value], ...) stmt}. Without
     * ANALYZE nothing is executed, so any plannable statement is a read (and its functions are not reported);
     * with ANALYZE the statement runs, so it is a read only if the statement is.
     */
    private long explain(String s, int pos, List<String> sink) {
        boolean analyze = false;
        long u = next(s, pos);
        if (type(u) == LPAREN) {
            pos = end(u);
            while (true) {
                long o = next(s, pos);
                int type = type(o);
                if (type == ERROR) {
                    return lexError(s);
                }
                if (type == EOF || type == SEMI) {
                    return result(start(o), Reason.UNKNOWN);
                }
                pos = end(o);
                if (type == RPAREN) {
                    break;
                }
                if (isWord(s, o, "analyze") || isWord(s, o, "analyse")) {
                    long v = next(s, pos);
                    analyze = !isFalse(s, v);
                }
            }
        } else {
            if (isWord(s, u, "analyze") || isWord(s, u, "analyse")) {
                analyze = true;
                pos = end(u);
                u = next(s, pos);
            }
            if (isWord(s, u, "verbose")) {
                pos = end(u);
            }
        }
        long inner = statement(s, pos, true, analyze ? sink : null);
        if ((inner & LEX_ERROR) != 0) {
            return inner;
        }
        int at = posOf(inner);
        int reason = reasonOf(inner);
        if (reason == READ) {
            return result(at, Reason.READ) | (analyze ? inner & USER_FN : 0);
        }
        if (analyze) {
            return result(at, Reason.EXPLAIN_ANALYZE_WRITE.ordinal(), effectOf(inner));
        }
        if (reason == Reason.WRITE.ordinal() || reason == Reason.DATA_MODIFYING_CTE.ordinal()
                || reason == Reason.LOCKING_CLAUSE.ordinal() || reason == Reason.WRITE_FUNCTION.ordinal()) {
            return result(at, Reason.READ);
        }
        return result(at, Reason.UNKNOWN);
    }

    /** An EXPLAIN boolean option value that turns the option off. */
    private static boolean isFalse(String s, long v) {
        int type = type(v);
        int a = start(v);
        int b = end(v);
        if (type == WORD) {
            return is(s, a, b, "false") || is(s, a, b, "off");
        }
        if (type == NUMBER) {
            return is(s, a, b, "0");
        }
        if (type == STRING && s.charAt(a) == '\'') {
            return is(s, a + 1, b - 1, "false") || is(s, a + 1, b - 1, "off") || is(s, a + 1, b - 1, "0");
        }
        return false;
    }

    // scanQuery state, one bit each in an int: few live values in the per-token loop (no register spills)
    private static final int SCAN_PRELUDE = 1; // in the CTE list of a WITH, before the main statement
    private static final int SCAN_DML = 1 << 1; // INSERT/UPDATE/DELETE/MERGE as the statement
    private static final int SCAN_DML_CTE = 1 << 2; // ... in a data-modifying CTE (wins over SCAN_DML)
    private static final int SCAN_INTO = 1 << 3;
    private static final int SCAN_LOCKING = 1 << 4;
    private static final int SCAN_PIN = 1 << 5;
    private static final int SCAN_WRITE_FN = 1 << 6;
    private static final int SCAN_USER_FN = 1 << 7;
    private static final int SCAN_WITH = 1 << 8; // the query begins with WITH

    /** First letters of the keywords {@link #scanQuery} looks for: into, insert, update, delete, merge, for. */
    private static final int SCAN_INITIALS = (1 << ('i' - 'a')) | (1 << ('u' - 'a')) | (1 << ('d' - 'a'))
            | (1 << ('m' - 'a')) | (1 << ('f' - 'a'));

    /**
     * Scans a query ({@code SELECT}, {@code VALUES}, {@code TABLE}, {@code WITH}, {@code (...)}) from
     * {@code pos} to the {@code ;} at depth 0 or the end of text. {@code first}: the token just before
     * {@code pos} (the leading keyword), 0 if none.
     */
    private long scanQuery(String s, int pos, long first, boolean withLed, List<String> sink) {
        int depth = 0;
        long p1 = first;
        long p2 = 0;
        long p3 = 0;
        long p4 = 0;
        int state = withLed ? SCAN_WITH | SCAN_PRELUDE : 0;
        while (true) {
            long t = next(s, pos);
            int type = type(t);
            if (type == EOF) {
                pos = end(t);
                break;
            }
            if (type == ERROR) {
                return lexError(s);
            }
            if ((state & SCAN_PRELUDE) != 0 && depth == 0) {
                // WITH name [(cols)] AS [NOT] [MATERIALIZED] ( query ) [, ...] main-statement
                if (isWord(s, p1, "as") && type != LPAREN && !isWord(s, t, "not") && !isWord(s, t, "materialized")) {
                    return lexError(s); // "WITH x AS UPDATE ..." is no CTE: fail closed (found by the property test)
                }
                if (type == WORD && type(p1) == RPAREN && !isWord(s, t, "as")) {
                    state &= ~SCAN_PRELUDE; // the main statement begins
                }
            }
            if (type == SEMI) {
                if (depth > 0) {
                    // a ';' inside parentheses: not a query PostgreSQL would run; fail closed rather than
                    // read on past what may be the start of another statement (found by the property test)
                    return lexError(s);
                }
                pos = start(t);
                break;
            }
            pos = end(t);
            if (type == WORD) {
                int a = start(t);
                int len = pos - a;
                // only words of 3 to 6 letters starting with one of SCAN_INITIALS can be a keyword looked for
                int initial = (s.charAt(a) | 0x20) - 'a'; // ASCII lower case; out of range for non-letters
                if (len >= 3 && len <= 6 && initial >= 0 && initial < 26 && (SCAN_INITIALS & (1 << initial)) != 0) {
                    if ((len == 6 && (is(s, a, pos, "insert") || is(s, a, pos, "update") || is(s, a, pos, "delete")))
                            || (len == 5 && is(s, a, pos, "merge"))) {
                        // Not a qualified column (t.update) or an alias (AS update).
                        if (type(p1) != DOT && !isWord(s, p1, "as")) {
                            state |= type(p1) == LPAREN || ((state & SCAN_WITH) != 0 && depth > 0)
                                    || (state & SCAN_DML_CTE) != 0
                                    ? SCAN_DML_CTE : SCAN_DML;
                        }
                    } else if (len == 3 && is(s, a, pos, "for")) {
                        long last = lockingClause(s, t);
                        if (last != t) {
                            state |= SCAN_LOCKING;
                            t = last;
                            pos = end(t);
                        }
                    } else if (len == 4 && is(s, a, pos, "into")) {
                        state |= intoTemp(s, pos) ? SCAN_INTO | SCAN_PIN : SCAN_INTO;
                    }
                }
            } else if (type == LPAREN) {
                int p1Type = type(p1);
                if (p1Type == WORD || p1Type == QIDENT) {
                    int kind = callKind(s, p1, p2, p3, p4, sink);
                    if (kind == CALL_PIN) {
                        state |= SCAN_PIN;
                    } else if (kind == CALL_WRITE) {
                        state |= SCAN_WRITE_FN;
                    } else if (kind == CALL_USER) {
                        state |= SCAN_USER_FN;
                    }
                }
                depth++;
            } else if (type == RPAREN) {
                depth--;
            }
            p4 = p3;
            p3 = p2;
            p2 = p1;
            p1 = t;
        }
        if ((state & SCAN_PIN) != 0) {
            return pin(pos);
        }
        if ((state & SCAN_DML_CTE) != 0) {
            return result(pos, Reason.DATA_MODIFYING_CTE);
        }
        if ((state & SCAN_DML) != 0) {
            return result(pos, Reason.WRITE);
        }
        if ((state & SCAN_INTO) != 0) {
            return result(pos, Reason.SELECT_INTO);
        }
        if ((state & SCAN_LOCKING) != 0) {
            return result(pos, Reason.LOCKING_CLAUSE);
        }
        if ((state & SCAN_WRITE_FN) != 0) {
            return result(pos, Reason.WRITE_FUNCTION);
        }
        return result(pos, Reason.READ) | ((state & SCAN_USER_FN) != 0 ? USER_FN : 0);
    }

    /**
     * The last token of the locking clause {@code FOR UPDATE}, {@code FOR SHARE}, {@code FOR NO KEY UPDATE} or
     * {@code FOR KEY SHARE} that begins with the token {@code forToken}; {@code forToken} itself if none does.
     */
    private static long lockingClause(String s, long forToken) {
        long u = next(s, end(forToken));
        if (isWord(s, u, "update") || isWord(s, u, "share")) {
            return u;
        }
        if (isWord(s, u, "no")) {
            long v = next(s, end(u));
            if (isWord(s, v, "key")) {
                long w = next(s, end(v));
                if (isWord(s, w, "update")) {
                    return w;
                }
            }
        } else if (isWord(s, u, "key")) {
            long v = next(s, end(u));
            if (isWord(s, v, "share")) {
                return v;
            }
        }
        return forToken;
    }

    /** Whether {@code INTO} (ending at {@code pos}) is followed by {@code [LOCAL|GLOBAL] TEMP|TEMPORARY}. */
    private static boolean intoTemp(String s, int pos) {
        long u = next(s, pos);
        if (isWord(s, u, "local") || isWord(s, u, "global")) {
            u = next(s, end(u));
        }
        return isWord(s, u, "temp") || isWord(s, u, "temporary");
    }

    /**
     * What the {@code (} after {@code p1} means: {@code p1} is the name, {@code p2}/{@code p3} an optional
     * {@code .}/schema, {@code p4}/{@code p2} the token before the name.
     */
    private int callKind(String s, long p1, long p2, long p3, long p4, List<String> sink) {
        boolean nq = type(p1) == QIDENT;
        if (nq && s.charAt(start(p1)) != '"') {
            return CALL_WRITE; // U&"..." with escapes cannot be resolved here: fail closed
        }
        int ns = start(p1) + (nq ? 1 : 0);
        int ne = end(p1) - (nq ? 1 : 0);
        int qs = -1;
        int qe = -1;
        boolean qq = false;
        long before;
        int p3Type = type(p3);
        if (type(p2) == DOT && (p3Type == WORD || p3Type == QIDENT)) {
            qq = p3Type == QIDENT;
            if (qq && s.charAt(start(p3)) != '"') {
                return CALL_WRITE;
            }
            qs = start(p3) + (qq ? 1 : 0);
            qe = end(p3) - (qq ? 1 : 0);
            before = p4;
        } else {
            before = p2;
        }
        int bt = type(before);
        // Write-capable names first, whatever precedes them: "(SELECT 1) nextval('s')" looks like an alias
        // with a column list and "x::set_config(...)" like a type modifier, but no type or alias has such a
        // name: fail closed (both found by the property test).
        if (BuiltinFunctions.PIN.contains(s, ns, ne, nq)) {
            return CALL_PIN;
        }
        if ((!userWrite.isEmpty() && userWrite.contains(s, ns, ne, nq))
                || BuiltinFunctions.WRITE.contains(s, ns, ne, nq)) {
            return CALL_WRITE;
        }
        if (bt == DCOLON || bt == RPAREN || isWord(s, before, "as") || isWord(s, before, "with")
                || isWord(s, before, "recursive")) {
            return CALL_READ; // a type modifier, an alias or CTE column list: not a call
        }
        if (qs < 0 && !nq && BuiltinFunctions.NOT_FUNCTION.contains(s, ns, ne, false)) {
            return CALL_READ;
        }
        if (!userRead.isEmpty() && userRead.contains(s, qs, qe, qq, ns, ne, nq)) {
            return CALL_READ;
        }
        if ((qs < 0 || (!qq && is(s, qs, qe, "pg_catalog"))) && BuiltinFunctions.READ.contains(s, ns, ne, nq)) {
            return CALL_READ;
        }
        if (sink != null) {
            String name = qs < 0 ? part(s, ns, ne, nq) : part(s, qs, qe, qq) + '.' + part(s, ns, ne, nq);
            if (!sink.contains(name)) {
                sink.add(name);
            }
        }
        return CALL_USER;
    }

    private static String part(String s, int a, int b, boolean quoted) {
        if (quoted) {
            return s.substring(a, b).replace("\"\"", "\"");
        }
        char[] out = new char[b - a];
        for (int i = a; i < b; i++) {
            out[i - a] = SqlLexer.lower(s.charAt(i));
        }
        return new String(out);
    }

    // ---------------------------------------------------------------- hints

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0x0B;
    }

    private static final String PREFIX = "readsplit:";

    /**
     * Parses the text of a block comment {@code s[from, to)}. Returns -1 if it is not a valid hint comment,
     * else bit 0 primary, bit 1 replica, bit 2 max-lag present, bits 3.. the smallest max-lag in ms.
     */
    static long parseDirectives(String s, int from, int to) {
        int i = from;
        while (i < to && isSpace(s.charAt(i))) {
            i++;
        }
        if (!SqlLexer.startsWith(s, i, to, PREFIX)) {
            return -1;
        }
        i += PREFIX.length();
        long bits = 0;
        long lag = -1;
        boolean any = false;
        while (true) {
            while (i < to && (isSpace(s.charAt(i)) || s.charAt(i) == ',')) {
                i++;
            }
            if (i >= to) {
                break;
            }
            if (SqlLexer.startsWith(s, i, to, PREFIX)) {
                i += PREFIX.length();
            }
            int j = i;
            while (j < to && !isSpace(s.charAt(j)) && s.charAt(j) != ',') {
                j++;
            }
            if (is(s, i, j, "primary")) {
                bits |= 1;
            } else if (is(s, i, j, "replica")) {
                bits |= 2;
            } else if (SqlLexer.startsWith(s, i, j, "max-lag=")) {
                long v = parseDuration(s, i + 8, j);
                if (v < 0) {
                    return -1;
                }
                lag = lag < 0 ? v : Math.min(lag, v);
            } else {
                return -1;
            }
            any = true;
            i = j;
        }
        if (!any) {
            return -1;
        }
        return lag < 0 ? bits : bits | 4 | (lag << 3);
    }

    /** {@code <digits>[.<digits>](ms|s|m)} in milliseconds (fractions of a ms truncated); -1 if invalid. */
    static long parseDuration(String s, int from, int to) {
        int i = from;
        long whole = 0;
        int digits = 0;
        while (i < to && SqlLexer.isDigit(s.charAt(i))) {
            if (++digits > 12) {
                return -1;
            }
            whole = whole * 10 + (s.charAt(i++) - '0');
        }
        if (digits == 0) {
            return -1;
        }
        long frac = 0;
        long scale = 1;
        if (i < to && s.charAt(i) == '.') {
            i++;
            int fd = 0;
            while (i < to && SqlLexer.isDigit(s.charAt(i))) {
                if (++fd <= 6) {
                    frac = frac * 10 + (s.charAt(i) - '0');
                    scale *= 10;
                }
                i++;
            }
            if (fd == 0) {
                return -1;
            }
        }
        long unit;
        if (is(s, i, to, "ms")) {
            unit = 1;
        } else if (is(s, i, to, "s")) {
            unit = 1_000;
        } else if (is(s, i, to, "m")) {
            unit = 60_000;
        } else {
            return -1;
        }
        return whole * unit + frac * unit / scale;
    }

    // ---------------------------------------------------------------- builder

    /**
     * Builds a classifier with extra function names. Names are case-insensitive and may be schema-qualified
     * ({@code "myschema.f"}). Write names match a call by function name in any schema (fail closed: a write
     * named {@code "audit.log_event"} also catches {@code log_event(...)}); read names match a call exactly as
     * written (unqualified or qualified). A name that is both a write (built-in or user) and a read is a
     * write.
     */
    public static final class Builder {
        private final Set<String> writes = new LinkedHashSet<>();
        private final Set<String> reads = new LinkedHashSet<>();

        private Builder() {
        }

        /** Functions that write or must run on the primary. */
        public Builder writeFunctions(String... names) {
            Objects.requireNonNull(names, "names cannot be null");
            for (String name : names) {
                String key = normalize(name);
                int dot = key.lastIndexOf('.');
                writes.add(dot < 0 ? key : key.substring(dot + 1));
            }
            return this;
        }

        /** Functions that are read-only, so that they are not reported in {@link Classification#userFunctions()}. */
        public Builder readFunctions(String... names) {
            Objects.requireNonNull(names, "names cannot be null");
            for (String name : names) {
                reads.add(normalize(name));
            }
            return this;
        }

        private static String normalize(String name) {
            if (name == null) {
                throw new IllegalArgumentException("function name cannot be null");
            }
            String key = name.trim().toLowerCase(Locale.ROOT);
            int dot = key.indexOf('.');
            boolean valid = !key.isEmpty() && dot == key.lastIndexOf('.') && dot != 0 && dot != key.length() - 1;
            for (int i = 0; i < key.length() && valid; i++) {
                char c = key.charAt(i);
                valid = c == '.' || SqlLexer.isIdentPart(c);
            }
            if (!valid) {
                throw new IllegalArgumentException(
                        "function name must be an identifier, optionally schema-qualified: '" + name + "'");
            }
            return key;
        }

        public SqlClassifier build() {
            return new SqlClassifier(new NameSet(new ArrayList<>(writes)), new NameSet(new ArrayList<>(reads)));
        }

        @Override
        public String toString() {
            return "SqlClassifier.Builder[writeFunctions=" + writes + ", readFunctions=" + reads + ']';
        }
    }

    @Override
    public String toString() {
        return "SqlClassifier";
    }
}

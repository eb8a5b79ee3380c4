package dev.readsplit.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * An independent, deliberately simple answer to "does this text contain something that writes, outside
 * comments and literals?" for the classifier's property and fuzz tests. It shares no code with
 * {@link SqlLexer}: it blanks out comments, string literals, dollar quotes and quoted identifiers with its
 * own scanner, then looks for whole words. It over-approximates (a column named {@code update} counts as a
 * write), which is safe: the property is only "classifier says read ⇒ oracle finds no write".
 *
 * <p>When it cannot tell where a literal or comment ends (unterminated), it answers {@code true}: such text
 * must never be a read.
 */
final class WriteOracle {

    /** Data-modifying words that make any statement a write wherever they appear outside literals. */
    private static final Set<String> WRITE_WORDS = Set.of("insert", "update", "delete", "merge", "into");

    /** The only words a read-only statement can start with. */
    private static final Set<String> READ_STARTS = Set.of("select", "values", "table", "show", "explain", "with");

    /** Write-capable built-ins named in the design (exact names). */
    private static final Set<String> WRITE_FUNCTIONS = Set.of(
            "nextval", "setval", "currval", "lastval", "pg_notify", "set_config", "pg_terminate_backend",
            "pg_cancel_backend", "pg_reload_conf", "pg_switch_wal", "pg_drop_replication_slot", "txid_current",
            "pg_current_xact_id", "pg_promote", "dblink_exec", "pg_rotate_logfile", "pg_logical_emit_message",
            "pg_import_system_collations", "pg_backup_start", "pg_backup_stop", "pg_log_backend_memory_contexts",
            "pg_current_wal_lsn", "pg_current_wal_insert_lsn", "pg_current_wal_flush_lsn");

    /** Write-capable families named in the design ({@code pg_advisory_*}, {@code lo_*}, ...). */
    private static final List<String> WRITE_FUNCTION_PREFIXES = List.of(
            "pg_advisory_", "pg_try_advisory_", "lo_", "pg_create_", "pg_stat_reset", "pg_replication_origin_");

    /** What a literal or quoted identifier becomes: a value, which separates keywords (a comment does not). */
    private static final String LITERAL = " 0 ";

    private WriteOracle() {
    }

    static boolean containsWrite(String sql) {
        String code = blank(sql);
        if (code == null) {
            return true;
        }
        for (String statement : code.split(";")) {
            String trimmed = statement.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            List<String> words = words(trimmed);
            if (!trimmed.startsWith("(") && (words.isEmpty() || !READ_STARTS.contains(plain(words.get(0))))) {
                return true; // DDL, DCL, COPY, CALL, DO, LOCK, SET, BEGIN, ... or garbage
            }
            if (plain(words.get(0)).equals("explain") && !words.contains("analyze") && !words.contains("analyse")) {
                continue; // plain EXPLAIN plans but never executes: PostgreSQL runs it on a standby
            }
            for (int i = 0; i < words.size(); i++) {
                String w = words.get(i);
                if (WRITE_WORDS.contains(w)) {
                    return true;
                }
                if (w.endsWith("(")) {
                    String name = w.substring(0, w.length() - 1);
                    if (WRITE_FUNCTIONS.contains(name) || WRITE_WORDS.contains(name)) {
                        return true; // a call of a write-capable function
                    }
                    for (String prefix : WRITE_FUNCTION_PREFIXES) {
                        if (name.startsWith(prefix)) {
                            return true;
                        }
                    }
                }
                if (w.equals("for")) {
                    String a = i + 1 < words.size() ? plain(words.get(i + 1)) : "";
                    String b = i + 2 < words.size() ? plain(words.get(i + 2)) : "";
                    String c = i + 3 < words.size() ? plain(words.get(i + 3)) : "";
                    if (a.equals("share") || a.equals("key") && b.equals("share")
                            || a.equals("no") && b.equals("key") && c.equals("update")) {
                        return true; // FOR SHARE, FOR KEY SHARE, FOR NO KEY UPDATE (FOR UPDATE: "update")
                    }
                }
            }
        }
        return false;
    }

    private static String plain(String word) {
        return word.endsWith("(") ? word.substring(0, word.length() - 1) : word;
    }

    /**
     * Words: runs of letters, digits, '_' and '$' (the rest of the code, punctuation, is dropped); a word
     * directly followed by '(' (spaces allowed, as PostgreSQL allows them) carries a trailing '(' (a call), and
     * one after a '.' a leading '.' (part of a qualified name).
     */
    private static List<String> words(String code) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        for (int i = 0; i <= code.length(); i++) {
            char c = i < code.length() ? code.charAt(i) : ' ';
            if (Character.isLetterOrDigit(c) || c == '_' || c == '$') {
                if (w.length() == 0) {
                    int k = i - 1;
                    while (k >= 0 && Character.isWhitespace(code.charAt(k))) {
                        k--;
                    }
                    if (k >= 0 && code.charAt(k) == '.') {
                        w.append('.'); // an attribute of a qualified name (t.delete, t . update): not a keyword
                    }
                }
                w.append(c);
            } else if (w.length() > 0) {
                int j = i;
                while (j < code.length() && Character.isWhitespace(code.charAt(j))) {
                    j++;
                }
                boolean call = j < code.length() && code.charAt(j) == '(';
                out.add(w.toString().toLowerCase(Locale.ROOT) + (call ? "(" : ""));
                w.setLength(0);
            }
            if (i < code.length() && !Character.isWhitespace(c) && !(Character.isLetterOrDigit(c) || c == '_' || c == '$')) {
                out.add(String.valueOf(c)); // punctuation separates keywords ("FOR ) SHARE" is no locking clause)
            }
        }
        return out;
    }

    /**
     * The text with every comment replaced by a space and every literal and quoted identifier by a value
     * token; null when one of them is not terminated.
     */
    static String blank(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            char next = i + 1 < n ? s.charAt(i + 1) : 0;
            if (c == '-' && next == '-') {
                int end = s.indexOf('\n', i);
                i = end < 0 ? n : end + 1;
                out.append(' ');
            } else if (c == '/' && next == '*') {
                int depth = 1;
                i += 2;
                while (i < n && depth > 0) {
                    if (s.startsWith("/*", i)) {
                        depth++;
                        i += 2;
                    } else if (s.startsWith("*/", i)) {
                        depth--;
                        i += 2;
                    } else {
                        i++;
                    }
                }
                if (depth > 0) {
                    return null;
                }
                out.append(' ');
            } else if (c == '\'') {
                int o = out.length();
                boolean escapes = o > 0 && (out.charAt(o - 1) == 'e' || out.charAt(o - 1) == 'E')
                        && !endsInIdentifier(out, o - 1);
                int end = endOfQuoted(s, i + 1, '\'', escapes);
                if (end < 0) {
                    return null;
                }
                i = end;
                out.append(LITERAL);
            } else if (c == '"') {
                int end = endOfQuoted(s, i + 1, '"', false);
                if (end < 0) {
                    return null;
                }
                i = end;
                out.append(LITERAL);
            } else if (c == '$' && !endsInIdentifier(out, out.length())) {
                // (what precedes, as lexed: the end of a previous literal is not an identifier character)
                int tagEnd = i + 1;
                while (tagEnd < n && isTagChar(s.charAt(tagEnd), tagEnd == i + 1)) {
                    tagEnd++;
                }
                if (tagEnd < n && s.charAt(tagEnd) == '$') {
                    String tag = s.substring(i, tagEnd + 1);
                    int close = s.indexOf(tag, tagEnd + 1);
                    if (close < 0) {
                        return null;
                    }
                    i = close + tag.length();
                    out.append(LITERAL);
                } else {
                    out.append(c);
                    i++;
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int endOfQuoted(String s, int from, char quote, boolean backslashEscapes) {
        int i = from;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
                continue;
            }
            if (c == quote) {
                if (i + 1 < s.length() && s.charAt(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return -1;
    }

    /**
     * Whether the text before {@code end} ends inside an identifier: a run of identifier characters that
     * starts with a letter or '_' ("abc$" yes; "1" or a lone "$" no: those are a number and a symbol).
     */
    private static boolean endsInIdentifier(CharSequence text, int end) {
        int k = end;
        while (k > 0 && isWordChar(text.charAt(k - 1))) {
            k--;
        }
        return k < end && (Character.isLetter(text.charAt(k)) || text.charAt(k) == '_');
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    private static boolean isTagChar(char c, boolean first) {
        return first ? Character.isLetter(c) || c == '_' : Character.isLetterOrDigit(c) || c == '_';
    }
}

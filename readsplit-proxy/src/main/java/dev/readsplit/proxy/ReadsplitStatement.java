package dev.readsplit.proxy;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code SET/RESET/SHOW readsplit.<name>} statement, which the proxy answers itself (see {@code docs/proxy.md}):
 * recognised only as a whole, single statement; any other text is not one (and goes to a server).
 *
 * @param name  the setting after {@code readsplit.}, lower case
 * @param value for {@link Kind#SET}: the value, unquoted; null otherwise
 */
record ReadsplitStatement(Kind kind, String name, String value) {

    enum Kind { SET, RESET, SHOW }

    private static final Pattern SET = Pattern.compile(
            "(?is)\\s*SET\\s+(?:SESSION\\s+)?readsplit\\.([a-z_]+)\\s*(?:=|\\bTO\\b)\\s*(.*?)\\s*;?\\s*");
    private static final Pattern SHOW = Pattern.compile("(?is)\\s*SHOW\\s+readsplit\\.([a-z_]+)\\s*;?\\s*");
    private static final Pattern RESET = Pattern.compile("(?is)\\s*RESET\\s+readsplit\\.([a-z_]+)\\s*;?\\s*");

    /** {@code readsplit.} anywhere in {@code sql}, in any case (without copying the text: every query asks). */
    private static boolean mentionsReadsplit(String sql) {
        int last = sql.length() - 10;
        for (int i = 0; i <= last; i++) {
            char ch = sql.charAt(i);
            if ((ch == 'r' || ch == 'R') && sql.regionMatches(true, i, "readsplit.", 0, 10)) {
                return true;
            }
        }
        return false;
    }

    /** The statement {@code sql} is, or null when it is not a single readsplit statement. */
    static ReadsplitStatement parse(String sql) {
        if (sql == null || !mentionsReadsplit(sql)) {
            return null;
        }
        Matcher m = SET.matcher(sql);
        if (m.matches()) {
            String value = m.group(2).trim();
            if (value.contains(";")) {
                return null; // more than one statement
            }
            return new ReadsplitStatement(Kind.SET, name(m), unquote(value));
        }
        m = RESET.matcher(sql);
        if (m.matches()) {
            return new ReadsplitStatement(Kind.RESET, name(m), null);
        }
        m = SHOW.matcher(sql);
        if (m.matches()) {
            return new ReadsplitStatement(Kind.SHOW, name(m), null);
        }
        return null;
    }

    /** The command tag PostgreSQL answers this kind of statement with. */
    String tag() {
        return kind.name();
    }

    /** The column a SHOW answers in ({@code readsplit.<name>}), or null for SET and RESET (no rows). */
    String column() {
        return kind == Kind.SHOW ? "readsplit." + name : null;
    }

    private static String name(Matcher m) {
        return m.group(1).toLowerCase(Locale.ROOT);
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && s.startsWith("'") && s.endsWith("'")) {
            return s.substring(1, s.length() - 1).replace("''", "'");
        }
        return s;
    }
}

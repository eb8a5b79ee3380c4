package dev.readsplit.sql;

import java.util.Collection;
import java.util.Locale;

/**
 * An immutable set of lower-case (optionally {@code schema.name} qualified) names that is probed with regions
 * of the SQL text, without creating a string: open addressing over a power-of-two table, hashed and compared
 * character by character with ASCII case folding for unquoted parts and exact comparison for quoted ones.
 */
final class NameSet {

    private final String[] table;
    private final int mask;
    private final String[] prefixes;
    private final int size;

    NameSet(Collection<String> names, String... prefixes) {
        int cap = Integer.highestOneBit(Math.max(4, names.size() * 3)) << 1;
        this.table = new String[cap];
        this.mask = cap - 1;
        int count = 0;
        for (String name : names) {
            String key = name.toLowerCase(Locale.ROOT);
            int slot = hashString(key) & mask;
            while (table[slot] != null && !table[slot].equals(key)) {
                slot = (slot + 1) & mask;
            }
            if (table[slot] == null) {
                table[slot] = key;
                count++;
            }
        }
        this.size = count;
        this.prefixes = prefixes.clone();
    }

    boolean isEmpty() {
        return size == 0 && prefixes.length == 0;
    }

    private static int hashString(String key) {
        int h = 0;
        for (int i = 0; i < key.length(); i++) {
            h = 31 * h + key.charAt(i);
        }
        return mix(h);
    }

    private static int mix(int h) {
        return h ^ (h >>> 16);
    }

    private static char fold(char c, boolean quoted) {
        return quoted ? c : SqlLexer.lower(c);
    }

    /** Whether the unqualified name {@code s[ns, ne)} is in the set or starts with one of its prefixes. */
    boolean contains(String s, int ns, int ne, boolean nQuoted) {
        return contains(s, -1, -1, false, ns, ne, nQuoted);
    }

    /**
     * Whether the name is in the set. {@code qs < 0} means unqualified; otherwise the key looked up is
     * {@code schema.name}. Prefixes are matched against the name part only.
     */
    boolean contains(String s, int qs, int qe, boolean qQuoted, int ns, int ne, boolean nQuoted) {
        int len = ne - ns + (qs < 0 ? 0 : qe - qs + 1);
        if (size > 0) {
            int h = 0;
            if (qs >= 0) {
                for (int i = qs; i < qe; i++) {
                    h = 31 * h + fold(s.charAt(i), qQuoted);
                }
                h = 31 * h + '.';
            }
            for (int i = ns; i < ne; i++) {
                h = 31 * h + fold(s.charAt(i), nQuoted);
            }
            int slot = mix(h) & mask;
            String key;
            while ((key = table[slot]) != null) {
                if (key.length() == len && matches(key, s, qs, qe, qQuoted, ns, ne, nQuoted)) {
                    return true;
                }
                slot = (slot + 1) & mask;
            }
        }
        for (String p : prefixes) {
            if (ne - ns >= p.length()) {
                boolean ok = true;
                for (int i = 0; i < p.length() && ok; i++) {
                    ok = fold(s.charAt(ns + i), nQuoted) == p.charAt(i);
                }
                if (ok) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean matches(String key, String s, int qs, int qe, boolean qQuoted, int ns, int ne,
            boolean nQuoted) {
        int k = 0;
        if (qs >= 0) {
            for (int i = qs; i < qe; i++) {
                if (key.charAt(k++) != fold(s.charAt(i), qQuoted)) {
                    return false;
                }
            }
            if (key.charAt(k++) != '.') {
                return false;
            }
        }
        for (int i = ns; i < ne; i++) {
            if (key.charAt(k++) != fold(s.charAt(i), nQuoted)) {
                return false;
            }
        }
        return true;
    }
}

package dev.readsplit.sql;

/**
 * Allocation-free PostgreSQL tokenizer used by {@link SqlClassifier}.
 *
 * <p>A token is returned as one {@code long}: 4 bits of type, 30 bits of start index and 30 bits of end index
 * (exclusive), so scanning never creates objects. Texts longer than {@link #MAX_LENGTH} are rejected by the
 * caller. Comments and whitespace are skipped before each token; a lexical error (unterminated block comment,
 * string, quoted identifier or dollar quote) yields an {@link #ERROR} token, never an exception.
 *
 * <p>What is recognised, following PostgreSQL's scanner ({@code scan.l}) with {@code standard_conforming_strings
 * = on}: nested {@code /* *&#47;} comments, {@code --} line comments, {@code '...'} with {@code ''} doubling,
 * {@code E'...'} with backslash escapes, {@code U&'...'}, {@code B'...'}, {@code X'...'}, {@code N'...'},
 * dollar quotes {@code $$...$$} / {@code $tag$...$tag$} (a tag cannot start with a digit, so {@code $1} is a
 * positional parameter), {@code "..."} and {@code U&"..."} quoted identifiers with {@code ""} doubling.
 * Operators are returned one character at a time (except {@code ::}), which also makes {@code --} and
 * {@code /*} start a comment inside an operator run, as in PostgreSQL.
 */
final class SqlLexer {

    static final int EOF = 0;
    static final int WORD = 1;
    static final int QIDENT = 2;
    static final int STRING = 3;
    static final int NUMBER = 4;
    static final int PARAM = 5;
    static final int LPAREN = 6;
    static final int RPAREN = 7;
    static final int LBRACKET = 8;
    static final int RBRACKET = 9;
    static final int COMMA = 10;
    static final int SEMI = 11;
    static final int DOT = 12;
    static final int DCOLON = 13;
    static final int OP = 14;
    static final int ERROR = 15;

    static final int MAX_LENGTH = (1 << 30) - 1;
    private static final long MASK = MAX_LENGTH;

    // ASCII character classes
    private static final byte C_START = 1; // letter or '_'
    private static final byte C_DIGIT = 2;
    private static final byte C_DOLLAR = 4;
    private static final byte C_SPACE = 8;
    private static final byte[] CLASS = new byte[128];
    /** Token type of ASCII characters that always form a one-character token; 0 otherwise. */
    private static final byte[] FAST = new byte[128];

    static {
        for (char c = 'a'; c <= 'z'; c++) {
            CLASS[c] = C_START;
            CLASS[c - 32] = C_START;
        }
        CLASS['_'] = C_START;
        for (char c = '0'; c <= '9'; c++) {
            CLASS[c] = C_DIGIT;
        }
        CLASS['$'] = C_DOLLAR;
        FAST[','] = COMMA;
        FAST['('] = LPAREN;
        FAST[')'] = RPAREN;
        FAST[';'] = SEMI;
        FAST['='] = OP;
        FAST['.'] = DOT; // unless a digit follows: checked in next()
        FAST['*'] = OP;
        FAST['['] = LBRACKET;
        FAST[']'] = RBRACKET;
        for (char c : new char[] {' ', '\t', '\n', '\r', '\f', 0x0B}) {
            CLASS[c] = C_SPACE;
        }
    }

    private SqlLexer() {
    }

    static long pack(int type, int start, int end) {
        return ((long) type << 60) | ((long) start << 30) | end;
    }

    static int type(long token) {
        return (int) (token >>> 60);
    }

    static int start(long token) {
        return (int) ((token >>> 30) & MASK);
    }

    static int end(long token) {
        return (int) (token & MASK);
    }

    /**
     * Index of the first character at or after {@code pos} that is not whitespace or comment; -1 on an
     * unterminated block comment.
     */
    static int skipTrivia(String s, int pos) {
        int n = s.length();
        while (pos < n) {
            char c = s.charAt(pos);
            if (c < 128 && CLASS[c] == C_SPACE) {
                pos++;
            } else if (c != '-' && c != '/') {
                break;
            } else if (c == '-' && pos + 1 < n && s.charAt(pos + 1) == '-') {
                pos += 2;
                while (pos < n && s.charAt(pos) != '\n' && s.charAt(pos) != '\r') {
                    pos++;
                }
            } else if (c == '/' && pos + 1 < n && s.charAt(pos + 1) == '*') {
                pos = blockCommentEnd(s, pos);
                if (pos < 0) {
                    return -1;
                }
            } else {
                break;
            }
        }
        return pos;
    }

    /** End (exclusive) of the possibly nested block comment starting at {@code pos}; -1 if unterminated. */
    static int blockCommentEnd(String s, int pos) {
        int n = s.length();
        int depth = 1;
        int i = pos + 2;
        while (i < n - 1) {
            char c = s.charAt(i);
            if (c == '/' && s.charAt(i + 1) == '*') {
                depth++;
                i += 2;
            } else if (c == '*' && s.charAt(i + 1) == '/') {
                i += 2;
                if (--depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return -1;
    }

    /**
     * The next token at or after {@code pos}. Fast path for the common case (at most one space, then a word or
     * a one-character token); everything else (comments, other whitespace, literals, numbers, operators) in
     * {@link #slowNext}.
     */
    static long next(String s, int pos) {
        int n = s.length();
        if (pos < n) {
            char c = s.charAt(pos);
            if (c == ' ' && pos + 1 < n) {
                c = s.charAt(++pos);
            }
            if (c < 0x80) {
                if (CLASS[c] == C_START) {
                    return word(s, pos, n);
                }
                int k = FAST[c];
                if (k != 0 && (k != DOT || pos + 1 >= n || !isDigit(s.charAt(pos + 1)))) {
                    return pack(k, pos, pos + 1);
                }
                if (c == '$') {
                    return dollar(s, pos); // $1: no comment or whitespace starts with '$', as slowNext would find
                }
            }
            return slowNext(s, pos);
        }
        return pack(EOF, n, n);
    }

    private static long word(String s, int pos, int n) {
        int i = pos + 1;
        while (i < n) {
            char d = s.charAt(i);
            if (d < 0x80 && (CLASS[d] & (C_START | C_DIGIT | C_DOLLAR)) == 0) {
                if (i == pos + 1 && (d == '\'' || d == '&')) {
                    return slowNext(s, pos); // possible E'', B'', X'', N'', U&'' prefix
                }
                break;
            }
            i++;
        }
        return pack(WORD, pos, i);
    }

    private static long slowNext(String s, int pos) {
        int n = s.length();
        pos = skipTrivia(s, pos);
        if (pos < 0) {
            return pack(ERROR, n, n);
        }
        if (pos >= n) {
            return pack(EOF, n, n);
        }
        char c = s.charAt(pos);
        if (isIdentStart(c)) {
            return prefixedLiteralOrWord(s, pos, c);
        }
        switch (c) {
            case '(':
                return pack(LPAREN, pos, pos + 1);
            case ')':
                return pack(RPAREN, pos, pos + 1);
            case '[':
                return pack(LBRACKET, pos, pos + 1);
            case ']':
                return pack(RBRACKET, pos, pos + 1);
            case ',':
                return pack(COMMA, pos, pos + 1);
            case ';':
                return pack(SEMI, pos, pos + 1);
            case '.':
                if (pos + 1 < n && isDigit(s.charAt(pos + 1))) {
                    return pack(NUMBER, pos, numberEnd(s, pos + 1));
                }
                return pack(DOT, pos, pos + 1);
            case ':':
                if (pos + 1 < n && s.charAt(pos + 1) == ':') {
                    return pack(DCOLON, pos, pos + 2);
                }
                return pack(OP, pos, pos + 1);
            case '\'':
                return string(s, pos, standardStringEnd(s, pos + 1));
            case '"':
                return quoted(s, pos, quotedIdentEnd(s, pos + 1));
            case '$':
                return dollar(s, pos);
            default:
                break;
        }
        if (isDigit(c)) {
            int end = numberEnd(s, pos + 1);
            if (end < n && (s.charAt(end) == '$' || s.charAt(end) == '\'' || s.charAt(end) == '"')) {
                // "1$tag$", "1E'...'": trailing junk after a number (an error since PostgreSQL 15); never guess
                // whether a dollar quote or an escape string starts here (found by the property test)
                return pack(ERROR, pos, end);
            }
            return pack(NUMBER, pos, end);
        }
        return pack(OP, pos, pos + 1);
    }

    /** A word, or a literal with a one-letter prefix: {@code E'...'}, {@code B'...'}, {@code U&'...'}... */
    private static long prefixedLiteralOrWord(String s, int pos, char c) {
        int n = s.length();
        char c1 = pos + 1 < n ? s.charAt(pos + 1) : 0;
        if (c1 == '\'' || c1 == '&') {
            if (c1 == '\'') {
                if (c == 'e' || c == 'E') {
                    return string(s, pos, escapeStringEnd(s, pos + 2));
                }
                if (c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') {
                    return string(s, pos, standardStringEnd(s, pos + 2));
                }
            } else if (c1 == '&' && (c == 'u' || c == 'U') && pos + 2 < n) {
                char c2 = s.charAt(pos + 2);
                if (c2 == '\'') {
                    return string(s, pos, standardStringEnd(s, pos + 3));
                }
                if (c2 == '"') {
                    return quoted(s, pos, quotedIdentEnd(s, pos + 3));
                }
            }
        }
        int i = pos + 1;
        while (i < n && isIdentPart(s.charAt(i))) {
            i++;
        }
        return pack(WORD, pos, i);
    }

    private static long string(String s, int start, int end) {
        return end < 0 ? pack(ERROR, s.length(), s.length()) : pack(STRING, start, end);
    }

    private static long quoted(String s, int start, int end) {
        return end < 0 ? pack(ERROR, s.length(), s.length()) : pack(QIDENT, start, end);
    }

    private static long dollar(String s, int pos) {
        int n = s.length();
        if (pos + 1 < n && isDigit(s.charAt(pos + 1))) {
            int i = pos + 2;
            while (i < n && isDigit(s.charAt(i))) {
                i++;
            }
            if (i < n && (s.charAt(i) == '$' || isTagPart(s.charAt(i)))) {
                // "$1$$ ..." or "$1abc": trailing junk after a parameter (an error since PostgreSQL 15);
                // never guess whether a dollar quote starts here (found by the property test)
                return pack(ERROR, pos, i);
            }
            return pack(PARAM, pos, i);
        }
        int i = pos + 1;
        while (i < n && isTagPart(s.charAt(i))) {
            i++;
        }
        if (i >= n || s.charAt(i) != '$') {
            return pack(OP, pos, pos + 1);
        }
        int tagLen = i + 1 - pos;
        int k = i + 1;
        while (true) {
            int d = s.indexOf('$', k);
            if (d < 0) {
                return pack(ERROR, n, n);
            }
            if (s.regionMatches(d, s, pos, tagLen)) {
                return pack(STRING, pos, d + tagLen);
            }
            k = d + 1;
        }
    }

    /** {@code from} is just after the opening quote; returns the end after the closing quote or -1. */
    private static int standardStringEnd(String s, int from) {
        int n = s.length();
        int i = from;
        while (true) {
            int q = s.indexOf('\'', i);
            if (q < 0) {
                return -1;
            }
            if (q + 1 < n && s.charAt(q + 1) == '\'') {
                i = q + 2;
            } else {
                return q + 1;
            }
        }
    }

    private static int escapeStringEnd(String s, int from) {
        int n = s.length();
        int i = from;
        while (i < n) {
            char c = s.charAt(i);
            if (c == '\\') {
                i += 2;
            } else if (c == '\'') {
                if (i + 1 < n && s.charAt(i + 1) == '\'') {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return -1;
    }

    private static int quotedIdentEnd(String s, int from) {
        int n = s.length();
        int i = from;
        while (true) {
            int q = s.indexOf('"', i);
            if (q < 0) {
                return -1;
            }
            if (q + 1 < n && s.charAt(q + 1) == '"') {
                i = q + 2;
            } else {
                return q + 1;
            }
        }
    }

    private static int numberEnd(String s, int i) {
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (isDigit(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                i++;
            } else if (c == '.' && !(i + 1 < n && s.charAt(i + 1) == '.')) {
                i++;
            } else {
                break;
            }
        }
        return i;
    }

    static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    static boolean isIdentStart(char c) {
        return c >= 0x80 || CLASS[c] == C_START;
    }

    static boolean isIdentPart(char c) {
        return c >= 0x80 || (CLASS[c] & (C_START | C_DIGIT | C_DOLLAR)) != 0;
    }

    private static boolean isTagPart(char c) {
        return c >= 0x80 || (CLASS[c] & (C_START | C_DIGIT)) != 0;
    }

    /** ASCII-only lower-casing, as PostgreSQL does for unquoted identifiers in multi-byte encodings. */
    static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + 32) : c;
    }

    /** Whether {@code s[start, end)} equals the lower-case ASCII keyword {@code kw}, ignoring case. */
    static boolean is(String s, int start, int end, String kw) {
        int len = kw.length();
        if (end - start != len) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (lower(s.charAt(start + i)) != kw.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code token} is a {@link #WORD} equal to {@code kw} ignoring case. */
    static boolean isWord(String s, long token, String kw) {
        return type(token) == WORD && is(s, start(token), end(token), kw);
    }

    /** Whether {@code s[start, end)} starts with the lower-case ASCII {@code prefix}, ignoring case. */
    static boolean startsWith(String s, int start, int end, String prefix) {
        int len = prefix.length();
        if (end - start < len) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (lower(s.charAt(start + i)) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}

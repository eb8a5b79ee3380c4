package dev.readsplit.consistency;

import java.util.Locale;
import java.util.Objects;

/**
 * A session's causal position: a WAL location on a given cluster at or past the end of the session's
 * last commit. A replica that has replayed this location shows every write the session made.
 *
 * <p>Export it with {@link #export()} (a short string such as {@code rs1.7f3c9a2b1d4e5f60.0000000003000128})
 * and import it with {@link #parse(String)} in another connection, thread or process: a web app keeps it in a
 * cookie or header so the next request, on any instance, still reads its writes. The cluster's system
 * identifier travels with it, so a token from another cluster is rejected instead of silently honoured.
 *
 * @param systemIdentifier the cluster's {@code pg_control_system().system_identifier} (0 when unknown)
 * @param lsn              the WAL location as a byte position
 */
public record CausalToken(long systemIdentifier, long lsn) implements Comparable<CausalToken> {

    private static final String PREFIX = "rs1.";
    /** The message with which a missing token ({@code null}) is rejected, by {@link #parse} and by every import. */
    public static final String MISSING = "causal token is missing (null)";

    public CausalToken {
        if (lsn < 0) {
            throw new IllegalArgumentException("causal token LSN cannot be negative: " + lsn);
        }
    }

    /** The short, URL- and cookie-safe text form. */
    public String export() {
        char[] out = new char[PREFIX.length() + 33];
        PREFIX.getChars(0, PREFIX.length(), out, 0);
        int at = hex16(systemIdentifier, out, PREFIX.length());
        out[at] = '.';
        hex16(lsn, out, at + 1);
        return new String(out);
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** 16 lower-case hex digits of {@code v} into {@code out} at {@code at}; returns the index after them. */
    private static int hex16(long v, char[] out, int at) {
        for (int i = 15; i >= 0; i--) {
            out[at + i] = HEX[(int) (v & 0xf)];
            v >>>= 4;
        }
        return at + 16;
    }

    /**
     * Parses {@link #export()}'s form. {@code null} is rejected, as every import of a token rejects {@code null}
     * ({@code ReadsplitConnection.observe}, {@code CausalContext.observe}): a request without a token has nothing to
     * import, so the caller skips the import instead of passing nothing.
     *
     * @throws IllegalArgumentException naming what is wrong with {@code text} ({@link #MISSING} for null)
     */
    public static CausalToken parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException(MISSING);
        }
        String t = text.trim();
        if (!t.startsWith(PREFIX)) {
            throw new IllegalArgumentException("malformed causal token '" + abbreviate(t)
                    + "': expected rs1.<system id hex>.<lsn hex>");
        }
        String[] parts = t.substring(PREFIX.length()).split("\\.", -1);
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty() || parts[0].length() > 16 || parts[1].length() > 16) {
            throw new IllegalArgumentException("malformed causal token '" + abbreviate(t)
                    + "': expected rs1.<system id hex>.<lsn hex>");
        }
        try {
            return new CausalToken(Long.parseUnsignedLong(parts[0], 16), Long.parseUnsignedLong(parts[1], 16));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("malformed causal token '" + abbreviate(t) + "': not hexadecimal");
        }
    }

    /** PostgreSQL's {@code X/Y} text form of the LSN. */
    public String lsnText() {
        return Long.toHexString(lsn >>> 32).toUpperCase(Locale.ROOT) + "/" + Long.toHexString(lsn & 0xffffffffL).toUpperCase(Locale.ROOT);
    }

    /** The later of two tokens of the same cluster. */
    public CausalToken max(CausalToken other) {
        Objects.requireNonNull(other, "other");
        return other.lsn > lsn ? other : this;
    }

    @Override
    public int compareTo(CausalToken o) {
        return Long.compare(lsn, o.lsn);
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    @Override
    public String toString() {
        return export() + " (" + lsnText() + ")";
    }
}

package dev.readsplit.failover;

/** WAL positions as PostgreSQL prints them ({@code 0/3000060}). */
final class Lsn {

    private Lsn() {
    }

    static String format(long lsn) {
        if (lsn < 0) {
            return "unknown";
        }
        return Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
                + Long.toHexString(lsn & 0xFFFF_FFFFL).toUpperCase(java.util.Locale.ROOT);
    }
}

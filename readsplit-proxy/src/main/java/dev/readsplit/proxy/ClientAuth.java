package dev.readsplit.proxy;

import java.util.Locale;

/**
 * How the proxy checks a client's login (see {@code docs/proxy.md}, "Authentication").
 */
public enum ClientAuth {
    /** Any user, no password (loopback tests and trusted networks only). */
    TRUST("trust"),
    /** PostgreSQL's md5 challenge against the configured user list (plain passwords or {@code md5...} hashes). */
    MD5("md5"),
    /** SCRAM-SHA-256 against the configured user list (plain passwords or {@code SCRAM-SHA-256$...} verifiers). */
    SCRAM_SHA_256("scram-sha-256"),
    /**
     * The client's password is asked in clear text (over TLS, or on a loopback listen address) and checked by logging
     * in to the primary as that user; the client's backends are then opened as that user with that password.
     */
    PASSTHROUGH("passthrough");

    private final String label;

    ClientAuth(String label) {
        this.label = label;
    }

    /** The name used in configuration: {@code trust}, {@code md5}, {@code scram-sha-256}, {@code passthrough}. */
    public String label() {
        return label;
    }

    /** Parses {@link #label()} (case-insensitive); the error names the accepted values. */
    public static ClientAuth parse(String text) {
        if (text != null) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            for (ClientAuth a : values()) {
                if (a.label.equals(t) || (a == SCRAM_SHA_256 && t.equals("scram"))) {
                    return a;
                }
            }
        }
        throw new IllegalArgumentException("client authentication must be one of trust, md5, scram-sha-256,"
                + " passthrough: '" + text + "'");
    }
}

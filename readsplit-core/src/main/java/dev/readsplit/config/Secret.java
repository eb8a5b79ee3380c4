package dev.readsplit.config;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * A password or token that must never be printed. {@link #toString()} is always {@code ****}; the only way to
 * the value is {@link #reveal()}, which callers use at the last moment (handing it to pgjdbc: see
 * {@link ConnectionProperties}).
 * {@link #equals} compares values in constant time. Deliberately not {@code Serializable}.
 */
public final class Secret {

    private static final String MASK = "****";

    private final String value;

    private Secret(String value) {
        this.value = value;
    }

    /**
     * Wraps a secret value.
     *
     * @throws NullPointerException if {@code value} is null (the message does not contain the value)
     */
    public static Secret of(String value) {
        return new Secret(Objects.requireNonNull(value, "secret value"));
    }

    /** Wraps {@code value}, or returns null when it is null. */
    static Secret ofNullable(String value) {
        return value == null ? null : new Secret(value);
    }

    /**
     * The secret value. Do not log it. Readsplit itself reads node passwords only through
     * {@link ConnectionProperties} (the one place a connection is given its password) and {@link Redactor}.
     */
    public String reveal() {
        return value;
    }

    String value() {
        return value;
    }

    /** Whether the secret is the empty string. */
    public boolean isEmpty() {
        return value.isEmpty();
    }

    /** Constant-time comparison (time depends only on the lengths). */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        return o instanceof Secret s && MessageDigest.isEqual(
                value.getBytes(StandardCharsets.UTF_8), s.value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }

    /** Always {@code ****}. */
    @Override
    public String toString() {
        return MASK;
    }
}

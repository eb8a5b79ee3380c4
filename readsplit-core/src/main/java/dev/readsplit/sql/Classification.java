package dev.readsplit.sql;

import java.util.List;
import java.util.Objects;

/**
 * The immutable result of {@link SqlClassifier#classify(String)}.
 *
 * <p>Results without a {@code max-lag} hint and without user functions are shared constants, so the common
 * path allocates nothing; compare them with {@link #equals(Object)}, not {@code ==}.
 */
public final class Classification {

    private static final Reason[] REASONS = Reason.values();
    private static final Hint[] HINTS = Hint.values();
    private static final SessionEffect[] EFFECTS = SessionEffect.values();
    private static final Classification[] CACHE = new Classification[REASONS.length * HINTS.length * EFFECTS.length];

    static {
        for (Reason r : REASONS) {
            for (Hint h : HINTS) {
                for (SessionEffect e : EFFECTS) {
                    CACHE[index(r.ordinal(), h.ordinal(), e.ordinal())] = new Classification(r, h, e, -1L, List.of());
                }
            }
        }
    }

    private final Reason reason;
    private final Hint hint;
    private final SessionEffect sessionEffect;
    private final long maxLagMillis;
    private final List<String> userFunctions;

    private Classification(Reason reason, Hint hint, SessionEffect sessionEffect, long maxLagMillis,
            List<String> userFunctions) {
        this.reason = reason;
        this.hint = hint;
        this.sessionEffect = sessionEffect;
        this.maxLagMillis = maxLagMillis;
        this.userFunctions = userFunctions;
    }

    private static int index(int reason, int hint, int effect) {
        return (reason * HINTS.length + hint) * EFFECTS.length + effect;
    }

    /** Shared constant for the given ordinals, no max-lag and no user functions. */
    static Classification constant(int reason, int hint, int effect) {
        return CACHE[index(reason, hint, effect)];
    }

    static Classification of(int reason, int hint, int effect, long maxLagMillis, List<String> userFunctions) {
        List<String> fns = reason == Reason.READ.ordinal() ? userFunctions : List.of();
        if (maxLagMillis < 0 && fns.isEmpty()) {
            return constant(reason, hint, effect);
        }
        return new Classification(REASONS[reason], HINTS[hint], EFFECTS[effect], Math.max(-1L, maxLagMillis),
                List.copyOf(fns));
    }

    /** {@code true} only when the statement is certainly read-only and may run on a replica. */
    public boolean isRead() {
        return reason == Reason.READ;
    }

    public Reason reason() {
        return reason;
    }

    /** The routing hint of a leading {@code readsplit:} comment, {@link Hint#NONE} if there is none. */
    public Hint hint() {
        return hint;
    }

    /** The staleness bound of a leading {@code readsplit:max-lag=...} comment in milliseconds, -1 if absent. */
    public long maxLagMillis() {
        return maxLagMillis;
    }

    public SessionEffect sessionEffect() {
        return sessionEffect;
    }

    /**
     * Functions called by a {@link Reason#READ} statement that are in neither the curated built-in lists nor
     * the user-configured ones: lower-cased, {@code "schema.name"} when written qualified (a quoted identifier
     * keeps its exact spelling). The router checks their volatility in {@code pg_proc}. Empty for any
     * classification that is not a read.
     */
    public List<String> userFunctions() {
        return userFunctions;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Classification)) {
            return false;
        }
        Classification c = (Classification) o;
        return reason == c.reason && hint == c.hint && sessionEffect == c.sessionEffect
                && maxLagMillis == c.maxLagMillis && userFunctions.equals(c.userFunctions);
    }

    @Override
    public int hashCode() {
        return Objects.hash(reason, hint, sessionEffect, maxLagMillis, userFunctions);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Classification[").append(isRead() ? "read" : "primary")
                .append(", reason=").append(reason);
        if (hint != Hint.NONE) {
            sb.append(", hint=").append(hint);
        }
        if (maxLagMillis >= 0) {
            sb.append(", maxLag=").append(maxLagMillis).append("ms");
        }
        if (sessionEffect != SessionEffect.NONE) {
            sb.append(", effect=").append(sessionEffect);
        }
        if (!userFunctions.isEmpty()) {
            sb.append(", userFunctions=").append(userFunctions);
        }
        return sb.append(']').toString();
    }
}

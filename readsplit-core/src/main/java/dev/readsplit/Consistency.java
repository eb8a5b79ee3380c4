package dev.readsplit;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How fresh a read must be. Immutable; instances are values ({@link #equals} by level and bound).
 *
 * <ul>
 *   <li>{@link Level#EVENTUAL}: any eligible replica.</li>
 *   <li>{@link Level#BOUNDED_STALENESS}: only replicas whose replay lag is under {@link #maxStaleness()}.</li>
 *   <li>{@link Level#READ_YOUR_WRITES} (the default): after a session writes, its reads only go to a replica
 *       that has replayed the session's commit LSN; otherwise the read waits up to a bound or goes to the
 *       primary.</li>
 *   <li>{@link Level#STRONG}: the primary.</li>
 * </ul>
 *
 * <p>{@link #toString()} gives the canonical text form, which {@link #parse(String)} reads back.
 */
public final class Consistency {

    /** The consistency levels, weakest first. */
    public enum Level { EVENTUAL, BOUNDED_STALENESS, READ_YOUR_WRITES, STRONG }

    private static final Consistency EVENTUAL = new Consistency(Level.EVENTUAL, null);
    private static final Consistency READ_YOUR_WRITES = new Consistency(Level.READ_YOUR_WRITES, null);
    private static final Consistency STRONG = new Consistency(Level.STRONG, null);

    private static final String EXPECTED =
            "expected eventual, bounded_staleness:<duration>, read_your_writes or strong";
    private static final Pattern BOUNDED =
            Pattern.compile("bounded_staleness\\s*(?::\\s*(.*)|\\(\\s*(.*?)\\s*\\))", Pattern.DOTALL);
    private static final Pattern AMOUNT =
            Pattern.compile("([+-]?\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h|d)?");

    private final Level level;
    private final Duration maxStaleness;

    private Consistency(Level level, Duration maxStaleness) {
        this.level = level;
        this.maxStaleness = maxStaleness;
    }

    /** Any eligible replica may serve the read. */
    public static Consistency eventual() {
        return EVENTUAL;
    }

    /**
     * Only replicas whose replay lag is under {@code maxStaleness} may serve the read.
     *
     * @throws IllegalArgumentException if {@code maxStaleness} is null, zero or negative
     */
    public static Consistency boundedStaleness(Duration maxStaleness) {
        if (maxStaleness == null) {
            throw new IllegalArgumentException("consistency bounded_staleness needs a duration");
        }
        if (maxStaleness.isNegative() || maxStaleness.isZero()) {
            throw new IllegalArgumentException("consistency bounded_staleness must be positive: " + maxStaleness);
        }
        return new Consistency(Level.BOUNDED_STALENESS, maxStaleness);
    }

    /** A session reads its own writes (the default). */
    public static Consistency readYourWrites() {
        return READ_YOUR_WRITES;
    }

    /** Every read goes to the primary. */
    public static Consistency strong() {
        return STRONG;
    }

    /**
     * Parses {@code eventual}, {@code bounded_staleness:2s} (also {@code bounded-staleness(2s)}),
     * {@code read_your_writes} and {@code strong}, case-insensitively; {@code -} and {@code _} are
     * interchangeable. The bound accepts {@code 500ms}, {@code 2s}, {@code 1m}, ISO-8601 {@code PT2S}, or a
     * bare number of milliseconds.
     *
     * @throws IllegalArgumentException naming the text that could not be read
     */
    public static Consistency parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("consistency must not be blank (" + EXPECTED + ")");
        }
        String norm = text.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        switch (norm) {
            case "eventual":
                return EVENTUAL;
            case "read_your_writes":
                return READ_YOUR_WRITES;
            case "strong":
                return STRONG;
            case "bounded_staleness":
                throw new IllegalArgumentException("consistency '" + text.trim()
                        + "' needs a duration, e.g. bounded_staleness:2s");
            default:
                break;
        }
        Matcher m = BOUNDED.matcher(norm);
        if (!m.matches()) {
            throw new IllegalArgumentException("unknown consistency '" + text.trim() + "' (" + EXPECTED + ")");
        }
        // The duration is taken from the original text so ISO-8601 keeps its case for the message.
        String amount = (m.group(1) != null ? m.group(1) : m.group(2)).trim();
        Duration d = parseDuration(amount);
        if (d == null) {
            throw new IllegalArgumentException("consistency '" + text.trim()
                    + "' has an invalid duration '" + amount + "' (use e.g. 500ms, 2s, 1m or PT2S)");
        }
        return boundedStaleness(d);
    }

    /** Same grammar as the configuration's duration values (the configuration's duration grammar, see {@code docs/operations.md}). */
    private static Duration parseDuration(String text) {
        if (text.isEmpty()) {
            return null;
        }
        try {
            if (text.startsWith("pt") || text.startsWith("p") || text.startsWith("-p")) {
                return Duration.parse(text.toUpperCase(Locale.ROOT));
            }
            Matcher m = AMOUNT.matcher(text);
            if (!m.matches()) {
                return null;
            }
            String unit = m.group(2) == null ? "ms" : m.group(2);
            long nanosPerUnit = switch (unit) {
                case "ns" -> 1L;
                case "us" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> 86_400_000_000_000L;
            };
            return Duration.ofNanos(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(nanosPerUnit))
                    .setScale(0, java.math.RoundingMode.HALF_UP).longValueExact());
        } catch (DateTimeParseException | ArithmeticException e) {
            return null;
        }
    }

    /** The level. */
    public Level level() {
        return level;
    }

    /** The staleness bound for {@link Level#BOUNDED_STALENESS}; {@code null} for every other level. */
    public Duration maxStaleness() {
        return maxStaleness;
    }

    /** Whether a replica may serve reads at this level at all ({@code false} only for {@link #strong()}). */
    public boolean allowsReplicas() {
        return level != Level.STRONG;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Consistency c && c.level == level && Objects.equals(c.maxStaleness, maxStaleness);
    }

    @Override
    public int hashCode() {
        return level.hashCode() * 31 + Objects.hashCode(maxStaleness);
    }

    /** The canonical text form: {@code eventual}, {@code bounded_staleness:2s}, {@code read_your_writes}, {@code strong}. */
    @Override
    public String toString() {
        if (level != Level.BOUNDED_STALENESS) {
            return level.name().toLowerCase(Locale.ROOT);
        }
        return "bounded_staleness:" + compact(maxStaleness);
    }

    private static String compact(Duration d) {
        if (d.getNano() == 0) {
            long s = d.getSeconds();
            return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
        }
        if (d.getNano() % 1_000_000 == 0) {
            return d.toMillis() + "ms";
        }
        return d.toNanos() + "ns";
    }
}

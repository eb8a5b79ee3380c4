package dev.readsplit.text;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Readsplit's one duration grammar (see {@code docs/operations.md}), for every configuration source, the
 * {@code bounded_staleness:2s} consistency and the command line's options: {@code 500ms}, {@code 2s},
 * {@code 1.5s}, {@code 1m}, {@code 1h}, {@code 1d}, {@code 250us}, {@code 10ns}, ISO-8601 ({@code PT2S}), and a
 * bare number meaning milliseconds. Units are case-insensitive and may be separated from the number by spaces.
 * Signs are accepted so that callers can report the semantic error ("must be positive: PT-1S").
 *
 * <p>It depends on nothing else in Readsplit, so both the base package's value types and the configuration
 * package use it without a package cycle. Internal: not exported.
 */
public final class DurationGrammar {

    private static final Pattern AMOUNT =
            Pattern.compile("([+-]?\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h|d)?", Pattern.CASE_INSENSITIVE);

    private static final BigDecimal NANOS_PER_SECOND = BigDecimal.valueOf(1_000_000_000L);

    private DurationGrammar() {
    }

    /**
     * The duration {@code text} denotes, or {@code null} when it is not one (empty, malformed, or out of
     * {@link Duration}'s range, about 292 billion years). A negative, zero or huge duration is returned as it is:
     * the caller knows its bounds.
     */
    public static Duration parseOrNull(String text) {
        String t = text == null ? "" : text.trim();
        if (t.isEmpty()) {
            return null;
        }
        try {
            char c = Character.toUpperCase(t.charAt(0));
            if (c == 'P' || ((c == '-' || c == '+') && t.length() > 1
                    && Character.toUpperCase(t.charAt(1)) == 'P')) {
                return Duration.parse(t.toUpperCase(Locale.ROOT));
            }
            Matcher m = AMOUNT.matcher(t);
            if (!m.matches()) {
                return null;
            }
            String unit = m.group(2) == null ? "ms" : m.group(2).toLowerCase(Locale.ROOT);
            long nanosPerUnit = switch (unit) {
                case "ns" -> 1L;
                case "us" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> 86_400_000_000_000L;
            };
            BigDecimal nanos = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(nanosPerUnit))
                    .setScale(0, RoundingMode.HALF_UP);
            BigDecimal[] secondsAndNanos = nanos.divideAndRemainder(NANOS_PER_SECOND);
            return Duration.ofSeconds(secondsAndNanos[0].longValueExact(), secondsAndNanos[1].longValueExact());
        } catch (DateTimeParseException | ArithmeticException e) {
            return null;
        }
    }
}

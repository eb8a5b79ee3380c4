package dev.readsplit.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Readsplit's one duration grammar, for every configuration source, the {@code bounded_staleness:2s}
 * consistency and the command line's options: {@code 500ms}, {@code 2s}, {@code 1.5s}, {@code 1m}, {@code 1h}, {@code 1d},
 * {@code 250us}, {@code 10ns}, ISO-8601 ({@code PT2S}), and a bare number meaning milliseconds. Units are
 * case-insensitive and may be separated from the number by spaces. Signs are accepted here so that the
 * builder reports the semantic error ("must be positive: PT-1S").
 */
public final class Durations {

    private static final Pattern AMOUNT =
            Pattern.compile("([+-]?\\d+(?:\\.\\d+)?)\\s*(ns|us|ms|s|m|h|d)?", Pattern.CASE_INSENSITIVE);

    private Durations() {
    }

    /**
     * Parses {@code text}; a negative or zero duration is returned as it is (the caller knows its bounds).
     *
     * @param key names the setting in the message, e.g. {@code healthCheckInterval}
     * @throws ConfigException naming {@code key} and {@code text}
     */
    public static Duration parse(String key, String text) {
        String t = text == null ? "" : text.trim();
        if (t.isEmpty()) {
            throw new ConfigException(key, key + " must be a duration (e.g. 500ms, 2s, 1m, PT2S): ''");
        }
        try {
            char c = Character.toUpperCase(t.charAt(0));
            if (c == 'P' || ((c == '-' || c == '+') && t.length() > 1
                    && Character.toUpperCase(t.charAt(1)) == 'P')) {
                return Duration.parse(t.toUpperCase(Locale.ROOT));
            }
            Matcher m = AMOUNT.matcher(t);
            if (m.matches()) {
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
                return Duration.ofNanos(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(nanosPerUnit))
                        .setScale(0, RoundingMode.HALF_UP).longValueExact());
            }
        } catch (DateTimeParseException | ArithmeticException e) {
            // fall through to the uniform message
        }
        throw new ConfigException(key, key + " must be a duration (e.g. 500ms, 2s, 1m, PT2S): '" + t + "'");
    }
}

package dev.readsplit.cli;

import picocli.CommandLine;

import java.time.Duration;
import java.util.Locale;

/** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, or ISO-8601 {@code PT30S}. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            if (v.startsWith("pt")) {
                return positive(value, Duration.parse(v.toUpperCase(Locale.ROOT)));
            }
            if (v.endsWith("ms")) {
                return positive(value, Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2))));
            }
            long n = Long.parseLong(v.substring(0, v.length() - 1));
            return positive(value, switch (v.charAt(v.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> throw new NumberFormatException();
            });
        } catch (RuntimeException e) {
            throw new CommandLine.TypeConversionException(
                    "not a duration: '" + value + "' (expected e.g. 500ms, 30s, 5m, 1h)");
        }
    }

    private static Duration positive(String text, Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new CommandLine.TypeConversionException("duration must be positive: '" + text + "'");
        }
        return d;
    }
}

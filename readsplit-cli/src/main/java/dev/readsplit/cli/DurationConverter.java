package dev.readsplit.cli;

import dev.readsplit.text.DurationGrammar;
import picocli.CommandLine;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * A positive duration in Readsplit's one grammar ({@link DurationGrammar}): {@code 500ms}, {@code 30s}, {@code 1.5s},
 * {@code 5m}, {@code 1h}, {@code 2d}, ISO-8601 {@code PT30S}, or a bare number of milliseconds. Each option checks
 * its own range afterwards ({@link #checkRange}), before anything starts, so that a value that parses but makes no
 * sense ({@code 999999999h}) is a usage error naming the option, never an overflow later.
 */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    /** A number of at most 18 digits and a unit: such a text that does not parse is out of range. */
    private static final Pattern AMOUNT_AND_UNIT =
            Pattern.compile("[+-]?\\d{1,18}(?:\\.\\d+)?\\s*(?:ns|us|ms|s|m|h|d)?", Pattern.CASE_INSENSITIVE);

    @Override
    public Duration convert(String value) {
        Duration d = DurationGrammar.parseOrNull(value);
        if (d == null) {
            if (AMOUNT_AND_UNIT.matcher(value.trim()).matches()) {
                throw new CommandLine.TypeConversionException("duration too large: '" + value + "'");
            }
            throw new CommandLine.TypeConversionException(
                    "not a duration: '" + value + "' (expected e.g. 500ms, 30s, 5m, 1h)");
        }
        if (d.isNegative() || d.isZero()) {
            throw new CommandLine.TypeConversionException("duration must be greater than zero: '" + value + "'");
        }
        return d;
    }

    /** The same grammar, but 0 is taken too: for an option where 0 means "not at all" ({@code --drain-timeout 0s}). */
    static final class OrZero implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Duration d = DurationGrammar.parseOrNull(value);
            if (d != null && d.isZero()) {
                return d;
            }
            if (d != null && d.isNegative()) {
                throw new CommandLine.TypeConversionException("duration cannot be negative: '" + value + "'");
            }
            return new DurationConverter().convert(value);
        }
    }

    /** @throws CommandLine.ParameterException (exit 2) when {@code d} is outside {@code min..max} */
    static void checkRange(CommandLine cl, String option, Duration d, Duration min, Duration max) {
        if (d != null && (d.compareTo(min) < 0 || d.compareTo(max) > 0)) {
            throw new CommandLine.ParameterException(cl, option + " must be between " + format(min) + " and "
                    + format(max) + ": " + format(d));
        }
    }

    /** {@code 100ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 7d}, or seconds with a fraction. */
    static String format(Duration d) {
        if (d.getSeconds() > Long.MAX_VALUE / 1000 / 2) {
            return d.getSeconds() + "s";
        }
        long ms = d.toMillis();
        if (ms % 86_400_000L == 0 && ms > 0) {
            return ms / 86_400_000L + "d";
        }
        if (ms % 3_600_000L == 0 && ms > 0) {
            return ms / 3_600_000L + "h";
        }
        if (ms % 60_000L == 0 && ms > 0) {
            return ms / 60_000L + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        return ms + "ms";
    }

    /** @throws CommandLine.ParameterException (exit 2) when {@code value} is outside {@code min..max} */
    static void checkRange(CommandLine cl, String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new CommandLine.ParameterException(cl, option + " must be between " + min + " and " + max + ": "
                    + value);
        }
    }
}

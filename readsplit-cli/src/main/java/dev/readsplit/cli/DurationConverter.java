package dev.readsplit.cli;

import dev.readsplit.config.ConfigException;
import dev.readsplit.config.Durations;
import picocli.CommandLine;

import java.time.Duration;

/**
 * A positive duration in Readsplit's one grammar ({@link Durations}): {@code 500ms}, {@code 30s}, {@code 1.5s},
 * {@code 5m}, {@code 1h}, ISO-8601 {@code PT30S}, or a bare number of milliseconds.
 */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

    @Override
    public Duration convert(String value) {
        Duration d;
        try {
            d = Durations.parse("duration", value);
        } catch (ConfigException e) {
            throw new CommandLine.TypeConversionException(
                    "not a duration: '" + value + "' (expected e.g. 500ms, 30s, 5m, 1h)");
        }
        if (d.isNegative() || d.isZero()) {
            throw new CommandLine.TypeConversionException("duration must be positive: '" + value + "'");
        }
        return d;
    }
}

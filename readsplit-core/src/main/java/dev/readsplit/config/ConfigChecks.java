package dev.readsplit.config;

import java.time.Duration;
import java.util.List;

/**
 * The per-value checks shared by the builders and the settings records: each throws a {@link ConfigException}
 * naming the key and the value at once.
 */
final class ConfigChecks {

    private ConfigChecks() {
    }

    static <T> T notNull(String key, T value) {
        if (value == null) {
            throw new ConfigException(key, key + " must not be null");
        }
        return value;
    }

    static String notBlank(String key, String value) {
        notNull(key, value);
        if (value.isBlank()) {
            throw new ConfigException(key, key + " must not be blank: '" + value + "'");
        }
        return value.trim();
    }

    static int atLeastOne(String key, int value) {
        if (value < 1) {
            throw new ConfigException(key, key + " must be at least 1: " + value);
        }
        return value;
    }

    static Duration positive(String key, Duration d) {
        notNull(key, d);
        if (d.isNegative() || d.isZero()) {
            throw new ConfigException(key, key + " must be positive: " + d);
        }
        return d;
    }

    static Duration notNegative(String key, Duration d) {
        notNull(key, d);
        if (d.isNegative()) {
            throw new ConfigException(key, key + " must not be negative: " + d);
        }
        return d;
    }

    static Duration atMost(String key, Duration d, Duration max) {
        if (d.compareTo(max) > 0) {
            throw new ConfigException(key, key + " must be at most " + max + ": " + d);
        }
        return d;
    }

    /** Throws every cross-field problem of one settings group together. */
    static void none(List<ConfigException.Problem> problems) {
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
    }
}

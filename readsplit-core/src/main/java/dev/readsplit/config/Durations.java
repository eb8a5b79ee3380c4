package dev.readsplit.config;

import dev.readsplit.text.DurationGrammar;

import java.time.Duration;

/**
 * Configuration durations: {@link DurationGrammar}'s one grammar, with an error that names the setting.
 */
final class Durations {

    /** The longest configured duration: what fits in a {@code long} of nanoseconds (about 292 years). */
    private static final Duration MAX = Duration.ofNanos(Long.MAX_VALUE);

    private Durations() {
    }

    /**
     * Parses {@code text}; a negative or zero duration is returned as it is (the caller knows its bounds).
     *
     * @param key names the setting in the message, e.g. {@code healthCheckInterval}
     * @throws ConfigException naming {@code key} and {@code text}
     */
    static Duration parse(String key, String text) {
        Duration d = DurationGrammar.parseOrNull(text);
        if (d == null) {
            String t = text == null ? "" : text.trim();
            throw new ConfigException(key, key + " must be a duration (e.g. 500ms, 2s, 1m, PT2S): '" + t + "'");
        }
        if (d.compareTo(MAX) > 0 || d.compareTo(MAX.negated()) < 0) {
            // a configured duration is used in nanoseconds (schedulers, pools): refuse what would overflow there
            throw new ConfigException(key, key + " must be at most " + MAX.toDays() + " days: '" + text.trim() + "'");
        }
        return d;
    }
}

package dev.readsplit.config;

import dev.readsplit.text.DurationGrammar;

import java.time.Duration;

/**
 * Configuration durations: {@link DurationGrammar}'s one grammar, with an error that names the setting.
 */
public final class Durations {

    private Durations() {
    }

    /**
     * Parses {@code text}; a negative or zero duration is returned as it is (the caller knows its bounds).
     *
     * @param key names the setting in the message, e.g. {@code healthCheckInterval}
     * @throws ConfigException naming {@code key} and {@code text}
     */
    public static Duration parse(String key, String text) {
        Duration d = DurationGrammar.parseOrNull(text);
        if (d == null) {
            String t = text == null ? "" : text.trim();
            throw new ConfigException(key, key + " must be a duration (e.g. 500ms, 2s, 1m, PT2S): '" + t + "'");
        }
        return d;
    }
}

package dev.readsplit.topology;

import dev.readsplit.config.ReadsplitConfig;

/**
 * How far behind a replica is, against the {@code lagAlertInfo/Warning/Error/Critical} thresholds (seed
 * 004's defaults: 1/5/10/30 s). A level is entered at its threshold and left only once the lag is below
 * {@code lagReadmitRatio} of it, so a lag hovering around a threshold raises one event, not one per check.
 */
public enum LagLevel {
    NONE, INFO, WARNING, ERROR, CRITICAL;

    /** The threshold that enters this level, in milliseconds (0 for {@link #NONE}). */
    long thresholdMillis(ReadsplitConfig config) {
        return switch (this) {
            case NONE -> 0;
            case INFO -> config.lag().alertInfo().toMillis();
            case WARNING -> config.lag().alertWarning().toMillis();
            case ERROR -> config.lag().alertError().toMillis();
            case CRITICAL -> config.lag().alertCritical().toMillis();
        };
    }

    /**
     * The level for a measured time lag, given the level the replica is at now: the highest level whose
     * threshold the lag reaches, except that the current level is kept while the lag stays above
     * {@code lagReadmitRatio × its threshold}.
     */
    public static LagLevel next(LagLevel current, long lagMillis, ReadsplitConfig config) {
        LagLevel reached = NONE;
        for (LagLevel l : values()) {
            if (l != NONE && lagMillis >= l.thresholdMillis(config)) {
                reached = l;
            }
        }
        if (reached.ordinal() >= current.ordinal()) {
            return reached;
        }
        // going down: leave the current level only once clearly below it
        LagLevel level = current;
        while (level != NONE && level.ordinal() > reached.ordinal()
                && lagMillis < level.thresholdMillis(config) * config.lag().readmitRatio()) {
            level = values()[level.ordinal() - 1];
        }
        return level;
    }
}

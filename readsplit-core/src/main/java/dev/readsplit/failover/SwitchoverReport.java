package dev.readsplit.failover;

import java.time.Duration;
import java.util.List;

/**
 * The result of a successful {@link FailoverManager#switchover}.
 *
 * @param oldPrimary  the node that was primary (now fenced)
 * @param newPrimary  the promoted node, where writes go now
 * @param steps       each step and its duration, in order
 * @param writesPaused how long new writes were held at the data source
 * @param total       the whole switchover
 */
public record SwitchoverReport(String oldPrimary, String newPrimary, List<StepTiming> steps, Duration writesPaused,
                               Duration total) {

    public SwitchoverReport {
        steps = List.copyOf(steps);
    }

    /** The duration of {@code step}, or null when it did not run. */
    public Duration step(FailoverStep step) {
        for (StepTiming s : steps) {
            if (s.step() == step) {
                return s.duration();
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "switchover " + oldPrimary + " -> " + newPrimary + " in " + total.toMillis() + " ms (writes paused "
                + writesPaused.toMillis() + " ms): " + steps;
    }
}

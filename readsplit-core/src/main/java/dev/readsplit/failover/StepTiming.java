package dev.readsplit.failover;

import java.time.Duration;

/**
 * How long one step of a failover or switchover took.
 *
 * @param step     the step
 * @param duration its duration
 * @param detail   what it did, in a sentence (never a password)
 */
public record StepTiming(FailoverStep step, Duration duration, String detail) {

    @Override
    public String toString() {
        return step + " " + duration.toMillis() + " ms (" + detail + ")";
    }
}

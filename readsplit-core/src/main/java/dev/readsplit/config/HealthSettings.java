package dev.readsplit.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.readsplit.config.ConfigChecks.atLeastOne;
import static dev.readsplit.config.ConfigChecks.positive;

/**
 * How nodes are checked: the keys {@code healthCheckInterval,
 * healthCheckTimeout, failureThreshold, recoveryThreshold}. Valid by construction.
 *
 * @param interval          time between two checks of a node ({@code healthCheckInterval})
 * @param timeout           bound of one check: at most one minute and ten intervals ({@code healthCheckTimeout})
 * @param failureThreshold  consecutive failed checks that mark a node DOWN
 * @param recoveryThreshold consecutive successful checks that bring a DOWN node back
 */
public record HealthSettings(Duration interval, Duration timeout, int failureThreshold, int recoveryThreshold) {

    /** Upper bound for {@code healthCheckTimeout}. */
    static final Duration MAX_TIMEOUT = Duration.ofMinutes(1);
    /** {@code healthCheckTimeout} may be at most this many {@code healthCheckInterval}s. */
    static final int TIMEOUT_INTERVALS = 10;

    public HealthSettings {
        positive("healthCheckInterval", interval);
        timeout(timeout);
        atLeastOne("failureThreshold", failureThreshold);
        atLeastOne("recoveryThreshold", recoveryThreshold);
        ConfigChecks.none(problems(interval, timeout));
    }

    static Duration timeout(Duration timeout) {
        positive("healthCheckTimeout", timeout);
        return ConfigChecks.atMost("healthCheckTimeout", timeout, MAX_TIMEOUT);
    }

    static List<ConfigException.Problem> problems(Duration interval, Duration timeout) {
        List<ConfigException.Problem> p = new ArrayList<>();
        Duration limit = interval.multipliedBy(TIMEOUT_INTERVALS);
        if (timeout.compareTo(limit) > 0) {
            p.add(new ConfigException.Problem("healthCheckTimeout", "healthCheckTimeout (" + timeout
                    + ") must not exceed " + TIMEOUT_INTERVALS + " x healthCheckInterval (" + limit + ")"));
        }
        return p;
    }

    /** The mutable half of {@link ReadsplitConfig.Builder} for this group. */
    static final class Builder {
        Duration interval = Duration.ofSeconds(1);
        Duration timeout = Duration.ofSeconds(1);
        int failureThreshold = 3;
        int recoveryThreshold = 2;

        Builder() {
        }

        Builder(HealthSettings s) {
            interval = s.interval;
            timeout = s.timeout;
            failureThreshold = s.failureThreshold;
            recoveryThreshold = s.recoveryThreshold;
        }

        List<ConfigException.Problem> problems() {
            return HealthSettings.problems(interval, timeout);
        }

        HealthSettings build() {
            return new HealthSettings(interval, timeout, failureThreshold, recoveryThreshold);
        }
    }
}

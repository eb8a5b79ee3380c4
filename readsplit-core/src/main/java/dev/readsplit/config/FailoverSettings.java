package dev.readsplit.config;

import java.time.Duration;

import static dev.readsplit.config.ConfigChecks.atLeastOne;
import static dev.readsplit.config.ConfigChecks.notNull;
import static dev.readsplit.config.ConfigChecks.positive;

/**
 * Supervised failover and switchover ({@code docs/failover.md}): the keys {@code failoverPolicy,
 * minHealthyReplicas, failoverStepTimeout}. Valid by construction; the rules that involve the replicas or the
 * topology source are checked by {@link ReadsplitConfig.Builder#build()}.
 *
 * @param policy             whether Readsplit promotes a replica itself (default {@link FailoverPolicy#NONE})
 * @param minHealthyReplicas quorum: healthy replicas needed before one is promoted (default 1)
 * @param stepTimeout        the bound of every failover/switchover step (connect, promote, repoint, verify)
 */
public record FailoverSettings(FailoverPolicy policy, int minHealthyReplicas, Duration stepTimeout) {

    /** Upper bound for {@code failoverStepTimeout}. */
    static final Duration MAX_STEP_TIMEOUT = Duration.ofMinutes(5);

    public FailoverSettings {
        notNull("failoverPolicy", policy);
        atLeastOne("minHealthyReplicas", minHealthyReplicas);
        stepTimeout(stepTimeout);
    }

    static Duration stepTimeout(Duration timeout) {
        positive("failoverStepTimeout", timeout);
        return ConfigChecks.atMost("failoverStepTimeout", timeout, MAX_STEP_TIMEOUT);
    }

    /** The mutable half of {@link ReadsplitConfig.Builder} for this group. */
    static final class Builder {
        FailoverPolicy policy = FailoverPolicy.NONE;
        int minHealthyReplicas = 1;
        Duration stepTimeout = Duration.ofSeconds(10);

        Builder() {
        }

        Builder(FailoverSettings s) {
            policy = s.policy;
            minHealthyReplicas = s.minHealthyReplicas;
            stepTimeout = s.stepTimeout;
        }

        FailoverSettings build() {
            return new FailoverSettings(policy, minHealthyReplicas, stepTimeout);
        }
    }
}

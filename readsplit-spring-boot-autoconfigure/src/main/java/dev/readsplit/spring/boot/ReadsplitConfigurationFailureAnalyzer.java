package dev.readsplit.spring.boot;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Boot's start-up failure report for a configuration Readsplit refused: the properties at fault and what to do. */
final class ReadsplitConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<ReadsplitConfigurationException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ReadsplitConfigurationException cause) {
        StringBuilder action = new StringBuilder("Fix ");
        for (int i = 0; i < cause.problems().size(); i++) {
            action.append(i == 0 ? "" : ", ").append(cause.problems().get(i).property());
        }
        action.append(". The keys, their defaults and ranges are in docs/spring-boot.md and in your IDE's "
                + "completion (readsplit.*).");
        return new FailureAnalysis(cause.getMessage(), action.toString(), cause);
    }
}

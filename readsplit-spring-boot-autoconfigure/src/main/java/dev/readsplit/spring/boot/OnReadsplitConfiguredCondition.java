package dev.readsplit.spring.boot;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches when the environment configures Readsplit ({@link ReadsplitConfigFactory#source}) and
 * {@code readsplit.enabled} is not false.
 */
final class OnReadsplitConfiguredCondition extends SpringBootCondition {

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        if ("false".equalsIgnoreCase(context.getEnvironment().getProperty("readsplit.enabled", "true").trim())) {
            return ConditionOutcome.noMatch("readsplit.enabled is false");
        }
        ReadsplitConfigFactory.Source source = ReadsplitConfigFactory.source(context.getEnvironment());
        if (source == null) {
            return ConditionOutcome.noMatch("no readsplit.primary, no jdbc:readsplit: spring.datasource.url, "
                    + "no DB_HOST or DATABASE_URL");
        }
        return ConditionOutcome.match("Readsplit configured from " + source.description());
    }
}

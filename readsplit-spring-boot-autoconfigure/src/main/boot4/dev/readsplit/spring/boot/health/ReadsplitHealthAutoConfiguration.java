package dev.readsplit.spring.boot.health;

import dev.readsplit.spring.boot.ReadsplitAutoConfiguration;
import dev.readsplit.spring.boot.ReadsplitHealth;
import dev.readsplit.spring.boot.ReadsplitOperations;
import dev.readsplit.spring.boot.ReadsplitProperties;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The {@code readsplit} health contributor, when Boot's health support is on the class path (Boot 4). */
@AutoConfiguration(after = ReadsplitAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthContributor")
@ConditionalOnBean(ReadsplitOperations.class)
public class ReadsplitHealthAutoConfiguration {

    /** Nested so that its condition's class is only loaded once the outer class check has passed. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnEnabledHealthIndicator("readsplit")
    static class Contributor {
        @Bean
        @ConditionalOnMissingBean(name = "readsplitHealthContributor")
        ReadsplitHealthContributor readsplitHealthContributor(ReadsplitOperations operations,
                                                              ReadsplitProperties properties) {
            return new ReadsplitHealthContributor(new ReadsplitHealth(operations, minReplicas(operations, properties)));
        }
    }

    static int minReplicas(ReadsplitOperations operations, ReadsplitProperties properties) {
        Integer configured = properties.getHealth().getMinReplicas();
        if (configured != null) {
            return configured;
        }
        return operations.dataSource().config().routing().fallbackToPrimary() ? 0 : 1;
    }
}

package dev.readsplit.spring.boot.actuate;

import dev.readsplit.spring.boot.ReadsplitAutoConfiguration;
import dev.readsplit.spring.boot.ReadsplitOperations;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;

/** The {@code readsplit} Actuator endpoint and info contributor, when Actuator is on the class path. */
@AutoConfiguration(after = ReadsplitAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
@ConditionalOnBean(ReadsplitOperations.class)
public class ReadsplitActuatorAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public ReadsplitEndpoint readsplitEndpoint(ReadsplitOperations operations) {
        return new ReadsplitEndpoint(operations);
    }

    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnProperty(name = "management.info.readsplit.enabled", matchIfMissing = true)
    public ReadsplitInfoContributor readsplitInfoContributor(ReadsplitOperations operations) {
        return new ReadsplitInfoContributor(operations);
    }
}

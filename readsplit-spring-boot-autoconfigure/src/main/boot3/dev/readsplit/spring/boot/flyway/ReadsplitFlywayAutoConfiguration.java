package dev.readsplit.spring.boot.flyway;

import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.spring.boot.PrimaryDataSource;
import dev.readsplit.spring.boot.ReadsplitAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.flyway.FlywayConfigurationCustomizer;
import org.springframework.context.annotation.Bean;

/**
 * Flyway's migrations through the primary (Boot 3.5): when Flyway would use the Readsplit data source, it gets
 * {@link PrimaryDataSource} instead, so its reads of the schema history never go to a lagging replica. A
 * dedicated {@code spring.flyway.url} is left alone.
 */
@AutoConfiguration(after = ReadsplitAutoConfiguration.class,
        beforeName = "org.springframework.boot.autoconfigure.flyway.FlywayAutoConfiguration")
@ConditionalOnClass(name = {"org.flywaydb.core.Flyway",
        "org.springframework.boot.autoconfigure.flyway.FlywayConfigurationCustomizer"})
@ConditionalOnBean(ReadsplitDataSource.class)
public class ReadsplitFlywayAutoConfiguration {

    @Bean
    public FlywayConfigurationCustomizer readsplitFlywayOnPrimary(ReadsplitDataSource readsplit) {
        return configuration -> {
            if (ReadsplitAutoConfiguration.isReadsplit(configuration.getDataSource(), readsplit)) {
                configuration.dataSource(new PrimaryDataSource(readsplit));
            }
        };
    }
}

package dev.readsplit.spring.boot;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.metrics.ReadsplitMetrics;
import dev.readsplit.spring.boot.web.CausalRequestContext;
import dev.readsplit.spring.boot.web.CausalTokenFilter;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import javax.sql.DataSource;

/**
 * Readsplit as the application's {@code DataSource}, configured from {@code readsplit.*}, from a
 * {@code spring.datasource.url=jdbc:readsplit:...}, or from the seed services' environment names
 * ({@link ReadsplitConfigFactory}). It runs before Boot's {@code DataSourceAutoConfiguration}, which then backs
 * off: no HikariCP pool is built around Readsplit (whose node pools are the only pools; a second pool would hold
 * Readsplit's logical connections for their whole life, see {@code docs/spring-boot.md}).
 *
 * <p>Also: the Micrometer binder (bound to Boot's {@code MeterRegistry} by Boot's own binder registration),
 * graceful shutdown ({@link ReadsplitShutdown}), Liquibase on the primary, and, with
 * {@code readsplit.web.causal-token.enabled=true} in a servlet application, request-scoped read-your-writes.
 */
@AutoConfiguration(beforeName = {
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration"})
@ConditionalOnClass(ReadsplitDataSource.class)
@Conditional(OnReadsplitConfiguredCondition.class)
@EnableConfigurationProperties(ReadsplitProperties.class)
public class ReadsplitAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean
    public ReadsplitConfig readsplitConfig(Environment environment, ReadsplitProperties properties) {
        return ReadsplitConfigFactory.create(environment, properties);
    }

    /** Closed (pools, health checker) when the context closes, after the beans that use it. */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public ReadsplitDataSource readsplitDataSource(ReadsplitConfig config) {
        return new ReadsplitDataSource(config);
    }

    @Bean
    @ConditionalOnMissingBean
    public ReadsplitOperations readsplitOperations(ReadsplitDataSource dataSource) {
        return new ReadsplitOperations(dataSource);
    }

    @Bean
    public ReadsplitShutdown readsplitShutdown(ReadsplitOperations operations, ReadsplitProperties properties) {
        return new ReadsplitShutdown(operations, properties.getShutdown().getDrainTimeout());
    }

    /** A Micrometer {@code MeterBinder}: Boot binds it to its {@code MeterRegistry}. */
    @Bean
    @ConditionalOnMissingBean
    public ReadsplitMetrics readsplitMetrics(ReadsplitDataSource dataSource) {
        return new ReadsplitMetrics(dataSource);
    }

    /** Liquibase's reads of its change log tables and its lock must see the primary: it gets primary connections. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "liquibase.integration.spring.SpringLiquibase")
    static class LiquibaseOnPrimary {

        @Bean
        static BeanPostProcessor readsplitLiquibasePrimary(ObjectProvider<ReadsplitDataSource> readsplit) {
            return new BeanPostProcessor() {
                @Override
                public Object postProcessBeforeInitialization(Object bean, String beanName) throws BeansException {
                    if (bean instanceof liquibase.integration.spring.SpringLiquibase liquibase) {
                        ReadsplitDataSource ds = readsplit.getIfAvailable();
                        if (ds != null && isReadsplit(liquibase.getDataSource(), ds)) {
                            liquibase.setDataSource(new PrimaryDataSource(ds));
                        }
                    }
                    return bean;
                }
            };
        }
    }

    /** Whether {@code candidate} is, or wraps, {@code readsplit}. */
    public static boolean isReadsplit(DataSource candidate, ReadsplitDataSource readsplit) {
        if (candidate == null) {
            return false;
        }
        if (candidate == readsplit) {
            return true;
        }
        try {
            return candidate.isWrapperFor(ReadsplitDataSource.class)
                    && candidate.unwrap(ReadsplitDataSource.class) == readsplit;
        } catch (java.sql.SQLException e) {
            return false;
        }
    }

    /**
     * Request-scoped read-your-writes: a filter opens one of core's causal contexts per request, from the token
     * in a cookie or header, and carries the request's new position back in the same cookie or header.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass(name = {"jakarta.servlet.Filter", "org.springframework.web.filter.OncePerRequestFilter"})
    @ConditionalOnProperty(name = "readsplit.web.causal-token.enabled", havingValue = "true")
    static class RequestCausalTokens {

        @Bean
        @ConditionalOnMissingBean
        CausalRequestContext readsplitCausalRequestContext(ReadsplitDataSource readsplit) {
            return new CausalRequestContext(readsplit);
        }

        @Bean
        CausalTokenFilter readsplitCausalTokenFilter(CausalRequestContext context, ReadsplitProperties properties) {
            ReadsplitProperties.CausalToken t = properties.getWeb().getCausalToken();
            return new CausalTokenFilter(context, t.getCookieName(), t.getHeaderName(), t.getCookieMaxAge(),
                    t.isCookieSecure());
        }
    }
}

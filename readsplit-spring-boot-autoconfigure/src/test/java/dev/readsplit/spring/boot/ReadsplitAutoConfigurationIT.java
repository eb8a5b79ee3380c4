package dev.readsplit.spring.boot;

import com.zaxxer.hikari.HikariDataSource;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.metrics.ReadsplitMetrics;
import dev.readsplit.spring.boot.actuate.ReadsplitEndpoint;
import dev.readsplit.spring.boot.actuate.ReadsplitInfoContributor;
import dev.readsplit.spring.boot.web.CausalTokenFilter;
import dev.readsplit.spring.boot.web.CausalRequestContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The condition matrix, with ApplicationContextRunner, on one real cluster (primary + 1 standby): which
 * configurations produce a Readsplit data source and which beans come with it. Also run against Boot 3.5 by
 * {@code -Pboot3}.
 */
class ReadsplitAutoConfigurationIT {

    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    private static final String[] BOOT_JDBC = {
            // Boot 4 names, then Boot 3.5's: whichever the class path has
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
            "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
            "org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration",
            "org.springframework.boot.autoconfigure.jdbc.JdbcTemplateAutoConfiguration",
            "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
            "org.springframework.boot.autoconfigure.jdbc.DataSourceTransactionManagerAutoConfiguration"};

    static Class<?>[] bootJdbc() {
        List<Class<?>> found = new ArrayList<>();
        for (String name : BOOT_JDBC) {
            try {
                found.add(Class.forName(name));
            } catch (ClassNotFoundException e) {
                // the other Boot version's name
            }
        }
        assertThat(found).as("Boot's JDBC auto-configurations").hasSize(3);
        return found.toArray(new Class<?>[0]);
    }

    private static final Class<?>[] READSPLIT = {ReadsplitAutoConfiguration.class,
            dev.readsplit.spring.boot.actuate.ReadsplitActuatorAutoConfiguration.class,
            dev.readsplit.spring.boot.health.ReadsplitHealthAutoConfiguration.class,
            dev.readsplit.spring.boot.flyway.ReadsplitFlywayAutoConfiguration.class};

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(READSPLIT))
            .withConfiguration(AutoConfigurations.of(bootJdbc()));

    private static String[] props(String... extra) {
        List<String> p = new ArrayList<>(TestClusters.readsplitProperties(cluster));
        p.addAll(List.of(extra));
        return p.toArray(new String[0]);
    }

    /** An initializer that adds {@code vars} as operating-system environment variables would appear to Boot. */
    private static ApplicationContextInitializer<ConfigurableApplicationContext> environment(Map<String, Object> vars) {
        return ctx -> ctx.getEnvironment().getPropertySources()
                .addFirst(new SystemEnvironmentPropertySource("testEnvironment", vars));
    }

    @Test
    void readsplitPropertiesGiveOneRunningReadsplitDataSource() {
        runner.withPropertyValues(props("readsplit.balancer=least-outstanding", "readsplit.max-lag=3s",
                "readsplit.max-lag-bytes=8MB", "readsplit.jdbc.options=-c work_mem=7777kB")).run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBeansOfType(DataSource.class)).hasSize(1);
            ReadsplitDataSource ds = ctx.getBean(ReadsplitDataSource.class);
            ReadsplitConfig c = ds.config();
            assertThat(c.name()).isEqualTo("boot-test");
            assertThat(c.primary().port()).isEqualTo(cluster.primary().port());
            assertThat(c.replicas()).hasSize(1);
            assertThat(c.routing().balancer().name()).isEqualTo("LEAST_OUTSTANDING");
            assertThat(c.lag().maxLag()).hasSeconds(3);
            assertThat(c.lag().maxLagBytes()).isEqualTo(8L * 1024 * 1024);
            assertThat(c.health().interval()).hasMillis(200);
            assertThat(ctx.getBean(JdbcTemplate.class).queryForObject(
                    "SHOW work_mem", String.class)).isEqualTo("7777kB");
            assertThat(ctx).hasSingleBean(ReadsplitMetrics.class).hasSingleBean(ReadsplitOperations.class)
                    .hasSingleBean(ReadsplitEndpoint.class).hasSingleBean(ReadsplitInfoContributor.class)
                    .hasBean("readsplitHealthContributor");
            assertThat(ctx).doesNotHaveBean(CausalTokenFilter.class);
        });
    }

    @Test
    void springDatasourceUrlBecomesReadsplitWithNoOuterHikariPool() {
        // credentials as an operating-system variable (SPRING_DATASOURCE_PASSWORD), one of Boot's usual sources
        runner.withPropertyValues("spring.datasource.url=" + TestClusters.readsplitUrl(cluster),
                        "spring.datasource.username=" + cluster.user())
                .withInitializer(environment(Map.of("SPRING_DATASOURCE_PASSWORD",
                        cluster.password() == null ? "" : cluster.password())))
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    Map<String, DataSource> all = ctx.getBeansOfType(DataSource.class);
                    assertThat(all).hasSize(1);
                    assertThat(all.values().iterator().next()).isInstanceOf(ReadsplitDataSource.class);
                    assertThat(ctx.getBeansOfType(HikariDataSource.class)).isEmpty();
                    ReadsplitDataSource ds = ctx.getBean(ReadsplitDataSource.class);
                    assertThat(ds.config().replicas()).hasSize(1);
                    TestClusters.awaitAllUp(ds);
                    JdbcTemplate jdbc = ctx.getBean(JdbcTemplate.class);
                    for (int i = 0; i < 20; i++) {
                        assertThat(jdbc.queryForObject("SELECT 1", Integer.class)).isEqualTo(1);
                    }
                    // With an outer pool, its idle logical connections would keep their physical ones borrowed
                    // from Readsplit's node pools; here each call returned them.
                    assertThat(TestClusters.activeInNodePools(ds)).isZero();
                    long replicaReads = dev.readsplit.metrics.StatusSnapshot.of(ds).nodes().stream()
                            .filter(n -> !n.primary()).mapToLong(dev.readsplit.metrics.NodeStatus::readsServed).sum();
                    assertThat(replicaReads).as("reads served by the replica").isPositive();
                });
    }

    @Test
    void seedEnvironmentNamesStillWork() {
        Map<String, Object> env = new java.util.HashMap<>();
        env.put("DB_HOST", cluster.primary().host());
        env.put("DB_PORT", String.valueOf(cluster.primary().port()));
        env.put("DB_NAME", cluster.database());
        env.put("DB_USER", cluster.user());
        if (cluster.password() != null) {
            env.put("DB_PASSWORD", cluster.password());
        }
        env.put("DB_REPLICAS", "[{\"host\":\"" + cluster.standby(0).host() + "\",\"port\":"
                + cluster.standby(0).port() + "}]");
        env.put("REPLICA_HEALTH_CHECK_INTERVAL", "300");
        runner.withInitializer(environment(env)).withPropertyValues("readsplit.name=seed").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            ReadsplitDataSource ds = ctx.getBean(ReadsplitDataSource.class);
            assertThat(ds.config().name()).isEqualTo("seed");
            assertThat(ds.config().primary().port()).isEqualTo(cluster.primary().port());
            assertThat(ds.config().replicas()).singleElement()
                    .satisfies(r -> assertThat(r.port()).isEqualTo(cluster.standby(0).port()));
            assertThat(ds.config().health().interval()).hasMillis(300);
            assertThat(ctx.getBean(JdbcTemplate.class).queryForObject("SELECT 1", Integer.class)).isEqualTo(1);
        });
    }

    @Test
    void nothingWhenReadsplitIsNotConfigured() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(READSPLIT)).run(ctx -> {
            assertThat(ctx).hasNotFailed().doesNotHaveBean(ReadsplitDataSource.class)
                    .doesNotHaveBean(ReadsplitOperations.class).doesNotHaveBean(ReadsplitEndpoint.class);
        });
    }

    @Test
    void nothingWhenDisabled() {
        new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(READSPLIT))
                .withPropertyValues(props("readsplit.enabled=false")).run(ctx ->
                assertThat(ctx).doesNotHaveBean(ReadsplitDataSource.class));
    }

    @Test
    void anInvalidValueFailsTheStartNamingTheBootProperty() {
        runner.withPropertyValues(props("readsplit.health-check-timeout=5m", "readsplit.password=s3cret-pw"))
                .run(ctx -> {
                    assertThat(ctx).hasFailed();
                    Throwable failure = ctx.getStartupFailure();
                    ReadsplitConfigurationException e = findCause(failure, ReadsplitConfigurationException.class);
                    assertThat(e).as("cause of %s", failure).isNotNull();
                    assertThat(e.problems()).extracting(ReadsplitConfigurationException.Problem::property)
                            .contains("readsplit.health-check-timeout");
                    assertThat(e.getMessage()).contains("readsplit.health-check-timeout").doesNotContain("s3cret-pw");
                    FailureAnalysis analysis = new ReadsplitConfigurationFailureAnalyzer().analyze(failure);
                    assertThat(analysis.getDescription()).contains("readsplit.health-check-timeout");
                    assertThat(analysis.getAction()).contains("readsplit.health-check-timeout");
                });
    }

    @Test
    void anUnparseableValueFailsTheBindingNamingTheProperty() {
        runner.withPropertyValues(props("readsplit.health-check-interval=soon")).run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(allMessages(ctx.getStartupFailure())).contains("readsplit.health-check-interval");
        });
    }

    @Test
    void aBadReadsplitUrlNamesSpringDatasourceUrl() {
        runner.withPropertyValues("spring.datasource.url=" + TestClusters.readsplitUrl(cluster)
                + "&consistency=sometimes").run(ctx -> {
            assertThat(ctx).hasFailed();
            ReadsplitConfigurationException e =
                    findCause(ctx.getStartupFailure(), ReadsplitConfigurationException.class);
            assertThat(e).isNotNull();
            assertThat(e.problems()).extracting(ReadsplitConfigurationException.Problem::property)
                    .containsOnly("spring.datasource.url");
            assertThat(e.getMessage()).contains("consistency");
        });
    }

    @Test
    void noActuatorBeansWithoutActuator() {
        runner.withPropertyValues(props())
                .withClassLoader(new FilteredClassLoader("org.springframework.boot.actuate",
                        "org.springframework.boot.health"))
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed().hasSingleBean(ReadsplitDataSource.class)
                            .doesNotHaveBean(ReadsplitEndpoint.class).doesNotHaveBean("readsplitHealthContributor");
                });
    }

    @Test
    void healthContributorCanBeTurnedOff() {
        runner.withPropertyValues(props("management.health.readsplit.enabled=false")).run(ctx ->
                assertThat(ctx).hasNotFailed().doesNotHaveBean("readsplitHealthContributor"));
    }

    @Test
    void anApplicationsOwnReadsplitDataSourceWins() {
        runner.withPropertyValues(props()).withUserConfiguration(OwnDataSource.class).run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(ReadsplitDataSource.class).name()).isEqualTo("own");
            assertThat(ctx.getBean(ReadsplitOperations.class).dataSource().name()).isEqualTo("own");
        });
    }

    @Test
    void causalTokenFilterOnlyInServletAppsAndWhenAskedFor() {
        runner.withPropertyValues(props("readsplit.web.causal-token.enabled=true")).run(ctx ->
                assertThat(ctx).hasNotFailed().doesNotHaveBean(CausalTokenFilter.class));
        WebApplicationContextRunner web = new WebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(READSPLIT)).withConfiguration(AutoConfigurations.of(bootJdbc()));
        web.withPropertyValues(props()).run(ctx ->
                assertThat(ctx).hasNotFailed().doesNotHaveBean(CausalTokenFilter.class));
        web.withPropertyValues(props("readsplit.web.causal-token.enabled=true")).run(ctx -> {
            assertThat(ctx).hasNotFailed().hasSingleBean(CausalTokenFilter.class)
                    .hasSingleBean(CausalRequestContext.class);
            // core's causal context does the tracking: the application's DataSource stays Readsplit's, unwrapped
            assertThat(ctx.getBeansOfType(DataSource.class)).hasSize(1);
            assertThat(ctx.getBean(DataSource.class)).isSameAs(ctx.getBean(ReadsplitDataSource.class));
        });
    }

    @Test
    void probeGroupDefaultsOnlyWhenConfiguredAndNotOverridden() {
        runner.withPropertyValues(props()).withInitializer(new ReadsplitHealthGroupDefaults()).run(ctx -> {
            assertThat(ctx.getEnvironment().getProperty("management.endpoint.health.group.readiness.include"))
                    .isEqualTo("readinessState,readsplit");
            assertThat(ctx.getEnvironment().getProperty("management.endpoint.health.probes.enabled")).isEqualTo("true");
            assertThat(ctx.getEnvironment().getProperty("management.endpoint.health.group.liveness.include")).isNull();
        });
        runner.withPropertyValues(props("management.endpoint.health.group.readiness.include=db"))
                .withInitializer(new ReadsplitHealthGroupDefaults()).run(ctx ->
                        assertThat(ctx.getEnvironment().getProperty("management.endpoint.health.group.readiness.include"))
                                .isEqualTo("db"));
        new ApplicationContextRunner().withInitializer(new ReadsplitHealthGroupDefaults()).run(ctx ->
                assertThat(ctx.getEnvironment().getProperty("management.endpoint.health.group.readiness.include"))
                        .isNull());
    }

    @Test
    void shutdownDrainsRunningStatementsBeforeClosingThePools() {
        runner.withPropertyValues(props()).run(ctx -> {
            ReadsplitDataSource ds = ctx.getBean(ReadsplitDataSource.class);
            TestClusters.awaitAllUp(ds);
            JdbcTemplate jdbc = ctx.getBean(JdbcTemplate.class);
            java.util.concurrent.CompletableFuture<Integer> slow = java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> jdbc.queryForObject("SELECT 1 FROM pg_sleep(1.5)", Integer.class));
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> ctx.getBean(ReadsplitOperations.class).inFlight() > 0);
            ReadsplitShutdown shutdown = ctx.getBean(ReadsplitShutdown.class);
            ctx.close();
            // closing the pools at once would have aborted it; the lifecycle waited for it first
            assertThat(slow.get(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(shutdown.drained()).isTrue();
            assertThat(shutdown.isRunning()).isFalse();
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnDataSource {
        @Bean(destroyMethod = "close")
        ReadsplitDataSource ownReadsplit() {
            return new ReadsplitDataSource(ReadsplitConfig.builder().name("own")
                    .primary(cluster.primary().host(), cluster.primary().port()).database(cluster.database())
                    .user(cluster.user()).password(cluster.password()).build());
        }
    }

    static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    static String allMessages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getMessage()).append('\n');
        }
        return sb.toString();
    }
}

package dev.readsplit.spring.boot;

import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.ClassUtils;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Kubernetes-shaped probe groups, as defaults (lowest precedence; any setting of the application wins): the
 * probes on ({@code /actuator/health/liveness}, {@code /actuator/health/readiness}), readiness made of Boot's
 * {@code readinessState} and {@code readsplit} (primary reachable, replicas per policy), liveness left to Boot's
 * {@code livenessState} alone: a database outage must take the pod out of the load balancer, never restart it.
 * Applied only when Readsplit is configured and Actuator's health endpoint is present;
 * {@code readsplit.health.probe-groups=false} turns it off.
 */
public final class ReadsplitHealthGroupDefaults
        implements ApplicationContextInitializer<ConfigurableApplicationContext> {

    static final String SOURCE_NAME = "readsplitHealthGroupDefaults";
    private static final String[] HEALTH_ENDPOINTS = {
            "org.springframework.boot.health.actuate.endpoint.HealthEndpoint",
            "org.springframework.boot.actuate.health.HealthEndpoint"};

    @Override
    public void initialize(ConfigurableApplicationContext context) {
        ConfigurableEnvironment env = context.getEnvironment();
        if (ReadsplitConfigFactory.source(env) == null
                || "false".equalsIgnoreCase(env.getProperty("readsplit.enabled", "true").trim())
                || "false".equalsIgnoreCase(env.getProperty("readsplit.health.probe-groups", "true").trim())
                || "false".equalsIgnoreCase(env.getProperty("management.health.readsplit.enabled", "true").trim())
                || !healthEndpointPresent(context.getClassLoader())) {
            return;
        }
        Map<String, Object> defaults = new LinkedHashMap<>();
        putIfAbsent(env, defaults, "management.endpoint.health.probes.enabled", "true");
        putIfAbsent(env, defaults, "management.endpoint.health.group.readiness.include", "readinessState,readsplit");
        if (!defaults.isEmpty()) {
            env.getPropertySources().addLast(new MapPropertySource(SOURCE_NAME, defaults));
        }
    }

    private static void putIfAbsent(ConfigurableEnvironment env, Map<String, Object> defaults, String key,
                                    String value) {
        if (env.getProperty(key) == null) {
            defaults.put(key, value);
        }
    }

    private static boolean healthEndpointPresent(ClassLoader loader) {
        for (String name : HEALTH_ENDPOINTS) {
            if (ClassUtils.isPresent(name, loader)) {
                return true;
            }
        }
        return false;
    }
}

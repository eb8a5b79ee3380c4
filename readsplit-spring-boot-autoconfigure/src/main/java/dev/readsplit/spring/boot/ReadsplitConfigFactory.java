package dev.readsplit.spring.boot;

import dev.readsplit.config.ConfigException;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.ReadsplitUrl;
import org.springframework.core.env.Environment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Builds the one {@link ReadsplitConfig} of a Boot application from its {@link Environment}, so that every one of
 * Boot's property sources (files, profiles, environment variables, config trees, vaults) feeds it and secrets
 * come from wherever the application keeps them. Three ways in, first match wins ({@link #source}):
 * <ol>
 *   <li>{@code readsplit.primary} is set: the {@code readsplit.*} properties;</li>
 *   <li>{@code spring.datasource.url} is a {@code jdbc:readsplit:} URL: the URL, with
 *       {@code spring.datasource.username/password} (or {@code readsplit.user/password}) and the other
 *       {@code readsplit.*} settings;</li>
 *   <li>the seed services' names ({@code DB_HOST}..., {@code DATABASE_URL}...): as
 *       {@link ReadsplitConfig#fromEnvironment} reads them, with the {@code readsplit.*} settings on top.</li>
 * </ol>
 */
public final class ReadsplitConfigFactory {

    /** Where the node list comes from. */
    public enum Source {
        PROPERTIES("readsplit.* properties"),
        DATASOURCE_URL("spring.datasource.url"),
        SEED_ENVIRONMENT("the DB_* / DATABASE_* environment names");

        private final String description;

        Source(String description) {
            this.description = description;
        }

        public String description() {
            return description;
        }
    }

    /** The seed services' environment names that {@link ReadsplitConfig#fromEnvironment} reads. */
    static final List<String> SEED_NAMES = List.of("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD",
            "DB_REPLICAS", "REPLICA_HEALTH_CHECK_INTERVAL", "DB_POOL_MAX", "DB_POOL_MIN", "DB_POOL_CONNECT_TIMEOUT",
            "DB_POOL_IDLE", "DATABASE_URL", "DATABASE_READ_URL", "DATABASE_READ_URLS", "DATABASE_POOL_SIZE",
            "DATABASE_READ_POOL_SIZE", "DATABASE_MAX_OVERFLOW", "DATABASE_READ_MAX_OVERFLOW",
            "DATABASE_REPLICA_FALLBACK");

    private ReadsplitConfigFactory() {
    }

    /** Where Readsplit's nodes come from in {@code env}, or null when Readsplit is not configured there. */
    public static Source source(Environment env) {
        if (hasText(env.getProperty("readsplit.primary"))) {
            return Source.PROPERTIES;
        }
        if (ReadsplitUrl.accepts(env.getProperty("spring.datasource.url"))) {
            return Source.DATASOURCE_URL;
        }
        if (hasText(env.getProperty("DB_HOST")) || hasText(env.getProperty("DATABASE_URL"))) {
            return Source.SEED_ENVIRONMENT;
        }
        return null;
    }

    /**
     * The configuration {@code env} and the bound {@code properties} describe.
     *
     * @throws ReadsplitConfigurationException naming each property at fault
     * @throws IllegalStateException           when Readsplit is not configured in {@code env}
     */
    public static ReadsplitConfig create(Environment env, ReadsplitProperties properties) {
        Source source = source(env);
        if (source == null) {
            throw new IllegalStateException("Readsplit is not configured: set readsplit.primary, a "
                    + "spring.datasource.url=jdbc:readsplit:postgresql://... or DB_HOST / DATABASE_URL");
        }
        try {
            return switch (source) {
                case PROPERTIES -> ReadsplitConfig.fromProperties(properties.toCoreProperties(true));
                case DATASOURCE_URL -> fromUrl(env, properties);
                case SEED_ENVIRONMENT -> fromSeedNames(env, properties);
            };
        } catch (ConfigException e) {
            throw new ReadsplitConfigurationException(source, e);
        }
    }

    private static ReadsplitConfig fromUrl(Environment env, ReadsplitProperties properties) {
        Properties info = new Properties();
        Properties settings = properties.toCoreProperties(false);
        for (String key : settings.stringPropertyNames()) {
            info.setProperty(key.substring("readsplit.".length()), settings.getProperty(key));
        }
        String user = first(env.getProperty("spring.datasource.username"), properties.getUser());
        String password = first(env.getProperty("spring.datasource.password"), properties.getPassword());
        if (user != null) {
            info.setProperty("user", user);
        }
        if (password != null) {
            info.setProperty("password", password);
        }
        return ReadsplitUrl.parse(env.getProperty("spring.datasource.url"), info);
    }

    private static ReadsplitConfig fromSeedNames(Environment env, ReadsplitProperties properties) {
        Map<String, String> vars = new LinkedHashMap<>();
        for (String name : SEED_NAMES) {
            String value = env.getProperty(name);
            if (value != null) {
                vars.put(name, value);
            }
        }
        Properties overrides = properties.toCoreProperties(false);
        for (String key : overrides.stringPropertyNames()) {
            vars.put(environmentName(key), overrides.getProperty(key));
        }
        return ReadsplitConfig.fromEnvironment(vars);
    }

    /** {@code readsplit.healthCheckInterval} → {@code READSPLIT_HEALTH_CHECK_INTERVAL}. */
    static String environmentName(String coreKey) {
        String rest = coreKey.substring("readsplit.".length());
        StringBuilder sb = new StringBuilder("READSPLIT_");
        for (int i = 0; i < rest.length(); i++) {
            char c = rest.charAt(i);
            if (c == '.' || c == '-') {
                sb.append('_');
            } else if (Character.isUpperCase(c)) {
                sb.append('_').append(c);
            } else {
                sb.append(Character.toUpperCase(c));
            }
        }
        return sb.toString().toUpperCase(Locale.ROOT);
    }

    private static String first(String a, String b) {
        return hasText(a) ? a : b;
    }

    private static boolean hasText(String s) {
        return s != null && !s.isBlank();
    }
}

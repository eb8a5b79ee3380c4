package dev.readsplit.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Chooses where a command-line tool takes its configuration from. Precedence: <b>an explicit URL, else a file,
 * else the environment</b>. Exactly one source is used: they are not merged, so what a tool runs with is always
 * what one source says.
 * <ul>
 * <li>URL: a {@code jdbc:readsplit:postgresql://primary,replica/db?key=value} URL ({@link ReadsplitUrl#parse}), or
 * any single-node form {@code DATABASE_URL} accepts ({@code postgresql://user:pass@host:port/db},
 * {@code postgres://...}, {@code jdbc:postgresql://...}), which gives a primary without replicas.</li>
 * <li>File: {@link ReadsplitConfig#fromFile} ({@code .properties}, {@code .yml}, {@code .yaml}), its
 * {@code ${VAR}} placeholders taken from the environment.</li>
 * <li>Environment: {@link ReadsplitConfig#fromEnvironment}.</li>
 * </ul>
 */
public final class ConfigSources {

    private ConfigSources() {
    }

    /**
     * @param fileOrNull a configuration file, or null
     * @param urlOrNull  a URL, or null
     * @param env        the environment (e.g. {@code System.getenv()}): the configuration when neither is given, the
     *                   values of a file's {@code ${VAR}} placeholders otherwise
     * @throws ConfigException from the chosen source
     */
    public static ReadsplitConfig load(Path fileOrNull, String urlOrNull, Map<String, String> env) {
        if (urlOrNull != null) {
            if (ReadsplitUrl.accepts(urlOrNull.trim())) {
                return ReadsplitUrl.parse(urlOrNull.trim(), null);
            }
            try {
                return EnvironmentConfig.fromEnvironment(Map.of("DATABASE_URL", urlOrNull));
            } catch (ConfigException e) {
                List<ConfigException.Problem> out = new ArrayList<>();
                for (ConfigException.Problem p : e.problems()) {
                    out.add(new ConfigException.Problem(p.key().replace("DATABASE_URL", "url"),
                            p.message().replace("DATABASE_URL", "url")));
                }
                throw new ConfigException(out);
            }
        }
        if (fileOrNull != null) {
            return ReadsplitConfig.fromFile(fileOrNull, env != null ? env : System.getenv());
        }
        return ReadsplitConfig.fromEnvironment(Objects.requireNonNull(env, "env"));
    }
}

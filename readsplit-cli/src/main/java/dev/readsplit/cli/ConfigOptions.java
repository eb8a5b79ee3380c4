package dev.readsplit.cli;

import dev.readsplit.config.ConfigSources;
import dev.readsplit.config.ReadsplitConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where a command takes its cluster configuration from: {@code --url}, else {@code --config}, else the
 * environment (seed 002/003 names). One source, never merged ({@link ConfigSources}).
 */
final class ConfigOptions {

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "Configuration file (.properties, .yml, .yaml).")
    Path file;

    @Option(names = {"-u", "--url"}, paramLabel = "URL",
            description = "jdbc:readsplit:postgresql://primary:5432,replica1:5432/db?... (or a single-node "
                    + "postgresql:// URL). Wins over --config.")
    String url;

    /** @throws dev.readsplit.config.ConfigException every problem of the chosen source */
    ReadsplitConfig load(Map<String, String> env) {
        return ConfigSources.load(file, url, env);
    }

    /** A few words naming the source used, for the output (never the URL itself: it may hold a password). */
    String describe() {
        if (url != null) {
            return "--url";
        }
        if (file != null) {
            return "--config " + file;
        }
        return "the environment";
    }
}

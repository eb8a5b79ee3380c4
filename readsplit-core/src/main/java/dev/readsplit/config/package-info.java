/**
 * Readsplit configuration: {@link dev.readsplit.config.ReadsplitConfig} (immutable, built by a fail-fast builder,
 * from {@code readsplit.*} properties, from a {@code jdbc:readsplit:postgresql://} URL via
 * {@link dev.readsplit.config.ReadsplitUrl}, from environment variables (including the seed services' names), or
 * from a {@code .properties} / YAML file; {@link dev.readsplit.config.ConfigSources} picks one for command-line
 * tools), its nodes ({@link dev.readsplit.config.NodeConfig}), and {@link dev.readsplit.config.Secret} for
 * passwords. Every invalid value raises one {@link dev.readsplit.config.ConfigException} naming the key and the
 * value; no secret is ever printed.
 */
package dev.readsplit.config;

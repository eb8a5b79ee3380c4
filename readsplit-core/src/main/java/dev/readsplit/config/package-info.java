/**
 * Readsplit configuration: {@link dev.readsplit.config.ReadsplitConfig} (immutable, built by a fail-fast builder,
 * from {@code readsplit.*} properties, or from a {@code jdbc:readsplit:postgresql://} URL via
 * {@link dev.readsplit.config.ReadsplitUrl}), its nodes ({@link dev.readsplit.config.NodeConfig}), and
 * {@link dev.readsplit.config.Secret} for passwords. Every invalid value raises one
 * {@link dev.readsplit.config.ConfigException} naming the key and the value; no secret is ever printed.
 */
package dev.readsplit.config;

/**
 * Readsplit's library: a {@link javax.sql.DataSource} and a JDBC driver over a PostgreSQL primary and its
 * streaming replicas ({@code docs/architecture.md}, "Public API").
 *
 * <p>Exported, the API applications use: the base package (consistency, roles, route reasons, the one exception),
 * {@code config}, {@code jdbc} (the data source, the driver, causal tokens, the operations facade),
 * {@code consistency}, {@code metrics} (read-only status views), {@code failover} (reports and the manager),
 * {@code sql} (the classifier, for tools), {@code balance} (balancer kinds) and {@code topology} (the read-only
 * {@code TopologyView} and {@code NodeView}, node states and topology events). Not exported: {@code routing},
 * {@code cluster} (the mutable nodes and state machine) and {@code text} (only to Readsplit's own proxy and CLI) and
 * {@code health}.
 */
module dev.readsplit.core {
    requires transitive java.sql;
    requires java.logging;
    requires java.net.http;
    requires com.zaxxer.hikari;
    requires org.postgresql.jdbc;
    requires micrometer.core;
    requires org.slf4j;
    requires transitive HdrHistogram; // NodeView.statementLatency()
    requires com.fasterxml.jackson.core;
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.dataformat.yaml;
    requires org.yaml.snakeyaml;

    exports dev.readsplit;
    exports dev.readsplit.balance;
    exports dev.readsplit.config;
    exports dev.readsplit.consistency;
    exports dev.readsplit.failover;
    exports dev.readsplit.jdbc;
    exports dev.readsplit.metrics;
    exports dev.readsplit.sql;
    exports dev.readsplit.topology;
    exports dev.readsplit.routing to dev.readsplit.proxy;
    exports dev.readsplit.cluster to dev.readsplit.proxy, dev.readsplit.cli;
    exports dev.readsplit.text to dev.readsplit.cli;

    provides java.sql.Driver with dev.readsplit.jdbc.ReadsplitDriver;
}

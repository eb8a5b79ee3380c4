/**
 * Observability of a {@code ReadsplitDataSource}: {@link dev.readsplit.metrics.ReadsplitMetrics} (a Micrometer
 * {@code MeterBinder} whose meters read the data source's counters at scrape time, nothing on the query path),
 * {@link dev.readsplit.metrics.MetricsSnapshot} (seed 003's counters) and
 * {@link dev.readsplit.metrics.StatusSnapshot} (per node role, state, address, checks, lag, pool, traffic, with
 * a hand-written JSON rendering; no JSON library in core). No snapshot, JSON or meter tag ever holds a password,
 * the admin token or a connection string with credentials.
 */
package dev.readsplit.metrics;

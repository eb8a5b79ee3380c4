/**
 * The admin server: {@link dev.readsplit.admin.AdminServer#start} serves one {@code ReadsplitDataSource}'s
 * health ({@code /healthz}, {@code /readyz}), status ({@code /replicas}, {@code /health/replicas},
 * {@code /stats}, {@code /history}, {@code /events}), Prometheus metrics ({@code /metrics}), the live dashboard
 * ({@code /}) and the operator mutations (add, drain and remove a replica; shadow mode) behind a bearer token.
 *
 * <p>Why Netty and not the JDK's {@code com.sun.net.httpserver}: a liveness probe must keep answering while
 * clients misbehave (see {@code docs/reliability.md}). The JDK server reads each request on one of its executor's
 * threads, so a handful of clients that send half a request and wait hold every thread and freeze
 * {@code /healthz}; its only read, idle and request timeouts are JVM-wide system properties
 * ({@code sun.net.httpserver.*}), which a library must not set for its host application. Netty (the project's
 * library for network servers, which the wire-protocol proxy uses too) reads without blocking, so a slow client
 * costs a buffer, not a thread, and every limit is set per server: per-connection read and idle timeouts and the
 * connection limit ({@link dev.readsplit.admin.ConnectionGuard}), request sizes (its HTTP codec and aggregator),
 * and a bounded worker pool for the endpoints that read the data source ({@link dev.readsplit.admin.AdminApi}).
 * The module takes {@code netty-codec-http} and its few Netty modules, and nothing else.
 */
package dev.readsplit.admin;

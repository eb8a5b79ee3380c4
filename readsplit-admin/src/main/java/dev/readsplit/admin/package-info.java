/**
 * The admin server: {@link dev.readsplit.admin.AdminServer#start} serves one {@code ReadsplitDataSource}'s
 * health ({@code /healthz}, {@code /readyz}), status ({@code /replicas}, {@code /health/replicas},
 * {@code /events}), Prometheus metrics ({@code /metrics}), the live dashboard ({@code /}) and the operator
 * mutations (add, drain and remove a replica; shadow mode) behind a bearer token.
 *
 * <p>Why the JDK's {@code com.sun.net.httpserver.HttpServer}: it is in every JDK 17 (module
 * {@code jdk.httpserver}, an exported, supported API), so the module adds no HTTP dependency to an
 * application that already has its own web stack (and may have a different version of Jetty, Netty or
 * Undertow on its class path); a handful of small JSON/text endpoints polled once a second need nothing
 * more. Its limits (HTTP/1.1 only, no TLS without extra set-up) fit an endpoint bound to 127.0.0.1 by default
 * and meant to sit behind the platform's own ingress when exposed.
 */
package dev.readsplit.admin;

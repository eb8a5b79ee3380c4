package dev.readsplit.admin;

import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * How an {@link AdminServer} listens and behaves. Immutable; built by {@link #builder()} whose setters reject
 * bad values at once. Every limit is per server: nothing here is JVM-wide.
 *
 * @param bindAddress      the address to listen on (default {@code 127.0.0.1}: reachable from this host only)
 * @param port             the port (default 0: an ephemeral port, see {@link AdminServer#port()})
 * @param readiness        what {@code /readyz} requires (default {@link Readiness#PRIMARY_AND_REPLICA}, seed 002's
 *                         meaning)
 * @param readinessTimeout how long {@code /readyz} waits for the nodes to answer its check (default 2 s)
 * @param drainTimeout     how long drain and remove wait for running work before closing the pool (default 30 s)
 * @param threads          worker threads for the endpoints that read the data source (default 2)
 * @param queue            requests waiting for a worker beyond which the server answers 503 (default 64)
 * @param maxConnections   open connections beyond which a new one is answered 503 and closed (default 4096)
 * @param readTimeout      how long a client may take to send one whole request, from its first byte
 *                         (default 10 s; then 408 and the connection is closed)
 * @param idleTimeout      how long a kept-alive connection may sit idle between requests (default 60 s)
 * @param historySize      samples (one a second) the dashboard's charts keep (default 300: five minutes)
 * @param registry         the Prometheus registry {@code /metrics} scrapes, or null for one owned by the server
 * @param proxyStatus      the JSON object {@code GET /proxy} serves and the dashboard shows (a {@code readsplit proxy}
 *                         running on this data source), or null: no proxy, {@code /proxy} is 404
 * @param proxyMeters      the proxy's meters, bound to the registry with the data source's, or null
 */
public record AdminOptions(String bindAddress, int port, Readiness readiness, Duration readinessTimeout,
                           Duration drainTimeout, int threads, int queue, int maxConnections, Duration readTimeout,
                           Duration idleTimeout, int historySize, PrometheusMeterRegistry registry,
                           Supplier<String> proxyStatus, MeterBinder proxyMeters) {

    /** What {@code /readyz} needs to answer 200. Every check is a real query on the node, bounded in time. */
    public enum Readiness {
        /** The primary answers and is not in recovery. */
        PRIMARY,
        /**
         * The primary answers, and so does at least one replica (seed 002: "database connectivity, both
         * primary and replica"). With no replica configured, the primary alone.
         */
        PRIMARY_AND_REPLICA,
        /** Every configured node answers (drained replicas excepted). */
        ALL;

        /** {@code primary}, {@code primary-and-replica} or {@code all} (case-insensitive, {@code _} or {@code -}). */
        public static Readiness parse(String text) {
            if (text != null) {
                String t = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
                for (Readiness r : values()) {
                    if (r.name().equals(t)) {
                        return r;
                    }
                }
            }
            throw new IllegalArgumentException("readiness must be one of primary, primary-and-replica, all: '"
                    + text + "'");
        }

        /** The name as {@code /readyz} shows it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public AdminOptions {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(readiness, "readiness");
        Objects.requireNonNull(readinessTimeout, "readinessTimeout");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(readTimeout, "readTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
    }

    /** Every default: 127.0.0.1, an ephemeral port. */
    public static AdminOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link AdminOptions}; each setter checks its argument. */
    public static final class Builder {
        private String bindAddress = "127.0.0.1";
        private int port;
        private Readiness readiness = Readiness.PRIMARY_AND_REPLICA;
        private Duration readinessTimeout = Duration.ofSeconds(2);
        private Duration drainTimeout = Duration.ofSeconds(30);
        private int threads = 2;
        private int queue = 64;
        private int maxConnections = 4096;
        private Duration readTimeout = Duration.ofSeconds(10);
        private Duration idleTimeout = Duration.ofSeconds(60);
        private int historySize = 300;
        private PrometheusMeterRegistry registry;
        private Supplier<String> proxyStatus;
        private MeterBinder proxyMeters;

        private Builder() {
        }

        /** {@code 0.0.0.0} listens on every interface: put it behind something that authenticates reads too. */
        public Builder bindAddress(String address) {
            if (address == null || address.isBlank()) {
                throw new IllegalArgumentException("bindAddress must not be blank: '" + address + "'");
            }
            this.bindAddress = address.trim();
            return this;
        }

        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535: " + port);
            }
            this.port = port;
            return this;
        }

        public Builder readiness(Readiness readiness) {
            this.readiness = Objects.requireNonNull(readiness, "readiness");
            return this;
        }

        /** Shorthand: true is {@link Readiness#PRIMARY_AND_REPLICA}, false {@link Readiness#PRIMARY}. */
        public Builder requireReplica(boolean require) {
            return readiness(require ? Readiness.PRIMARY_AND_REPLICA : Readiness.PRIMARY);
        }

        public Builder readinessTimeout(Duration timeout) {
            this.readinessTimeout = between("readinessTimeout", timeout, Duration.ofMillis(10), Duration.ofMinutes(1));
            return this;
        }

        public Builder drainTimeout(Duration timeout) {
            this.drainTimeout = between("drainTimeout", timeout, Duration.ZERO, Duration.ofHours(1));
            return this;
        }

        public Builder threads(int threads) {
            this.threads = between("threads", threads, 1, 64);
            return this;
        }

        public Builder queue(int queue) {
            this.queue = between("queue", queue, 1, 100_000);
            return this;
        }

        public Builder maxConnections(int max) {
            this.maxConnections = between("maxConnections", max, 1, 1_000_000);
            return this;
        }

        public Builder readTimeout(Duration timeout) {
            this.readTimeout = between("readTimeout", timeout, Duration.ofMillis(10), Duration.ofHours(1));
            return this;
        }

        public Builder idleTimeout(Duration timeout) {
            this.idleTimeout = between("idleTimeout", timeout, Duration.ofMillis(10), Duration.ofHours(1));
            return this;
        }

        public Builder historySize(int samples) {
            this.historySize = between("historySize", samples, 10, 86_400);
            return this;
        }

        /** Scrape this registry (the application's) instead of one owned by the server. */
        public Builder registry(PrometheusMeterRegistry registry) {
            this.registry = registry;
            return this;
        }

        /**
         * Serve a proxy's status ({@code GET /proxy}, shown by the dashboard) and bind its meters, for a
         * {@code readsplit proxy} in front of this data source: {@code proxy(() -> proxy.status().toJson(),
         * proxy.metrics())}. The meters stay in an application's own registry after {@link AdminServer#close()}.
         */
        public Builder proxy(Supplier<String> statusJson, MeterBinder meters) {
            this.proxyStatus = Objects.requireNonNull(statusJson, "statusJson");
            this.proxyMeters = meters;
            return this;
        }

        public AdminOptions build() {
            return new AdminOptions(bindAddress, port, readiness, readinessTimeout, drainTimeout, threads, queue,
                    maxConnections, readTimeout, idleTimeout, historySize, registry, proxyStatus, proxyMeters);
        }

        private static int between(String name, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(name + " must be " + min + ".." + max + ": " + value);
            }
            return value;
        }

        private static Duration between(String name, Duration value, Duration min, Duration max) {
            if (value == null || value.compareTo(min) < 0 || value.compareTo(max) > 0) {
                throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ": " + value);
            }
            return value;
        }
    }
}

package dev.readsplit.admin;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Objects;

/**
 * How an {@link AdminServer} listens and behaves. Immutable; built by {@link #builder()} whose setters reject
 * bad values at once.
 *
 * @param bindAddress    the address to listen on (default {@code 127.0.0.1}: reachable from this host only)
 * @param port           the port (default 0: an ephemeral port, see {@link AdminServer#port()})
 * @param requireReplica whether {@code /readyz} also needs a replica taking reads (default false: the
 *                       primary alone serves reads through fallback)
 * @param drainTimeout   how long drain and remove wait for running work before closing the pool (default 30 s)
 * @param threads        request threads (default 2)
 * @param registry       the Prometheus registry {@code /metrics} scrapes, or null for one owned by the server
 */
public record AdminOptions(String bindAddress, int port, boolean requireReplica, Duration drainTimeout, int threads,
                           PrometheusMeterRegistry registry) {

    public AdminOptions {
        Objects.requireNonNull(bindAddress, "bindAddress");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
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
        private boolean requireReplica;
        private Duration drainTimeout = Duration.ofSeconds(30);
        private int threads = 2;
        private PrometheusMeterRegistry registry;

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

        public Builder requireReplica(boolean require) {
            this.requireReplica = require;
            return this;
        }

        public Builder drainTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative()) {
                throw new IllegalArgumentException("drainTimeout must not be negative: " + timeout);
            }
            this.drainTimeout = timeout;
            return this;
        }

        public Builder threads(int threads) {
            if (threads < 1 || threads > 64) {
                throw new IllegalArgumentException("threads must be 1..64: " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** Scrape this registry (the application's) instead of one owned by the server. */
        public Builder registry(PrometheusMeterRegistry registry) {
            this.registry = registry;
            return this;
        }

        public AdminOptions build() {
            return new AdminOptions(bindAddress, port, requireReplica, drainTimeout, threads, registry);
        }
    }
}

package dev.readsplit.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static dev.readsplit.config.ConfigChecks.atLeastOne;
import static dev.readsplit.config.ConfigChecks.notNegative;
import static dev.readsplit.config.ConfigChecks.positive;

/**
 * The node pools of a data source: the keys {@code primaryPoolSize,
 * replicaPoolSize, primaryPoolOverflow, replicaPoolOverflow, minIdle, connectionTimeout, idleTimeout,
 * maxLifetime}. Valid by construction: the constructor checks every value and the cross-field rules.
 *
 * @param primarySize       connections the primary's pool keeps ({@code primaryPoolSize})
 * @param replicaSize       connections each replica's pool keeps ({@code replicaPoolSize})
 * @param primaryOverflow   connections the primary's pool may open beyond its size (seed 002's {@code max_overflow})
 * @param replicaOverflow   connections a replica's pool may open beyond its size ({@code read_max_overflow})
 * @param minIdle           minimum idle connections per node pool
 * @param connectionTimeout maximum wait for a pooled connection (at least 250ms, HikariCP's minimum)
 * @param idleTimeout       idle connections above {@code minIdle} close after this; zero means never
 * @param maxLifetime       connections are replaced after this; zero means never
 */
public record PoolSettings(int primarySize, int replicaSize, int primaryOverflow, int replicaOverflow, int minIdle,
                           Duration connectionTimeout, Duration idleTimeout, Duration maxLifetime) {

    /** Upper bound of any one node pool's maximum size (pool size plus overflow, or a node's own maximum). */
    public static final int MAX_POOL_SIZE = 10_000;
    /** HikariCP's minimum connection timeout. */
    static final Duration MIN_CONNECTION_TIMEOUT = Duration.ofMillis(250);

    public PoolSettings {
        atLeastOne("primaryPoolSize", primarySize);
        atLeastOne("replicaPoolSize", replicaSize);
        overflow("primaryPoolOverflow", primaryOverflow);
        overflow("replicaPoolOverflow", replicaOverflow);
        minIdle(minIdle);
        connectionTimeout(connectionTimeout);
        notNegative("idleTimeout", idleTimeout);
        notNegative("maxLifetime", maxLifetime);
        ConfigChecks.none(problems(primarySize, replicaSize, primaryOverflow, replicaOverflow, minIdle, idleTimeout,
                maxLifetime));
    }

    /**
     * The maximum size of {@code node}'s pool: the node's own {@code maxPoolSize}, else the pool size of its role
     * plus that role's overflow ({@code primaryPoolSize + primaryPoolOverflow} for the primary).
     *
     * @param primary whether the node is (configured as) the primary
     */
    public int maxPoolSize(NodeConfig node, boolean primary) {
        if (node.maxPoolSize() != null) {
            return node.maxPoolSize();
        }
        return maximum(primary);
    }

    /** The minimum idle connections of {@code node}'s pool: its own {@code minPoolSize}, else {@code minIdle}. */
    public int minPoolSize(NodeConfig node, boolean primary) {
        int max = maxPoolSize(node, primary);
        return Math.min(max, node.minPoolSize() != null ? node.minPoolSize() : minIdle);
    }

    /** The pool maximum of a role: its size plus its overflow. */
    int maximum(boolean primary) {
        return primary ? primarySize + primaryOverflow : replicaSize + replicaOverflow;
    }

    static int overflow(String key, int overflow) {
        if (overflow == -1) {
            throw new ConfigException(key, key + " must not be negative: -1 (SQLAlchemy's max_overflow=-1, no "
                    + "limit, has no equivalent: a connection pool here has a fixed maximum; give a number)");
        }
        if (overflow < 0) {
            throw new ConfigException(key, key + " must not be negative: " + overflow);
        }
        if (overflow > MAX_POOL_SIZE) {
            throw new ConfigException(key, key + " must be at most " + MAX_POOL_SIZE + ": " + overflow);
        }
        return overflow;
    }

    static int minIdle(int minIdle) {
        if (minIdle < 0) {
            throw new ConfigException("minIdle", "minIdle must not be negative: " + minIdle);
        }
        return minIdle;
    }

    static Duration connectionTimeout(Duration timeout) {
        positive("connectionTimeout", timeout);
        if (timeout.compareTo(MIN_CONNECTION_TIMEOUT) < 0) {
            throw new ConfigException("connectionTimeout",
                    "connectionTimeout must be at least " + MIN_CONNECTION_TIMEOUT + ": " + timeout);
        }
        return timeout;
    }

    /** The cross-field problems of these values, in a stable order. */
    static List<ConfigException.Problem> problems(int primarySize, int replicaSize, int primaryOverflow,
                                                  int replicaOverflow, int minIdle, Duration idleTimeout,
                                                  Duration maxLifetime) {
        List<ConfigException.Problem> p = new ArrayList<>();
        poolMaximum(p, "primaryPoolOverflow", "primaryPoolSize", primarySize, primaryOverflow);
        poolMaximum(p, "replicaPoolOverflow", "replicaPoolSize", replicaSize, replicaOverflow);
        int smallest = Math.min(primarySize, replicaSize);
        if (minIdle > smallest) {
            String pool = primarySize <= replicaSize ? "primaryPoolSize" : "replicaPoolSize";
            p.add(new ConfigException.Problem("minIdle",
                    "minIdle (" + minIdle + ") must not exceed " + pool + " (" + smallest + ")"));
        }
        if (!idleTimeout.isZero() && !maxLifetime.isZero() && idleTimeout.compareTo(maxLifetime) >= 0) {
            p.add(new ConfigException.Problem("idleTimeout", "idleTimeout (" + idleTimeout
                    + ") must be less than maxLifetime (" + maxLifetime + ")"));
        }
        return p;
    }

    private static void poolMaximum(List<ConfigException.Problem> p, String overflowKey, String sizeKey, int size,
                                    int overflow) {
        if ((long) size + overflow > MAX_POOL_SIZE) {
            p.add(new ConfigException.Problem(overflowKey, sizeKey + " + " + overflowKey + " (" + size + " + "
                    + overflow + ") must be at most " + MAX_POOL_SIZE));
        }
    }

    /** The mutable half of {@link ReadsplitConfig.Builder} for this group; each setter checks its value at once. */
    static final class Builder {
        int primarySize = 10;
        int replicaSize = 10;
        int primaryOverflow;
        int replicaOverflow;
        int minIdle;
        Duration connectionTimeout = Duration.ofSeconds(5);
        Duration idleTimeout = Duration.ofMinutes(10);
        Duration maxLifetime = Duration.ofMinutes(30);

        Builder() {
        }

        Builder(PoolSettings s) {
            primarySize = s.primarySize;
            replicaSize = s.replicaSize;
            primaryOverflow = s.primaryOverflow;
            replicaOverflow = s.replicaOverflow;
            minIdle = s.minIdle;
            connectionTimeout = s.connectionTimeout;
            idleTimeout = s.idleTimeout;
            maxLifetime = s.maxLifetime;
        }

        List<ConfigException.Problem> problems() {
            return PoolSettings.problems(primarySize, replicaSize, primaryOverflow, replicaOverflow, minIdle,
                    idleTimeout, maxLifetime);
        }

        PoolSettings build() {
            return new PoolSettings(primarySize, replicaSize, primaryOverflow, replicaOverflow, minIdle,
                    connectionTimeout, idleTimeout, maxLifetime);
        }
    }
}

package dev.readsplit.config;

import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The one builder of a node's connection properties, and the only place a node's password is revealed: the
 * node pools, the health checks, supervised failover and {@code readsplit check} all open their connections with
 * what this builds. It starts from the node's jdbc properties, user and password; callers add their own
 * non-secret settings (timeouts, {@code ApplicationName}) with {@link Builder#set}. The result goes straight to
 * the driver and must not be logged; {@link Builder#toString()} masks every secret.
 */
public final class ConnectionProperties {

    private ConnectionProperties() {
    }

    /** A builder holding {@code node}'s jdbc properties, user and password. */
    public static Builder of(NodeConfig node) {
        return new Builder(node);
    }

    /**
     * The properties of a connection a data source keeps to a PostgreSQL node outside its pools (the health checks',
     * the WAL-position questions'): {@code node}'s own, with pgjdbc's connect, login and socket timeouts as a backstop
     * at twice {@code healthCheckTimeout} (pgjdbc counts whole seconds; the health checks fail a node sooner, and a
     * DOWN node's connections are aborted), and {@code ApplicationName} {@code <data source>-<purpose>}.
     */
    public static Builder dedicated(ReadsplitConfig config, NodeConfig node, String purpose) {
        int timeoutSeconds = (int) Math.max(1, (2 * config.health().timeout().toMillis() + 999) / 1000);
        return new Builder(node)
                .set("connectTimeout", Integer.toString(timeoutSeconds))
                .set("loginTimeout", Integer.toString(timeoutSeconds))
                .set("socketTimeout", Integer.toString(timeoutSeconds))
                .set("ApplicationName", config.name() + "-" + purpose);
    }

    /**
     * The libpq connection string of {@code node} for a standby's {@code primary_conninfo}:
     * {@code host port user [password] [sslmode]}, values quoted as libpq wants. No {@code application_name}:
     * the standby's walreceiver then uses its {@code cluster_name}, so {@code synchronous_standby_names} keeps
     * matching it. Holds the password: hand it to PostgreSQL only.
     */
    public static String libpqConninfo(NodeConfig node) {
        StringBuilder sb = new StringBuilder("host=").append(libpqValue(node.host()))
                .append(" port=").append(node.port());
        if (node.user() != null) {
            sb.append(" user=").append(libpqValue(node.user()));
        }
        if (node.password() != null) {
            sb.append(" password=").append(libpqValue(node.password().value()));
        }
        String sslmode = node.jdbcProperties().get("sslmode");
        if (sslmode != null) {
            sb.append(" sslmode=").append(libpqValue(sslmode));
        }
        return sb.toString();
    }

    private static String libpqValue(String v) {
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** Not thread-safe; use once. */
    public static final class Builder {
        private final NodeConfig node;
        private final Map<String, String> extra = new TreeMap<>();
        private final java.util.Set<String> removed = new java.util.HashSet<>();

        private Builder(NodeConfig node) {
            this.node = java.util.Objects.requireNonNull(node, "node");
        }

        /** Sets a non-secret driver property (a caller's own timeouts, {@code ApplicationName}), over the node's. */
        public Builder set(String key, String value) {
            check(key);
            extra.put(key, value);
            removed.remove(key);
            return this;
        }

        /** Sets {@code key} unless the node's jdbc properties already give it. */
        public Builder setIfAbsent(String key, String value) {
            check(key);
            if (!node.jdbcProperties().containsKey(key) && !extra.containsKey(key)) {
                extra.put(key, value);
            }
            return this;
        }

        /** Leaves {@code key} out, even when the node's jdbc properties give it. */
        public Builder remove(String key) {
            extra.remove(key);
            removed.add(key);
            return this;
        }

        private static void check(String key) {
            String k = key.toLowerCase(Locale.ROOT);
            if (k.equals("user") || k.equals("password") || NodeConfig.isSecretKey(k)) {
                throw new IllegalArgumentException("connection property '" + key
                        + "' comes from the node configuration only");
            }
        }

        /** The driver properties, password included. */
        public Properties build() {
            Properties p = new Properties();
            node.jdbcProperties().forEach(p::setProperty);
            extra.forEach(p::setProperty);
            removed.forEach(p::remove);
            if (node.user() != null) {
                p.setProperty("user", node.user());
            }
            if (node.password() != null) {
                p.setProperty("password", node.password().value());
            }
            return p;
        }

        /** The properties with every secret masked, for diagnostics. */
        @Override
        public String toString() {
            Map<String, String> all = new TreeMap<>(node.jdbcProperties());
            all.putAll(extra);
            removed.forEach(all::remove);
            return "ConnectionProperties[node=" + node.name() + ", user=" + node.user() + ", password="
                    + (node.password() == null ? "null" : Redactor.MASK) + ", properties="
                    + NodeConfig.maskedProperties(all) + "]";
        }
    }
}

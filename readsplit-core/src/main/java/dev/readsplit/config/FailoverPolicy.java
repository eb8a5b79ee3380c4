package dev.readsplit.config;

import java.util.Locale;

/**
 * What Readsplit does when the primary fails. See {@code docs/failover.md}.
 */
public enum FailoverPolicy {
    /**
     * Follow only (the default): Readsplit never promotes anything. When an HA manager (Patroni, repmgr, a
     * cloud service) or an operator promotes a standby, writes follow the node that reports itself primary.
     */
    NONE,
    /**
     * Supervised promotion, for clusters with no HA manager: after {@code failureThreshold} failed checks of
     * the primary, with at least {@code minHealthyReplicas} healthy replicas, Readsplit elects the replica
     * with the highest replay LSN, promotes it, repoints the other standbys and fences the old primary.
     */
    SUPERVISED;

    /**
     * Parses a name case-insensitively.
     *
     * @throws ConfigException naming {@code key} and the text
     */
    static FailoverPolicy parse(String key, String text) {
        String norm = text.trim().toUpperCase(Locale.ROOT);
        for (FailoverPolicy p : values()) {
            if (p.name().equals(norm)) {
                return p;
            }
        }
        throw new ConfigException(key, key + " must be one of none, supervised: '" + text.trim() + "'");
    }
}

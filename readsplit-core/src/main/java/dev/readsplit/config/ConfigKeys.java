package dev.readsplit.config;

import dev.readsplit.Consistency;
import dev.readsplit.balance.BalancerKind;
import dev.readsplit.consistency.CausalScope;
import org.postgresql.PGProperty;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The textual keys shared by {@link ReadsplitConfig#fromProperties} ({@code readsplit.} prefix) and
 * {@link ReadsplitUrl} (no prefix): one table of setters, value parsers, unknown-key suggestions, and a
 * collector that gathers every problem before reporting them together.
 */
final class ConfigKeys {

    static final String PREFIX = "readsplit.";
    /** {@code readsplit.jdbc.<name>=value}: a pgjdbc property for every node. */
    static final String JDBC_PREFIX = "jdbc.";

    /** Where a key/value pair came from; decides how unknown keys are treated. */
    enum Source {
        /** {@code readsplit.*} properties: unknown keys are errors. */
        PROPERTIES,
        /**
         * URL query parameters: pgjdbc properties pass through; unknown names close to a Readsplit key are
         * errors (a typo must not be silently ignored); anything else passes through to pgjdbc.
         */
        URL,
        /** The {@code info} of {@code Driver.connect}: unknown keys pass through, as pgjdbc does. */
        INFO
    }

    @FunctionalInterface
    private interface Setter {
        void set(ReadsplitConfig.Builder b, String displayKey, String value);
    }

    private static final Map<String, Setter> SETTERS = new LinkedHashMap<>();
    /** Keys the URL gives by its own syntax (host list, path). */
    static final Set<String> URL_STRUCTURAL = Set.of("primary", "replicas");

    static {
        SETTERS.put("name", (b, k, v) -> b.name(v));
        SETTERS.put("primary", (b, k, v) -> b.primary(NodeConfig.parse(k, v)));
        SETTERS.put("replicas", ConfigKeys::setReplicas);
        SETTERS.put("database", (b, k, v) -> b.database(v));
        SETTERS.put("user", (b, k, v) -> b.user(v));
        SETTERS.put("password", (b, k, v) -> b.password(v));
        SETTERS.put("poolSize", (b, k, v) -> {
            int n = parseInt(k, v);
            b.primaryPoolSize(n).replicaPoolSize(n);
        });
        SETTERS.put("primaryPoolSize", (b, k, v) -> b.primaryPoolSize(parseInt(k, v)));
        SETTERS.put("replicaPoolSize", (b, k, v) -> b.replicaPoolSize(parseInt(k, v)));
        SETTERS.put("primaryPoolOverflow", (b, k, v) -> b.primaryPoolOverflow(parseInt(k, v)));
        SETTERS.put("replicaPoolOverflow", (b, k, v) -> b.replicaPoolOverflow(parseInt(k, v)));
        SETTERS.put("minIdle", (b, k, v) -> b.minIdle(parseInt(k, v)));
        SETTERS.put("connectionTimeout", (b, k, v) -> b.connectionTimeout(Durations.parse(k, v)));
        SETTERS.put("idleTimeout", (b, k, v) -> b.idleTimeout(Durations.parse(k, v)));
        SETTERS.put("maxLifetime", (b, k, v) -> b.maxLifetime(Durations.parse(k, v)));
        SETTERS.put("balancer", (b, k, v) -> b.balancer(parseBalancer(k, v)));
        SETTERS.put("localZone", (b, k, v) -> b.localZone(v.isBlank() ? null : v));
        SETTERS.put("consistency", (b, k, v) -> b.consistency(parseConsistency(v)));
        SETTERS.put("causalScope", (b, k, v) -> b.causalScope(parseCausalScope(v)));
        SETTERS.put("fallbackToPrimary", (b, k, v) -> b.fallbackToPrimary(parseBoolean(k, v)));
        SETTERS.put("healthCheckInterval", (b, k, v) -> b.healthCheckInterval(Durations.parse(k, v)));
        SETTERS.put("healthCheckTimeout", (b, k, v) -> b.healthCheckTimeout(Durations.parse(k, v)));
        SETTERS.put("failureThreshold", (b, k, v) -> b.failureThreshold(parseInt(k, v)));
        SETTERS.put("recoveryThreshold", (b, k, v) -> b.recoveryThreshold(parseInt(k, v)));
        SETTERS.put("maxLagBytes", (b, k, v) -> b.maxLagBytes(parseBytes(k, v)));
        SETTERS.put("maxLag", (b, k, v) -> b.maxLag(Durations.parse(k, v)));
        SETTERS.put("lagReadmitRatio", (b, k, v) -> b.lagReadmitRatio(parseDouble(k, v)));
        SETTERS.put("readYourWritesWait", (b, k, v) -> b.readYourWritesWait(Durations.parse(k, v)));
        SETTERS.put("writeFunctions", (b, k, v) -> b.writeFunctions(parseList(v)));
        SETTERS.put("readFunctions", (b, k, v) -> b.readFunctions(parseList(v)));
        SETTERS.put("shadowMode", (b, k, v) -> b.shadowMode(parseBoolean(k, v)));
        SETTERS.put("lagAlertInfo", (b, k, v) -> b.lagAlertInfo(Durations.parse(k, v)));
        SETTERS.put("lagAlertWarning", (b, k, v) -> b.lagAlertWarning(Durations.parse(k, v)));
        SETTERS.put("lagAlertError", (b, k, v) -> b.lagAlertError(Durations.parse(k, v)));
        SETTERS.put("lagAlertCritical", (b, k, v) -> b.lagAlertCritical(Durations.parse(k, v)));
        SETTERS.put("adminToken", (b, k, v) -> b.adminToken(v));
        SETTERS.put("failoverPolicy", (b, k, v) -> b.failoverPolicy(FailoverPolicy.parse(k, v)));
        SETTERS.put("minHealthyReplicas", (b, k, v) -> b.minHealthyReplicas(parseInt(k, v)));
        SETTERS.put("failoverStepTimeout", (b, k, v) -> b.failoverStepTimeout(Durations.parse(k, v)));
        SETTERS.put("topologySource", (b, k, v) -> b.topologySource(TopologySource.parse(k, v)));
        SETTERS.put("patroniUrls", (b, k, v) -> b.patroniUrls(parseList(v)));
        SETTERS.put("hedgeReads", (b, k, v) -> b.hedgeReads(parseBoolean(k, v)));
        SETTERS.put("hedgeLatencyMultiplier", (b, k, v) -> b.hedging(b.hedging().withLatencyMultiplier(parseDouble(k, v))));
        SETTERS.put("hedgeMinBudget", (b, k, v) -> b.hedging(b.hedging().withMinBudget(Durations.parse(k, v))));
        SETTERS.put("hedgeMaxBudget", (b, k, v) -> b.hedging(b.hedging().withMaxBudget(Durations.parse(k, v))));
        SETTERS.put("hedgeMaxShare", (b, k, v) -> b.hedging(b.hedging().withMaxShare(parseDouble(k, v))));
        SETTERS.put("hedgeBurst", (b, k, v) -> b.hedging(b.hedging().withBurst(parseInt(k, v))));
    }

    private ConfigKeys() {
    }

    private static BalancerKind parseBalancer(String key, String text) {
        BalancerKind kind = BalancerKind.byName(text);
        if (kind == null) {
            throw new ConfigException(key, key + " must be one of round_robin, random, weighted, least_outstanding, "
                    + "latency_aware, affinity: '" + text.trim() + "'");
        }
        return kind;
    }

    private static CausalScope parseCausalScope(String text) {
        try {
            return CausalScope.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("causalScope", e.getMessage());
        }
    }

    /** {@link Consistency#parse}, its message under the bare key (the collector re-keys it as the user wrote it). */
    private static Consistency parseConsistency(String text) {
        try {
            return Consistency.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("consistency", e.getMessage());
        }
    }

    /** Every key without prefix, in documentation order. */
    static Set<String> knownKeys() {
        return SETTERS.keySet();
    }

    /** Collects problems while applying key/value pairs to a builder. Not thread-safe; use once. */
    static final class Collector {
        private final String prefix;
        private final List<ConfigException.Problem> problems = new ArrayList<>();
        private final Set<String> failedKeys = new HashSet<>();
        /** Bare key -> the name the user wrote, when that is not {@code prefix + key} (environment variables). */
        private final Map<String, String> displayKeys = new HashMap<>();

        Collector(String prefix) {
            this.prefix = prefix;
        }

        void problem(String key, String message) {
            ConfigException.Problem p = new ConfigException.Problem(key, message);
            if (!problems.contains(p)) {
                problems.add(p);
            }
            failedKeys.add(key);
        }

        /** Marks {@code displayKey} as already failed: the builder's problems about it are not repeated. */
        void suppress(String displayKey) {
            failedKeys.add(displayKey);
        }

        /** Reports the builder's cross-field problems about {@code key} under {@code displayKey}. */
        void display(String key, String displayKey) {
            displayKeys.put(key, displayKey);
        }

        /** Applies one pair; a problem is recorded rather than thrown. */
        void apply(ReadsplitConfig.Builder b, String key, String rawValue, Source source) {
            apply(b, key, prefix + key, rawValue, source);
        }

        /**
         * Applies one pair written by the user as {@code displayKey} (e.g. the environment variable
         * {@code DB_POOL_MAX} for {@code poolSize}); problems name {@code displayKey}.
         */
        void apply(ReadsplitConfig.Builder b, String key, String displayKey, String rawValue, Source source) {
            String value = rawValue == null ? "" : rawValue.trim();
            Setter setter = SETTERS.get(key);
            if (setter == null) {
                unknown(b, key, displayKey, rawValue == null ? "" : rawValue, source);
                return;
            }
            if (!displayKey.equals(prefix + key)) {
                display(key, displayKey);
            }
            if (source != Source.PROPERTIES && URL_STRUCTURAL.contains(key)) {
                problem(displayKey, displayKey + " cannot be a parameter: the URL's host list gives the primary "
                        + "(first host) and the replicas");
                return;
            }
            // Passwords keep their spaces; everything else is trimmed.
            String v = key.equals("password") || key.equals("adminToken") ? (rawValue == null ? "" : rawValue)
                    : value;
            try {
                setter.set(b, displayKey, v);
            } catch (ConfigException e) {
                for (ConfigException.Problem p : e.problems()) {
                    add(key, displayKey, p);
                }
            }
        }

        private void unknown(ReadsplitConfig.Builder b, String key, String writtenAs, String value, Source source) {
            if (source == Source.PROPERTIES && key.startsWith(JDBC_PREFIX) && key.length() > JDBC_PREFIX.length()) {
                passThrough(b, prefix + key, key.substring(JDBC_PREFIX.length()), value);
                return;
            }
            String suggestion = suggest(key);
            if (source == Source.PROPERTIES
                    || (source == Source.URL && PGProperty.forName(key) == null && suggestion != null)) {
                String displayKey = prefix + key;
                String where = writtenAs.equals(displayKey) ? "" : writtenAs + ": ";
                problem(writtenAs, where + "unknown key " + displayKey
                        + (suggestion == null ? "" : " \u2014 did you mean " + prefix + suggestion + "?"));
                return;
            }
            passThrough(b, prefix + key, key, value);
        }

        private void passThrough(ReadsplitConfig.Builder b, String displayKey, String property, String value) {
            try {
                b.jdbcProperty(property, value);
            } catch (ConfigException e) {
                problem(displayKey, displayKey + ": " + e.getMessage());
            }
        }

        /** Re-keys a problem raised with a bare key (by the builder) to the key the user wrote. */
        private void add(String bareKey, String displayKey, ConfigException.Problem p) {
            boolean prefixed = displayKey.equals(prefix + bareKey);
            if (p.key().equals(displayKey) || (prefix.isEmpty() && prefixed)) {
                problem(displayKey, p.message());
            } else if (prefixed && p.message().startsWith(bareKey)) {
                problem(displayKey, prefix + p.message());
            } else {
                problem(displayKey, displayKey + ": " + p.message());
            }
        }

        /**
         * Builds the configuration, or throws one exception with every problem: those already collected, then
         * the builder's cross-field problems about keys that did not already fail.
         */
        ReadsplitConfig build(ReadsplitConfig.Builder b) {
            for (ConfigException.Problem p : b.problems()) {
                String displayKey = displayKeys.getOrDefault(p.key(), prefix + p.key());
                if (failedKeys.contains(displayKey)) {
                    continue;
                }
                String msg;
                if (!displayKey.equals(prefix + p.key())) {
                    msg = displayKey + ": " + p.message();
                } else {
                    msg = !prefix.isEmpty() && p.message().startsWith(p.key()) ? prefix + p.message()
                            : p.message();
                }
                problems.add(new ConfigException.Problem(displayKey, msg));
            }
            if (!problems.isEmpty()) {
                throw new ConfigException(problems);
            }
            return b.build();
        }
    }

    private static void setReplicas(ReadsplitConfig.Builder b, String key, String value) {
        List<NodeConfig> nodes = new ArrayList<>();
        List<ConfigException.Problem> problems = new ArrayList<>();
        for (String entry : value.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            try {
                nodes.add(NodeConfig.parse(key, entry));
            } catch (ConfigException e) {
                problems.addAll(e.problems());
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        b.replicas(nodes);
    }

    /** The closest known key (case-insensitive Levenshtein), or null when none is close enough. */
    static String suggest(String key) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        String k = key.toLowerCase(Locale.ROOT);
        for (String known : SETTERS.keySet()) {
            int d = levenshtein(k, known.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                bestDistance = d;
                best = known;
            }
        }
        int allowed = Math.max(1, Math.min(3, key.length() / 3));
        return bestDistance <= allowed ? best : null;
    }

    static int levenshtein(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    static int parseInt(String key, String text) {
        try {
            return Integer.parseInt(text.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key, key + " must be an integer: '" + text.trim() + "'");
        }
    }

    static double parseDouble(String key, String text) {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new ConfigException(key, key + " must be a number: '" + text.trim() + "'");
        }
    }

    static boolean parseBoolean(String key, String text) {
        switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1":
                return true;
            case "false", "no", "off", "0":
                return false;
            default:
                throw new ConfigException(key, key + " must be true or false: '" + text.trim() + "'");
        }
    }

    private static final Pattern BYTES = Pattern.compile("(\\d+)\\s*([kmgt]i?b|b)?", Pattern.CASE_INSENSITIVE);

    /** Bytes: a bare number, or with {@code B, kB, MB, GB, TB} (1024-based, as PostgreSQL) or {@code KiB...}. */
    static long parseBytes(String key, String text) {
        String t = text.trim();
        Matcher m = BYTES.matcher(t);
        if (m.matches()) {
            int shift = m.group(2) == null ? 0
                    : switch (Character.toLowerCase(m.group(2).charAt(0))) {
                        case 'k' -> 10;
                        case 'm' -> 20;
                        case 'g' -> 30;
                        case 't' -> 40;
                        default -> 0;
                    };
            BigInteger bytes = new BigInteger(m.group(1)).shiftLeft(shift);
            if (bytes.bitLength() < 64) {
                return bytes.longValue();
            }
        }
        throw new ConfigException(key, key + " must be a byte size (e.g. 16MB, 512kB, 1048576): '" + t + "'");
    }

    static List<String> parseList(String text) {
        List<String> out = new ArrayList<>();
        for (String s : text.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }
}

package dev.readsplit.config;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The per-node fields, one table for every source that describes a node field by field: the attributes of a
 * node spec ({@code db2:5432;zone=eu-1;weight=2;maxLag=5s}), a JSON object ({@code DB_REPLICAS}, a replica posted
 * to the admin endpoint) and a YAML map ({@code replicas: - host: db2}). Seed 004's snake-case names are
 * accepted beside Readsplit's ({@code region}, {@code max_lag_seconds}, {@code min_pool_size},
 * {@code max_pool_size}).
 */
final class NodeFields {

    /** The attribute names of a node spec, for messages. */
    static final String ATTRIBUTES = "zone (or region), weight, name, maxLag (or max_lag_seconds), minPoolSize "
            + "(or min_pool_size), maxPoolSize (or max_pool_size)";

    /** The fields of a node object, for messages. */
    static final String FIELDS = "host, port, database, user, password, zone (or region), weight, name, maxLag "
            + "(or max_lag_seconds), minPoolSize (or min_pool_size), maxPoolSize (or max_pool_size)";

    private static final Set<String> KNOWN = Set.of("host", "port", "database", "user", "password", "name", "zone",
            "region", "weight", "maxLag", "max_lag_seconds", "maxLagSeconds", "minPoolSize", "min_pool_size",
            "maxPoolSize", "max_pool_size", "jdbc");

    private NodeFields() {
    }

    /**
     * Applies one attribute of a node spec. Returns false when {@code attribute} is not a node attribute.
     *
     * @throws ConfigException naming the attribute and the value
     */
    static boolean applyText(NodeConfig.Builder b, String attribute, String value) {
        switch (attribute) {
            case "zone", "region" -> b.zone(value);
            case "weight" -> b.weight(NodeConfig.parseInt("weight", "weight", value));
            case "name" -> b.name(value);
            case "maxLag" -> b.maxLag(Durations.parse("maxLag", value));
            case "max_lag_seconds", "maxLagSeconds" -> b.maxLag(seconds(attribute, value));
            case "minPoolSize", "min_pool_size" -> b.minPoolSize(NodeConfig.parseInt(attribute, attribute, value));
            case "maxPoolSize", "max_pool_size" -> b.maxPoolSize(NodeConfig.parseInt(attribute, attribute, value));
            default -> {
                return false;
            }
        }
        return true;
    }

    /** A whole or fractional number of seconds ({@code 5}, {@code 2.5}), as seed 004's {@code max_lag_seconds}. */
    static Duration seconds(String key, String text) {
        String t = text == null ? "" : text.trim();
        try {
            BigDecimal s = new BigDecimal(t);
            if (t.length() <= 20) {
                return Duration.ofNanos(s.movePointRight(9).setScale(0, RoundingMode.HALF_UP).longValueExact());
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // reported below
        }
        throw new ConfigException(key, key + " must be a number of seconds (e.g. 5 or 2.5): '" + t + "'");
    }

    /**
     * One node described as a map (a JSON object or a YAML map). Problems are added to {@code errors} as
     * {@code at.field ...} messages (never showing a password); null is returned when there was any.
     *
     * @param at           how messages name the node, e.g. {@code DB_REPLICAS[0]} or {@code readsplit.replicas[1]}
     * @param defaultPort  the port when the map has none
     * @param secrets      receives every password seen, for the caller's last-guard scrubbing
     */
    static NodeConfig fromMap(Map<?, ?> m, String at, int defaultPort, List<String> errors, Set<String> secrets) {
        if (m.get("password") instanceof String p) {
            secrets.add(p);
        }
        int before = errors.size();
        for (Object k : m.keySet()) {
            if (!KNOWN.contains(String.valueOf(k))) {
                errors.add(at + " has an unknown field \"" + k + "\" (expected " + FIELDS + ")");
            }
        }
        String host = text(m, "host", at, errors, false);
        if (host == null && errors.stream().noneMatch(s -> s.startsWith(at + ".host"))) {
            errors.add(at + ".host is required");
        }
        Integer port = integer(m, "port", at, errors, 1, 65535);
        String database = text(m, "database", at, errors, false);
        String user = text(m, "user", at, errors, false);
        String password = text(m, "password", at, errors, true);
        String name = text(m, "name", at, errors, false);
        String zone = text(m, "zone", at, errors, false);
        String region = text(m, "region", at, errors, false);
        if (zone != null && region != null && !zone.equals(region)) {
            errors.add(at + " has both \"zone\" and \"region\" with different values; give one");
        }
        Integer weight = integer(m, "weight", at, errors, 1, Integer.MAX_VALUE);
        Duration maxLag = null;
        if (m.get("maxLag") != null) {
            Object v = m.get("maxLag");
            if (v instanceof String s) {
                maxLag = catching(errors, at, () -> Durations.parse(at + ".maxLag", s));
            } else if (v instanceof Number n) {
                maxLag = catching(errors, at, () -> Durations.parse(at + ".maxLag", n.toString()));
            } else {
                errors.add(at + ".maxLag must be a duration (e.g. 500ms, 2s): got " + describe(v, false));
            }
        }
        for (String f : new String[] {"max_lag_seconds", "maxLagSeconds"}) {
            Object v = m.get(f);
            if (v == null) {
                continue;
            }
            if (maxLag != null) {
                errors.add(at + " gives the lag limit twice (maxLag, max_lag_seconds); give one");
            } else if (v instanceof Number || v instanceof String) {
                maxLag = catching(errors, at, () -> seconds(at + "." + f, v.toString()));
            } else {
                errors.add(at + "." + f + " must be a number of seconds: got " + describe(v, false));
            }
        }
        Integer minPool = poolSize(m, at, errors, "minPoolSize", "min_pool_size", 0);
        Integer maxPool = poolSize(m, at, errors, "maxPoolSize", "max_pool_size", 1);
        Map<String, String> jdbc = jdbc(m, at, errors);
        if (errors.size() > before) {
            return null;
        }
        try {
            NodeConfig.Builder b = NodeConfig.builder().host(host).port(port == null ? defaultPort : port)
                    .database(database).user(user).password(password).name(name)
                    .zone(zone != null ? zone : region).maxLag(maxLag).minPoolSize(minPool).maxPoolSize(maxPool);
            if (weight != null) {
                b.weight(weight);
            }
            b.jdbcProperties(jdbc);
            return b.build();
        } catch (ConfigException e) {
            errors.add(at + ": " + e.getMessage());
            return null;
        }
    }

    @FunctionalInterface
    private interface Parse<T> {
        T get();
    }

    private static <T> T catching(List<String> errors, String at, Parse<T> p) {
        try {
            return p.get();
        } catch (ConfigException e) {
            errors.add(e.getMessage());
            return null;
        }
    }

    private static Integer poolSize(Map<?, ?> m, String at, List<String> errors, String name, String alias, int min) {
        Integer a = integer(m, name, at, errors, min, ReadsplitConfig.MAX_POOL_SIZE);
        Integer b = integer(m, alias, at, errors, min, ReadsplitConfig.MAX_POOL_SIZE);
        if (a != null && b != null) {
            errors.add(at + " gives " + name + " twice (" + name + ", " + alias + "); give one");
        }
        return a != null ? a : b;
    }

    private static Map<String, String> jdbc(Map<?, ?> m, String at, List<String> errors) {
        Object v = m.get("jdbc");
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?> props)) {
            errors.add(at + ".jdbc must be a map of pgjdbc properties (sslmode: require): got " + describe(v, false));
            return Map.of();
        }
        Map<String, String> out = new java.util.TreeMap<>();
        for (Map.Entry<?, ?> e : props.entrySet()) {
            Object pv = e.getValue();
            String k = String.valueOf(e.getKey());
            if (pv instanceof Map<?, ?> || pv instanceof List<?> || pv == null) {
                errors.add(at + ".jdbc." + k + " must be a single value: got " + describe(pv, false));
            } else {
                out.put(k, pv.toString());
            }
        }
        return out;
    }

    static String text(Map<?, ?> m, String field, String at, List<String> errors, boolean secret) {
        Object v = m.get(field);
        if (v == null) {
            return null;
        }
        if (v instanceof String s) {
            return s;
        }
        errors.add(at + "." + field + " must be a string: got " + describe(v, secret));
        return null;
    }

    static Integer integer(Map<?, ?> m, String field, String at, List<String> errors, int min, int max) {
        Object v = m.get(field);
        if (v == null) {
            return null;
        }
        BigDecimal n = null;
        if (v instanceof BigDecimal d) {
            n = d;
        } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            n = BigDecimal.valueOf(((Number) v).longValue());
        } else if (v instanceof BigInteger i) {
            n = new BigDecimal(i);
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            n = Double.isFinite(d) ? BigDecimal.valueOf(d) : null;
        } else if (v instanceof String s && s.trim().matches("\\d{1,10}")) {
            n = new BigDecimal(s.trim()); // node-postgres takes "5432" as well as 5432
        }
        if (n != null) {
            try {
                int i = n.intValueExact();
                if (i >= min && i <= max) {
                    return i;
                }
            } catch (ArithmeticException e) {
                // reported below
            }
        }
        String range = max == 65535 ? " in 1..65535" : max == Integer.MAX_VALUE ? " of at least " + min
                : " in " + min + ".." + max;
        errors.add(at + "." + field + " must be an integer" + range + ": got " + describe(v, false));
        return null;
    }

    static String describe(Object v, boolean secret) {
        if (v == null) {
            return "null";
        }
        if (v instanceof List<?>) {
            return "an array";
        }
        if (v instanceof Map<?, ?>) {
            return "an object";
        }
        if (secret) {
            return v instanceof String ? "a string" : v instanceof Boolean ? "a boolean" : "a number";
        }
        if (v instanceof String s) {
            return "\"" + s + "\"";
        }
        return String.valueOf(v);
    }
}

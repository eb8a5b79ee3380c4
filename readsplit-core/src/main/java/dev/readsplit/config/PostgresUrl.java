package dev.readsplit.config;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@code postgresql://}, {@code postgres://}, {@code jdbc:postgresql://} or SQLAlchemy
 * {@code postgresql+<driver>://} URL naming one node ({@value #SQLALCHEMY_DRIVERS}: seed 002's own examples
 * are {@code postgresql+asyncpg://}). The driver is Python's concern and is dropped. Query parameters are
 * pgjdbc properties of that node, except the node attributes of {@link NodeConfig#parse} ({@code zone},
 * {@code weight}, {@code maxLag}, {@code minPoolSize}, ...) and libpq's names that pgjdbc spells otherwise:
 * {@code connect_timeout} ({@code connectTimeout}), {@code application_name} ({@code ApplicationName}) and
 * asyncpg's {@code ssl=<sslmode>} ({@code sslmode}).
 */
final class PostgresUrl {

    /**
     * {@code url} with the password of {@code user:password@} and of {@code password=} parameters replaced by
     * {@code ****}. Conservative: everything between the first {@code :} after {@code //} and the last {@code @}
     * is masked, so a password containing {@code /}, {@code ?} or {@code @} is still hidden.
     */
    static String maskUrl(String url) {
        if (url == null) {
            return null;
        }
        int scheme = url.indexOf("://");
        String m = url;
        if (scheme >= 0) {
            int start = scheme + 3;
            int at = url.lastIndexOf('@');
            if (at > start) {
                int colon = url.indexOf(':', start);
                if (colon >= 0 && colon < at) {
                    m = url.substring(0, colon + 1) + "****" + url.substring(at);
                }
            }
        }
        return ReadsplitUrl.mask(m);
    }

    static final String SQLALCHEMY_DRIVERS = "asyncpg, psycopg, psycopg2, psycopg2cffi, pg8000";
    private static final Set<String> DRIVERS = Set.of("asyncpg", "psycopg", "psycopg2", "psycopg2cffi", "pg8000");
    private static final Set<String> SSL_MODES =
            Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

    final NodeConfig node;
    final String database;
    final String user;
    final String password;

    private PostgresUrl(NodeConfig node, String database, String user, String password) {
        this.node = node;
        this.database = database;
        this.user = user;
        this.password = password;
    }

    /** The parsed URL, or null when it has problems (then {@link #problems} lists them). */
    static PostgresUrl parse(String var, String url, Set<String> secrets) {
        List<String> problems = new ArrayList<>();
        PostgresUrl u = parse(var, url, problems, secrets);
        return problems.isEmpty() ? u : null;
    }

    static List<String> problems(String var, String url, Set<String> secrets) {
        List<String> problems = new ArrayList<>();
        parse(var, url, problems, secrets);
        return problems;
    }

    private static PostgresUrl parse(String var, String url, List<String> problems, Set<String> secrets) {
        String masked = maskUrl(url.trim());
        String prefix = var + " must be postgresql://user:password@host:port/database (also postgres://, "
                + "postgresql+asyncpg:// and the other SQLAlchemy drivers, jdbc:postgresql://, or "
                + "jdbc:readsplit:postgresql:// for DATABASE_URL): ";
        String t = url.trim();
        String lower = t.toLowerCase(Locale.ROOT);
        String rest;
        boolean libpq = true;
        if (lower.startsWith("jdbc:postgresql://")) {
            rest = t.substring("jdbc:postgresql://".length());
            libpq = false;
        } else if (lower.startsWith("postgresql://")) {
            rest = t.substring("postgresql://".length());
        } else if (lower.startsWith("postgres://")) {
            rest = t.substring("postgres://".length());
        } else if (lower.startsWith("postgresql+") && lower.indexOf("://") > 0) {
            String driver = lower.substring("postgresql+".length(), lower.indexOf("://"));
            if (!DRIVERS.contains(driver)) {
                problems.add(var + " names the SQLAlchemy driver '" + driver + "', which is not a PostgreSQL "
                        + "driver Readsplit knows (expected postgresql+ one of " + SQLALCHEMY_DRIVERS + "): '"
                        + masked + "'");
                return null;
            }
            rest = t.substring(lower.indexOf("://") + 3);
        } else {
            problems.add(prefix + "'" + masked + "'");
            return null;
        }
        int end = rest.length();
        for (char c : new char[] {'/', '?', '#'}) {
            int i = rest.indexOf(c);
            if (i >= 0 && i < end) {
                end = i;
            }
        }
        int lastAt = rest.lastIndexOf('@');
        if (lastAt > end && rest.substring(0, lastAt).indexOf('=') < 0) {
            // user:pa/ss@host: an unencoded '/', '?' or '#' in the user info. Not parsed further, so that no
            // part of the password is mistaken for a host or port and echoed.
            problems.add(var + ": the user name or password contains an unencoded '/', '?' or '#'; "
                    + "percent-encode them (%2F, %3F, %23) (in " + masked + ")");
            return null;
        }
        String netloc = rest.substring(0, end);
        String tail = rest.substring(end);
        String user = null;
        String password = null;
        int at = netloc.lastIndexOf('@');
        String hostPort = netloc;
        String where = " (in " + masked + ")";
        if (at >= 0) {
            String userInfo = netloc.substring(0, at);
            hostPort = netloc.substring(at + 1);
            int colon = userInfo.indexOf(':');
            String rawUser = colon < 0 ? userInfo : userInfo.substring(0, colon);
            if (colon >= 0) {
                String rawPassword = userInfo.substring(colon + 1);
                secrets.add(rawPassword);
                password = decode(rawPassword);
                if (password == null) {
                    problems.add(var + " has malformed percent-encoding in the password" + where);
                } else {
                    secrets.add(password);
                }
            }
            user = decode(rawUser);
            if (user == null) {
                problems.add(var + " has malformed percent-encoding in the user name" + where);
            } else if (user.isEmpty()) {
                user = null;
            }
        }
        int hash = tail.indexOf('#');
        if (hash >= 0) {
            tail = tail.substring(0, hash);
        }
        int q = tail.indexOf('?');
        String path = q < 0 ? tail : tail.substring(0, q);
        String query = q < 0 ? "" : tail.substring(q + 1);
        String database = null;
        if (path.length() > 1) {
            String p = path.substring(1);
            database = decode(p);
            if (database == null || database.indexOf('/') >= 0 || p.indexOf('/') >= 0) {
                problems.add(var + " has an invalid database name '" + p + "'" + where);
                database = null;
            }
        }
        Map<String, String> props = new TreeMap<>();
        Map<String, String> attributes = new java.util.LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            if (k != null && NodeConfig.isSecretKey(k) && v != null) {
                secrets.add(v);
            }
            if (k == null || v == null || k.isBlank()) {
                problems.add(var + " has a malformed query parameter" + where);
            } else if (k.equals("user")) {
                user = v;
            } else if (k.equals("password")) {
                password = v;
            } else if (isAttribute(k)) {
                attributes.put(k, v);
            } else if (libpq && k.equals("connect_timeout")) {
                props.put("connectTimeout", v);
            } else if (libpq && k.equals("application_name")) {
                props.put("ApplicationName", v);
            } else if (libpq && k.equals("ssl") && SSL_MODES.contains(v.toLowerCase(Locale.ROOT))) {
                props.put("sslmode", v.toLowerCase(Locale.ROOT));
            } else {
                props.put(k, v);
            }
        }
        NodeConfig node = null;
        if (hostPort.isEmpty()) {
            problems.add(var + " names no host" + where);
        } else if (hostPort.indexOf(',') >= 0) {
            problems.add(var + " must name one host; put replicas in "
                    + (var.equals("DATABASE_URL") ? "DATABASE_READ_URLS or use a jdbc:readsplit: URL"
                    : "a separate URL each, comma-separated") + where);
        } else {
            try {
                NodeConfig.Builder nb = NodeConfig.builder();
                NodeConfig.hostPort(var, hostPort, nb);
                nb.jdbcProperties(props);
                for (Map.Entry<String, String> a : attributes.entrySet()) {
                    try {
                        NodeFields.applyText(nb, a.getKey(), a.getValue());
                    } catch (ConfigException e) {
                        problems.add(var + ": " + e.getMessage() + where);
                    }
                }
                node = nb.build();
            } catch (ConfigException e) {
                String m = e.getMessage();
                problems.add((m.startsWith(var) ? m : var + ": " + m) + where);
            }
        }
        return new PostgresUrl(node, database, user, password);
    }

    private static boolean isAttribute(String k) {
        return NODE_ATTRIBUTES.contains(k);
    }

    private static final Set<String> NODE_ATTRIBUTES = Set.of("zone", "region", "weight", "name", "maxLag",
            "max_lag_seconds", "maxLagSeconds", "minPoolSize", "min_pool_size", "maxPoolSize", "max_pool_size");

    /** RFC 3986 percent-decoding as UTF-8 ({@code +} stays a plus); null when malformed. */
    static String decode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    return null;
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out.write(hi * 16 + lo);
                i += 3;
            } else {
                int next = s.indexOf('%', i);
                int stop = next < 0 ? s.length() : next;
                byte[] b = s.substring(i, stop).getBytes(java.nio.charset.StandardCharsets.UTF_8);
                out.write(b, 0, b.length);
                i = stop;
            }
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }
}

package dev.readsplit.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * Parses Readsplit JDBC URLs:
 * <pre>jdbc:readsplit:postgresql://primary[:port][,replica[:port][;attribute=value]...]...[/database][?key=value&amp;...]</pre>
 * The first host is the primary, the others are replicas; the port defaults to 5432; IPv6 hosts go in
 * brackets. Each host may carry the node attributes of {@link NodeConfig#parse}:
 * {@code replica1:5432;zone=eu-1a;weight=2;maxLag=5s;maxPoolSize=20}. Query parameters use the keys of {@link ReadsplitConfig#fromProperties} without the
 * {@code readsplit.} prefix ({@code consistency=read_your_writes&balancer=random}); {@code user} and
 * {@code password} may also come from {@code info} (URL parameters win, as in pgjdbc). Any other parameter or
 * {@code info} entry is passed to pgjdbc on every node as a jdbc property ({@code sslmode=require}), except a
 * URL parameter that is not a pgjdbc property and looks like a misspelt Readsplit key, which is an error.
 *
 * <p>Every error names the URL with its password masked.
 */
public final class ReadsplitUrl {

    /** The URL prefix this parser accepts. */
    public static final String PREFIX = "jdbc:readsplit:postgresql://";

    private static final Pattern SECRET_PARAM =
            Pattern.compile("(?i)((?:password|secret|token)[^=&]*=)[^&]*");
    private static final Pattern USER_INFO = Pattern.compile("(//[^/@,?]*:)[^/@?]*@");

    private ReadsplitUrl() {
    }

    /** Whether {@code url} is a Readsplit URL (case-insensitive prefix check). Null-safe. */
    public static boolean accepts(String url) {
        return url != null && url.regionMatches(true, 0, PREFIX, 0, PREFIX.length());
    }

    /**
     * Parses {@code url} into a configuration.
     *
     * @param info optional connection properties (may be null), e.g. {@code user} and {@code password}
     * @throws ConfigException naming the (masked) URL and every problem found
     */
    public static ReadsplitConfig parse(String url, Properties info) {
        Parts parts = split(url);
        String masked = parts.masked();
        List<NodeConfig> nodes = parts.nodes();
        Map<String, String> params = parts.params();
        ReadsplitConfig.Builder b = ReadsplitConfig.builder();
        if (parts.database() != null) {
            b.database(parts.database());
        }

        b.primary(nodes.get(0));
        b.replicas(nodes.subList(1, nodes.size()));
        ConfigKeys.Collector c = new ConfigKeys.Collector("");
        if (info != null) {
            for (String k : info.stringPropertyNames()) {
                if (!params.containsKey(k)) {
                    c.apply(b, k, info.getProperty(k), ConfigKeys.Source.INFO);
                }
            }
        }
        for (Map.Entry<String, String> e : params.entrySet()) {
            c.apply(b, e.getKey(), e.getValue(), ConfigKeys.Source.URL);
        }
        try {
            return c.build(b);
        } catch (ConfigException e) {
            List<ConfigException.Problem> problems = new ArrayList<>();
            for (ConfigException.Problem p : e.problems()) {
                problems.add(new ConfigException.Problem(p.key(), p.message() + " (in " + masked + ")"));
            }
            throw new ConfigException(problems);
        }
    }

    /** The URL taken apart: hosts (first = primary), decoded database (or null), decoded parameters in order. */
    record Parts(String masked, List<NodeConfig> nodes, String database, Map<String, String> params) {
    }

    /**
     * The structural part of {@link #parse}: host list, database and query parameters, without applying the
     * parameters. Also used for a Readsplit URL given in {@code DATABASE_URL}.
     *
     * @throws ConfigException naming the masked URL and every structural problem
     */
    static Parts split(String url) {
        if (url == null) {
            throw new ConfigException("url", "Readsplit URL must not be null");
        }
        String masked = mask(url);
        if (!accepts(url)) {
            throw new ConfigException("url", "invalid Readsplit URL " + masked + ": must start with " + PREFIX);
        }
        String rest = url.substring(PREFIX.length());
        int q = rest.indexOf('?');
        String query = q < 0 ? null : rest.substring(q + 1);
        String authorityAndPath = q < 0 ? rest : rest.substring(0, q);
        int slash = authorityAndPath.indexOf('/');
        String hosts = slash < 0 ? authorityAndPath : authorityAndPath.substring(0, slash);
        String path = slash < 0 ? "" : authorityAndPath.substring(slash + 1);

        List<String> errors = new ArrayList<>();
        if (hosts.indexOf('@') >= 0) {
            errors.add("credentials before the host are not supported; use ?user=...&password=... or the "
                    + "connection properties");
            hosts = hosts.substring(hosts.lastIndexOf('@') + 1);
        }
        String database = null;
        List<NodeConfig> nodes = new ArrayList<>();
        if (hosts.isBlank()) {
            errors.add("no host given");
        } else {
            String[] specs = hosts.split(",", -1);
            for (String spec : specs) {
                if (spec.isBlank()) {
                    errors.add("empty host in the host list");
                    continue;
                }
                try {
                    nodes.add(NodeConfig.parse("host", spec.trim()));
                } catch (ConfigException e) {
                    errors.add(e.getMessage());
                }
            }
        }
        if (!path.isEmpty()) {
            if (path.indexOf('/') >= 0) {
                errors.add("the database name must not contain '/': '" + path + "'");
            } else {
                try {
                    database = decode(path);
                    if (database.isBlank()) {
                        errors.add("invalid database name: '" + path + "'");
                    }
                } catch (IllegalArgumentException e) {
                    errors.add("invalid database name: '" + path + "'");
                }
            }
        }
        Map<String, String> params = new LinkedHashMap<>();
        if (query != null && !query.isEmpty()) {
            for (String pair : query.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                try {
                    String k = decode(eq < 0 ? pair : pair.substring(0, eq));
                    String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
                    if (k.isBlank()) {
                        errors.add("parameter with an empty name");
                    } else {
                        params.put(k, v);
                    }
                } catch (IllegalArgumentException e) {
                    errors.add("malformed percent-encoding in parameter '" + mask(pair) + "'");
                }
            }
        }
        if (!errors.isEmpty()) {
            List<ConfigException.Problem> problems = new ArrayList<>();
            for (String e : errors) {
                problems.add(new ConfigException.Problem("url", "invalid Readsplit URL " + masked + ": " + e));
            }
            throw new ConfigException(problems);
        }
        return new Parts(masked, List.copyOf(nodes), database, params);
    }

    /** {@code url} with the values of {@code password}-, {@code secret}- and {@code token}-like parameters and any
     * {@code user:password@} credentials replaced by {@code ****}. */
    public static String mask(String url) {
        if (url == null) {
            return null;
        }
        String m = SECRET_PARAM.matcher(url).replaceAll("$1****");
        return USER_INFO.matcher(m).replaceAll("$1****@");
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8); // as pgjdbc: "+" is a space, "%2B" a plus
    }
}

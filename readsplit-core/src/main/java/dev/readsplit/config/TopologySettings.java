package dev.readsplit.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.readsplit.config.ConfigChecks.notNull;

/**
 * Where the topology comes from besides SQL observation ({@code docs/failover.md}): the
 * keys {@code topologySource, patroniUrls}. Valid by construction: Patroni needs at least one URL, and URLs need
 * Patroni.
 *
 * @param source      {@link TopologySource#SQL} (default) or {@link TopologySource#PATRONI}
 * @param patroniUrls Patroni REST API base URLs ({@code http://host:8008}), asked in turn; empty unless the
 *                    source is Patroni. Absolute {@code http}/{@code https} URLs with a host and no credentials.
 */
public record TopologySettings(TopologySource source, List<URI> patroniUrls) {

    public TopologySettings {
        notNull("topologySource", source);
        notNull("patroniUrls", patroniUrls);
        for (URI u : patroniUrls) {
            patroniUrl(notNull("patroniUrls", u).toString());
        }
        patroniUrls = List.copyOf(patroniUrls);
        ConfigChecks.none(problems(source, patroniUrls));
    }

    /** Parses one Patroni URL, or throws naming what is wrong with it (never echoing credentials). */
    static URI patroniUrl(String text) {
        if (text == null || text.isBlank()) {
            throw new ConfigException("patroniUrls", "patroniUrls must not contain an empty URL");
        }
        URI u;
        try {
            u = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new ConfigException("patroniUrls", "patroniUrls: not a URL: '" + text.trim() + "' (" + e.getReason() + ")");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (u.getRawUserInfo() != null) {
            throw new ConfigException("patroniUrls", "patroniUrls: a URL must not carry credentials: "
                    + scheme + "://****@" + u.getHost() + (u.getPort() > 0 ? ":" + u.getPort() : ""));
        }
        if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null) {
            throw new ConfigException("patroniUrls", "patroniUrls: expected http://host:port (Patroni's REST API),"
                    + " got '" + text.trim() + "'");
        }
        return u;
    }

    static List<ConfigException.Problem> problems(TopologySource source, List<URI> patroniUrls) {
        List<ConfigException.Problem> p = new ArrayList<>();
        if (source == TopologySource.PATRONI && patroniUrls.isEmpty()) {
            p.add(new ConfigException.Problem("patroniUrls", "topologySource=patroni needs at least one of"
                    + " patroniUrls (Patroni's REST API, e.g. http://pg1:8008)"));
        }
        if (source != TopologySource.PATRONI && !patroniUrls.isEmpty()) {
            p.add(new ConfigException.Problem("patroniUrls", "patroniUrls is set but topologySource is "
                    + source.name().toLowerCase(Locale.ROOT) + " (set topologySource=patroni)"));
        }
        return p;
    }

    /** The mutable half of {@link ReadsplitConfig.Builder} for this group. */
    static final class Builder {
        TopologySource source = TopologySource.SQL;
        final List<URI> patroniUrls = new ArrayList<>();

        Builder() {
        }

        Builder(TopologySettings s) {
            source = s.source;
            patroniUrls.addAll(s.patroniUrls);
        }

        List<ConfigException.Problem> problems() {
            return TopologySettings.problems(source, patroniUrls);
        }

        TopologySettings build() {
            return new TopologySettings(source, patroniUrls);
        }
    }
}

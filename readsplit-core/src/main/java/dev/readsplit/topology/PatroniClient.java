package dev.readsplit.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads Patroni's view of the cluster: {@code GET <url>/cluster} on each configured Patroni REST URL in turn until one
 * answers (every Patroni node serves the whole cluster's view from the DCS). Bounded: one request per URL, each within
 * {@code timeout}, a body of at most {@value #MAX_BODY} bytes. Thread-safe (the JDK client and the mapper are).
 * See docs/failover.md, "Patroni".
 */
public final class PatroniClient {

    /** Patroni's answer is a few hundred bytes per member; anything larger is not Patroni. */
    static final int MAX_BODY = 1 << 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<URI> urls;
    private final Duration timeout;
    private final HttpClient http;

    public PatroniClient(List<URI> urls, Duration timeout) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("no Patroni URL");
        }
        this.urls = List.copyOf(urls);
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /**
     * One member of Patroni's cluster as {@code /cluster} lists it.
     *
     * @param name          Patroni's member name
     * @param role          {@code leader}, {@code replica}, {@code sync_standby}, {@code standby_leader}...
     * @param state         {@code running}, {@code streaming}, {@code stopped}, {@code starting}, {@code crashed}...
     * @param host          the member's PostgreSQL host as Patroni advertises it ({@code connect_address})
     * @param port          its PostgreSQL port, or -1
     * @param timeline      its timeline, or -1
     * @param lagBytes      its replication lag in bytes as Patroni measures it, or -1 ({@code unknown}, or a leader)
     * @param noloadbalance tag: must not take reads
     * @param nofailover    tag: never promoted by Patroni
     */
    public record Member(String name, String role, String state, String host, int port, long timeline, long lagBytes,
                         boolean noloadbalance, boolean nofailover) {

        /** Patroni's leader of a primary cluster: where writes go. */
        public boolean isLeader() {
            return "leader".equals(role) || "master".equals(role) || "primary".equals(role);
        }

        /** Whether Patroni reports its PostgreSQL up ({@code running}, or {@code streaming} for a replica). */
        public boolean isRunning() {
            return "running".equals(state) || "streaming".equals(state);
        }

        /** A one-line description for logs, events and {@code readsplit check}. */
        public String describe() {
            return role + ", " + state + (timeline >= 0 ? ", timeline " + timeline : "")
                    + (isLeader() ? "" : lagBytes >= 0 ? ", lag " + lagBytes + " bytes" : ", lag unknown")
                    + (noloadbalance ? ", noloadbalance" : "") + (nofailover ? ", nofailover" : "");
        }
    }

    /** Patroni's view: the members, and the URL that answered. */
    public record View(URI source, List<Member> members) {
        public View {
            members = List.copyOf(members);
        }

        /** The leader, or null while Patroni has none (an election is running). */
        public Member leader() {
            for (Member m : members) {
                if (m.isLeader()) {
                    return m;
                }
            }
            return null;
        }
    }

    /**
     * Asks each URL in turn.
     *
     * @throws IOException naming every URL and why it did not answer, when none did
     */
    public View fetch() throws IOException {
        StringBuilder why = new StringBuilder();
        for (URI base : urls) {
            try {
                return fetch(base);
            } catch (IOException e) {
                why.append(why.length() == 0 ? "" : "; ").append(base).append(": ").append(e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while asking Patroni", e);
            }
        }
        throw new IOException("no Patroni REST API answered GET /cluster (" + why + ")");
    }

    private View fetch(URI base) throws IOException, InterruptedException {
        String b = base.toString();
        URI uri = URI.create(b.endsWith("/") ? b + "cluster" : b + "/cluster");
        HttpRequest req = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json").GET().build();
        HttpResponse<InputStream> resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = resp.body()) {
            byte[] body = in.readNBytes(MAX_BODY + 1);
            if (resp.statusCode() != 200) {
                throw new IOException("HTTP " + resp.statusCode());
            }
            if (body.length > MAX_BODY) {
                throw new IOException("answer larger than " + MAX_BODY + " bytes: not Patroni's /cluster");
            }
            return new View(base, parse(body));
        }
    }

    /** Parses {@code /cluster}'s JSON; members without a name are skipped. */
    public static List<Member> parse(byte[] body) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException("not JSON: " + e.getOriginalMessage(), e);
        }
        JsonNode members = root == null ? null : root.get("members");
        if (members == null || !members.isArray()) {
            throw new IOException("no \"members\" list: not Patroni's /cluster");
        }
        List<Member> out = new ArrayList<>(members.size());
        for (JsonNode m : members) {
            String name = text(m, "name");
            if (name == null) {
                continue;
            }
            JsonNode tags = m.get("tags");
            JsonNode lag = m.get("lag");
            out.add(new Member(name, lower(text(m, "role")), lower(text(m, "state")), text(m, "host"),
                    m.path("port").asInt(-1), m.path("timeline").asLong(-1),
                    lag != null && lag.isNumber() ? lag.asLong() : -1,
                    tag(tags, "noloadbalance"), tag(tags, "nofailover")));
        }
        return out;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static String lower(String s) {
        return s == null ? "" : s.toLowerCase(Locale.ROOT);
    }

    /** Patroni tags are booleans in YAML, but a string "true" is accepted as Patroni does. */
    private static boolean tag(JsonNode tags, String name) {
        if (tags == null) {
            return false;
        }
        JsonNode v = tags.get(name);
        return v != null && (v.asBoolean(false) || "true".equalsIgnoreCase(v.asText()));
    }
}

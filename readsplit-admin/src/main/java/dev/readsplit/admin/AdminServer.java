package dev.readsplit.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.readsplit.config.ConfigException;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.Secret;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.metrics.MetricsSnapshot;
import dev.readsplit.metrics.ReadsplitMetrics;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.topology.Node;
import dev.readsplit.topology.NodeState;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP admin endpoint for one {@link ReadsplitDataSource}, on the JDK's own HTTP server (see the package
 * documentation for why). Start it with {@link #start(ReadsplitDataSource, AdminOptions)}; stop it with
 * {@link #close()} (the data source is not closed: the application owns it).
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><td>{@code GET /}</td><td>the live dashboard</td></tr>
 *   <tr><td>{@code GET /healthz}</td><td>200 while the process serves requests</td></tr>
 *   <tr><td>{@code GET /readyz}</td><td>200 when the primary is UP (and, with {@code requireReplica}, a replica
 *       takes reads); 503 otherwise</td></tr>
 *   <tr><td>{@code GET /replicas}, {@code /health/replicas}</td><td>the status snapshot as JSON</td></tr>
 *   <tr><td>{@code GET /events}</td><td>recent topology events as JSON</td></tr>
 *   <tr><td>{@code GET /metrics}</td><td>Prometheus text format</td></tr>
 *   <tr><td>{@code GET /shadow-mode}</td><td>shadow mode and its recorded decisions</td></tr>
 *   <tr><td>{@code POST /replicas}</td><td>add a replica: {@code {"host": ..., "port": ..., "name", "zone",
 *       "weight", "database", "user", "password"}}</td></tr>
 *   <tr><td>{@code POST /replicas/{name}/drain}</td><td>drain a replica</td></tr>
 *   <tr><td>{@code DELETE /replicas/{name}}</td><td>drain and remove a replica</td></tr>
 *   <tr><td>{@code POST /shadow-mode}</td><td>body {@code on} or {@code off}</td></tr>
 * </table>
 *
 * <p>Mutations need {@code Authorization: Bearer <adminToken>} (the data source's {@code adminToken}),
 * compared in constant time. With no token configured they are disabled (403); a missing or wrong token is
 * 401. Reads need no token: bind to 127.0.0.1 (the default) or put the endpoint behind something that
 * authenticates.
 *
 * <p>Threads: the server's dispatcher thread and {@code threads} request threads named
 * {@code readsplit-admin-<name>-N}, all daemon; {@link #close()} stops them.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_BODY = 64 * 1024;
    private static final String JSON = "application/json; charset=utf-8";
    private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

    private final ReadsplitDataSource ds;
    private final AdminOptions options;
    private final HttpServer server;
    private final ExecutorService executor;
    private final PrometheusMeterRegistry registry;
    private final boolean ownsRegistry;
    private final ReadsplitMetrics metrics;
    private final byte[] tokenDigest;
    private volatile boolean closed;

    private AdminServer(ReadsplitDataSource ds, AdminOptions options) throws IOException {
        this.ds = ds;
        this.options = options;
        Secret token = ds.config().adminToken();
        this.tokenDigest = token == null || token.isEmpty() ? null : sha256(token.reveal());
        this.ownsRegistry = options.registry() == null;
        this.registry = ownsRegistry ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : options.registry();
        this.metrics = new ReadsplitMetrics(ds);
        metrics.bindTo(registry);
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(options.bindAddress()), options.port());
        this.server = HttpServer.create(address, 0);
        AtomicInteger n = new AtomicInteger();
        String prefix = "readsplit-admin-" + ds.name() + "-";
        this.executor = Executors.newFixedThreadPool(options.threads(), r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
    }

    /**
     * Starts an admin server for {@code ds}.
     *
     * @throws UncheckedIOException if the address cannot be bound (the message names it)
     */
    public static AdminServer start(ReadsplitDataSource ds, AdminOptions options) {
        java.util.Objects.requireNonNull(ds, "ds");
        java.util.Objects.requireNonNull(options, "options");
        AdminServer s;
        try {
            s = new AdminServer(ds, options);
        } catch (IOException e) {
            throw new UncheckedIOException(ds.name() + ": cannot start the admin server on "
                    + options.bindAddress() + ":" + options.port() + ": " + e.getMessage(), e);
        }
        s.server.start();
        log.info("{}: admin server on http://{}:{}/ (mutations {})", ds.name(), options.bindAddress(), s.port(),
                s.tokenDigest == null ? "disabled: no admin token" : "need the admin token");
        return s;
    }

    /** Starts an admin server with {@link AdminOptions#defaults()} (127.0.0.1, ephemeral port). */
    public static AdminServer start(ReadsplitDataSource ds) {
        return start(ds, AdminOptions.defaults());
    }

    /** The port the server listens on (the chosen one when {@code port} was 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** {@code http://host:port/}. */
    public URI uri() {
        String host = server.getAddress().getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + port() + "/");
    }

    /** The registry {@code /metrics} scrapes. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Stops listening, the request threads, and unbinds the metrics. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        metrics.close();
        if (ownsRegistry) {
            registry.close();
        }
    }

    @Override
    public String toString() {
        return "AdminServer[" + ds.name() + ", " + options.bindAddress() + ":" + port() + "]";
    }

    // ---------------------------------------------------------------------------------------------
    // dispatch

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            try {
                dispatch(ex);
            } catch (HttpError e) {
                sendError(ex, e.status, e.getMessage(), e.allow);
            } catch (RuntimeException e) {
                log.warn("{}: admin request {} {} failed", ds.name(), ex.getRequestMethod(), ex.getRequestURI().getPath(), e);
                sendError(ex, 500, "internal error: " + e.getClass().getSimpleName(), null);
            }
        }
    }

    private void dispatch(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
        String path = ex.getRequestURI().getRawPath();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        switch (path) {
            case "/", "/index.html" -> {
                allow(method, "GET");
                sendResource(ex, "dashboard.html", "text/html; charset=utf-8");
            }
            case "/dashboard.js" -> {
                allow(method, "GET");
                sendResource(ex, "dashboard.js", "text/javascript; charset=utf-8");
            }
            case "/dashboard.css" -> {
                allow(method, "GET");
                sendResource(ex, "dashboard.css", "text/css; charset=utf-8");
            }
            case "/healthz" -> {
                allow(method, "GET");
                send(ex, 200, JSON, "{\"status\":\"ok\"}");
            }
            case "/readyz" -> {
                allow(method, "GET");
                readyz(ex);
            }
            case "/replicas", "/health/replicas" -> {
                if (method.equals("POST") && path.equals("/replicas")) {
                    authorize(ex);
                    addReplica(ex);
                } else {
                    allow(method, path.equals("/replicas") ? "GET, POST" : "GET");
                    send(ex, 200, JSON, StatusSnapshot.of(ds).toJson());
                }
            }
            case "/events" -> {
                allow(method, "GET");
                send(ex, 200, JSON, StatusSnapshot.of(ds).eventsJson());
            }
            case "/metrics" -> {
                allow(method, "GET");
                send(ex, 200, PROMETHEUS, registry.scrape());
            }
            case "/shadow-mode" -> {
                if (method.equals("POST")) {
                    authorize(ex);
                    shadowMode(ex);
                } else {
                    allow(method, "GET, POST");
                    send(ex, 200, JSON, shadowJson());
                }
            }
            default -> replicaPath(ex, method, path);
        }
    }

    /** {@code /replicas/{name}/drain} and {@code /replicas/{name}}. */
    private void replicaPath(HttpExchange ex, String method, String path) throws IOException {
        if (!path.startsWith("/replicas/")) {
            throw new HttpError(404, "no such endpoint: " + path);
        }
        String rest = path.substring("/replicas/".length());
        boolean drain = rest.endsWith("/drain");
        String raw = drain ? rest.substring(0, rest.length() - "/drain".length()) : rest;
        if (raw.isEmpty() || raw.contains("/")) {
            throw new HttpError(404, "no such endpoint: " + path);
        }
        String name = URLDecoder.decode(raw, StandardCharsets.UTF_8);
        if (drain) {
            allow(method, "POST");
            authorize(ex);
            requireNode(name);
            boolean quiet = mutate(() -> ds.drainReplica(name, options.drainTimeout()));
            send(ex, 200, JSON, "{\"node\":" + Json.quote(name) + ",\"state\":\"DRAINING\",\"poolClosed\":true,"
                    + "\"quiet\":" + quiet + "}");
        } else {
            allow(method, "DELETE");
            authorize(ex);
            requireNode(name);
            boolean quiet = mutate(() -> ds.removeReplica(name, options.drainTimeout()));
            send(ex, 200, JSON, "{\"node\":" + Json.quote(name) + ",\"removed\":true,\"quiet\":" + quiet + "}");
        }
    }

    private void requireNode(String name) {
        if (ds.topology().node(name) == null) {
            throw new HttpError(404, ds.name() + ": no node named '" + name + "'");
        }
    }

    private static <T> T mutate(java.util.function.Supplier<T> op) {
        try {
            return op.get();
        } catch (ConfigException e) {
            throw new HttpError(400, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new HttpError(e.getMessage() != null && e.getMessage().contains("no node named") ? 404 : 409,
                    e.getMessage());
        } catch (IllegalStateException e) {
            throw new HttpError(409, e.getMessage());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // endpoints

    private void readyz(HttpExchange ex) throws IOException {
        Node primary = ds.topology().primary();
        boolean primaryUp = primary.state() == NodeState.UP && primary.lastCheckMillis() > 0;
        int healthy = MetricsSnapshot.of(ds).healthyReplicas();
        String reason = null;
        if (!primaryUp) {
            reason = "primary " + primary.name() + " is " + (primary.lastCheckMillis() > 0 ? primary.state() : "not checked yet");
        } else if (options.requireReplica() && healthy == 0) {
            reason = "no replica takes reads";
        }
        String body = "{\"status\":" + Json.quote(reason == null ? "ready" : "not ready")
                + ",\"primary\":" + Json.quote(primary.name()) + ",\"primaryUp\":" + primaryUp
                + ",\"healthyReplicas\":" + healthy + ",\"requireReplica\":" + options.requireReplica()
                + (reason == null ? "" : ",\"reason\":" + Json.quote(reason)) + "}";
        send(ex, reason == null ? 200 : 503, JSON, body);
    }

    private void addReplica(HttpExchange ex) throws IOException {
        Map<String, Object> body;
        try {
            body = FlatJson.parseObject(body(ex));
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, e.getMessage());
        }
        NodeConfig node;
        try {
            NodeConfig.Builder b = NodeConfig.builder();
            for (Map.Entry<String, Object> e : body.entrySet()) {
                Object v = e.getValue();
                switch (e.getKey()) {
                    case "host" -> b.host(text(e.getKey(), v));
                    case "port" -> b.port(integer(e.getKey(), v));
                    case "name" -> b.name(text(e.getKey(), v));
                    case "zone" -> b.zone(text(e.getKey(), v));
                    case "weight" -> b.weight(integer(e.getKey(), v));
                    case "database" -> b.database(text(e.getKey(), v));
                    case "user" -> b.user(text(e.getKey(), v));
                    case "password" -> b.password(text(e.getKey(), v));
                    default -> throw new HttpError(400, "unknown field '" + e.getKey()
                            + "' (known: host, port, name, zone, weight, database, user, password)");
                }
            }
            node = b.build();
        } catch (ConfigException e) {
            throw new HttpError(400, e.getMessage());
        }
        String name = mutate(() -> ds.addReplica(node));
        Node added = ds.topology().node(name);
        send(ex, 201, JSON, "{\"node\":" + Json.quote(name) + ",\"state\":"
                + Json.quote(added == null ? "REMOVED" : added.state().name())
                + ",\"message\":\"takes reads once its health checks pass\"}");
    }

    private static String text(String key, Object v) {
        if (!(v instanceof String s)) {
            throw new HttpError(400, key + " must be a string");
        }
        return s;
    }

    private static int integer(String key, Object v) {
        try {
            if (v instanceof BigDecimal d) {
                return d.intValueExact();
            }
            if (v instanceof String s) {
                return Integer.parseInt(s.trim());
            }
        } catch (ArithmeticException | NumberFormatException e) {
            // fall through
        }
        throw new HttpError(400, key + " must be an integer");
    }

    private void shadowMode(HttpExchange ex) throws IOException {
        String value = body(ex).trim().toLowerCase(Locale.ROOT);
        if (value.startsWith("\"") && value.endsWith("\"") && value.length() >= 2) {
            value = value.substring(1, value.length() - 1);
        }
        boolean on = switch (value) {
            case "on", "true" -> true;
            case "off", "false" -> false;
            default -> throw new HttpError(400, "body must be 'on' or 'off'");
        };
        ds.setShadowMode(on);
        log.info("{}: shadow mode {} through the admin endpoint", ds.name(), on ? "on" : "off");
        send(ex, 200, JSON, shadowJson());
    }

    private String shadowJson() {
        StringBuilder sb = new StringBuilder("{\"shadowMode\":").append(ds.shadowMode()).append(",\"shadowDecisions\":{");
        boolean first = true;
        for (var e : ds.shadowRouteCounts().entrySet()) {
            sb.append(first ? "" : ",").append(Json.quote(e.getKey().name())).append(':').append(e.getValue());
            first = false;
        }
        return sb.append("}}").toString();
    }

    // ---------------------------------------------------------------------------------------------
    // authorization

    /** 403 when no token is configured; 401 when it is missing or wrong (compared in constant time). */
    private void authorize(HttpExchange ex) {
        if (tokenDigest == null) {
            throw new HttpError(403, ds.name() + ": mutations are disabled: no admin token is configured"
                    + " (set readsplit.adminToken)");
        }
        String header = ex.getRequestHeaders().getFirst("Authorization");
        String presented = null;
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            presented = header.substring(7).trim();
        }
        // digests have a fixed length, so the comparison time does not depend on the presented token either
        byte[] digest = sha256(presented == null ? "" : presented);
        if (!MessageDigest.isEqual(digest, tokenDigest) || presented == null) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"readsplit\"");
            throw new HttpError(401, ds.name() + ": " + (presented == null
                    ? "an 'Authorization: Bearer <admin token>' header is required" : "wrong admin token"));
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // I/O

    private static String body(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] data = in.readNBytes(MAX_BODY + 1);
            if (data.length > MAX_BODY) {
                throw new HttpError(413, "request body over " + MAX_BODY + " bytes");
            }
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    private static void allow(String method, String allowed) {
        for (String m : allowed.split(", ")) {
            if (m.equals(method)) {
                return;
            }
        }
        throw new HttpError(405, "method " + method + " not allowed here (allowed: " + allowed + ")", allowed);
    }

    private void sendResource(HttpExchange ex, String name, String type) throws IOException {
        try (InputStream in = AdminServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new HttpError(404, "missing resource " + name);
            }
            ex.getResponseHeaders().set("Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
            send(ex, 200, type, in.readAllBytes());
        }
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        send(ex, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        boolean head = ex.getRequestMethod().equalsIgnoreCase("HEAD");
        ex.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private void sendError(HttpExchange ex, int status, String message, String allow) throws IOException {
        if (allow != null) {
            ex.getResponseHeaders().set("Allow", allow);
        }
        send(ex, status, JSON, "{\"error\":" + Json.quote(message) + ",\"status\":" + status + "}");
    }

    /** A response other than 200, thrown from anywhere in a handler. */
    private static final class HttpError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final String allow;

        HttpError(int status, String message) {
            this(status, message, null);
        }

        HttpError(int status, String message, String allow) {
            super(message, null, false, false);
            this.status = status;
            this.allow = allow;
        }
    }
}

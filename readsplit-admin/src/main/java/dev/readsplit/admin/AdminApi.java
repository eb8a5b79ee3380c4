package dev.readsplit.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.readsplit.config.ConfigException;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Secret;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.metrics.NodeStatus;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.topology.NodeView;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The admin endpoints, free of any HTTP library: a {@link Request} in, a {@link Response} out (see
 * {@link AdminServer} for the table of endpoints). Probes and static files are answered at once on the calling
 * (I/O) thread; everything that reads or changes the data source runs on the bounded worker executor, and when
 * its queue is full the answer is 503 with {@code Retry-After}; {@code /readyz} runs its node checks on the
 * {@link ReadinessCheck}'s own threads. {@code HEAD} is accepted wherever {@code GET} is.
 */
final class AdminApi {

    private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
    static final String JSON = "application/json; charset=utf-8";
    private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
    static final String CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
            + " connect-src 'self'; frame-ancestors 'none'";

    /** Thrown by the worker pool when its queue is full; stackless, shared (it carries no state). */
    static final RejectedExecutionException BUSY = new RejectedExecutionException("busy") {
        private static final long serialVersionUID = 1L;

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    };

    /** A complete request: method upper-case, raw path without the query, one value per header (lower-case). */
    record Request(String method, String path, Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    /** A complete response; {@code headers} are added to the defaults. */
    record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
        static Response json(int status, byte[] body) {
            return new Response(status, JSON, body, Map.of());
        }
    }

    private final ReadsplitDataSource ds;
    private final AdminOptions options;
    private final PrometheusMeterRegistry registry;
    private final Executor workers;
    private final ReadinessCheck readiness;
    private final History history;
    private final ObjectMapper json;
    private final byte[] tokenDigest;
    private final Map<String, byte[]> resources = new LinkedHashMap<>();
    private final Response busy;

    AdminApi(ReadsplitDataSource ds, AdminOptions options, PrometheusMeterRegistry registry, Executor workers,
             ReadinessCheck readiness, History history, ObjectMapper json) {
        this.ds = ds;
        this.options = options;
        this.registry = registry;
        this.workers = workers;
        this.readiness = readiness;
        this.history = history;
        this.json = json;
        Secret token = ds.config().adminToken();
        this.tokenDigest = token == null || token.isEmpty() ? null : sha256(token.reveal());
        for (String name : List.of("dashboard.html", "dashboard.js", "dashboard.css")) {
            resources.put(name, resource(name));
        }
        Response b = errorResponse(503, ds.name() + ": the admin server is busy (" + options.queue()
                + " requests waiting for " + options.threads() + " workers); retry shortly", null);
        this.busy = new Response(503, b.contentType(), b.body(), Map.of("Retry-After", "1"));
    }

    boolean mutationsEnabled() {
        return tokenDigest != null;
    }

    // ---------------------------------------------------------------------------------------------
    // dispatch

    /** The response to {@code r}; completes exceptionally never (errors become JSON responses). */
    CompletableFuture<Response> handle(Request r) {
        try {
            return dispatch(r).exceptionally(e -> error(e instanceof java.util.concurrent.CompletionException
                    && e.getCause() != null ? e.getCause() : e, r));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(error(e, r));
        }
    }

    private Response error(Throwable e, Request r) {
        if (e instanceof HttpError h) {
            Response base = errorResponse(h.status, h.getMessage(), h.allow);
            Map<String, String> headers = new LinkedHashMap<>(base.headers());
            headers.putAll(h.headers());
            return new Response(base.status(), base.contentType(), base.body(), headers);
        }
        if (e instanceof ReplicaRequest.BadRequest b) {
            return errorResponse(400, b.getMessage(), null);
        }
        if (e instanceof RejectedExecutionException) {
            return busy;
        }
        log.warn("{}: admin request {} {} failed", ds.name(), r.method(), r.path(), e);
        return errorResponse(500, "internal error: " + e.getClass().getSimpleName(), null);
    }

    private CompletableFuture<Response> dispatch(Request r) {
        String method = r.method();
        String path = r.path();
        if (path.length() > 1 && path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        switch (path) {
            case "", "/", "/index.html":
                return now(() -> staticFile(method, "dashboard.html", "text/html; charset=utf-8"));
            case "/dashboard.js":
                return now(() -> staticFile(method, "dashboard.js", "text/javascript; charset=utf-8"));
            case "/dashboard.css":
                return now(() -> staticFile(method, "dashboard.css", "text/css; charset=utf-8"));
            case "/healthz":
                allow(method, "GET, HEAD");
                return CompletableFuture.completedFuture(Response.json(200, bytes("{\"status\":\"ok\"}")));
            case "/readyz":
                allow(method, "GET, HEAD");
                return readiness.check().thenApply(this::readyz);
            case "/replicas", "/health/replicas":
                if (method.equals("POST") && path.equals("/replicas")) {
                    authorize(r);
                    return work(() -> addReplica(r));
                }
                allow(method, path.equals("/replicas") ? "GET, HEAD, POST" : "GET, HEAD");
                return work(() -> Response.json(200, bytes(StatusSnapshot.of(ds).toJson())));
            case "/stats":
                allow(method, "GET, HEAD");
                return work(() -> Response.json(200, write(stats(StatusSnapshot.of(ds)))));
            case "/history":
                allow(method, "GET, HEAD");
                return work(() -> Response.json(200, write(historyJson())));
            case "/events":
                allow(method, "GET, HEAD");
                return work(() -> Response.json(200, bytes(StatusSnapshot.of(ds).eventsJson())));
            case "/proxy":
                allow(method, "GET, HEAD");
                if (options.proxyStatus() == null) {
                    throw new HttpError(404, ds.name() + ": no readsplit proxy runs with this admin server");
                }
                return work(() -> Response.json(200, bytes(options.proxyStatus().get())));
            case "/metrics":
                allow(method, "GET, HEAD");
                return work(() -> new Response(200, PROMETHEUS, bytes(registry.scrape()), Map.of()));
            case "/shadow-mode":
                if (method.equals("POST")) {
                    authorize(r);
                    return work(() -> shadowMode(r));
                }
                allow(method, "GET, HEAD, POST");
                return work(() -> Response.json(200, write(shadowJson())));
            default:
                return replicaPath(r, method, path);
        }
    }

    private static CompletableFuture<Response> now(Supplier<Response> s) {
        return CompletableFuture.completedFuture(s.get());
    }

    /** On a worker; a full queue is a 503 (see {@link #error}). */
    private CompletableFuture<Response> work(Supplier<Response> s) {
        return CompletableFuture.supplyAsync(s, workers);
    }

    /** {@code /replicas/{name}/drain} and {@code /replicas/{name}}. */
    private CompletableFuture<Response> replicaPath(Request r, String method, String path) {
        if (!path.startsWith("/replicas/")) {
            throw new HttpError(404, "no such endpoint: " + ReplicaRequest.printable(path));
        }
        String rest = path.substring("/replicas/".length());
        boolean drain = rest.endsWith("/drain");
        String raw = drain ? rest.substring(0, rest.length() - "/drain".length()) : rest;
        if (raw.isEmpty() || raw.contains("/")) {
            throw new HttpError(404, "no such endpoint: " + ReplicaRequest.printable(path));
        }
        String name;
        try {
            name = URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new HttpError(400, "malformed %-escape in the node name");
        }
        allow(method, drain ? "POST" : "DELETE");
        authorize(r);
        return work(() -> {
            requireNode(name);
            ObjectNode o = json.createObjectNode().put("node", name);
            if (drain) {
                boolean quiet = mutate(() -> ds.drainReplica(name, options.drainTimeout()));
                o.put("state", "DRAINING").put("poolClosed", true).put("quiet", quiet);
            } else {
                boolean quiet = mutate(() -> ds.removeReplica(name, options.drainTimeout()));
                o.put("removed", true).put("quiet", quiet);
            }
            return Response.json(200, write(o));
        });
    }

    private void requireNode(String name) {
        if (ds.topology().node(name) == null) {
            throw new HttpError(404, ds.name() + ": no node named " + ReplicaRequest.printable(name));
        }
    }

    private static <T> T mutate(Supplier<T> op) {
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

    private Response staticFile(String method, String name, String type) {
        allow(method, "GET, HEAD");
        return new Response(200, type, resources.get(name), Map.of("Content-Security-Policy", CSP));
    }

    private Response readyz(ReadinessCheck.Result result) {
        ObjectNode o = json.createObjectNode()
                .put("status", result.ready() ? "ready" : "not ready")
                .put("readiness", readiness.policy().label())
                .put("primary", ds.topology().primary().name());
        if (result.reason() != null) {
            o.put("reason", result.reason());
        }
        o.put("healthyReplicas", result.healthyReplicas());
        ArrayNode nodes = o.putArray("nodes");
        for (ReadinessCheck.NodeAnswer a : result.nodes()) {
            ObjectNode n = nodes.addObject().put("name", a.name()).put("role", a.role()).put("answered", a.answered());
            if (a.inRecovery() == null) {
                n.putNull("inRecovery");
            } else {
                n.put("inRecovery", a.inRecovery());
            }
            n.put("millis", a.millis()).put("error", a.error());
        }
        return Response.json(result.ready() ? 200 : 503, write(o));
    }

    /**
     * Seed 002's {@code get_replica_stats()}: {@code primary} and {@code replica} (every replica taking reads
     * summed) with {@code connections} (open) and {@code available} (takeable without waiting); {@code replicas}
     * adds each replica on its own.
     */
    ObjectNode stats(StatusSnapshot s) {
        ObjectNode o = json.createObjectNode();
        int rc = 0;
        int ra = 0;
        ObjectNode each = json.createObjectNode();
        for (NodeStatus n : s.nodes()) {
            ObjectNode pool = json.createObjectNode().put("connections", n.pool().connections())
                    .put("available", n.pool().available());
            if (n.primary()) {
                o.set("primary", pool);
            } else {
                pool.put("state", n.state().name());
                each.set(n.name(), pool);
                if (n.state().name().equals("UP") || n.state().name().equals("SUSPECT")) {
                    rc += n.pool().connections();
                    ra += n.pool().available();
                }
            }
        }
        o.set("replica", json.createObjectNode().put("connections", rc).put("available", ra));
        o.set("replicas", each);
        return o;
    }

    private ObjectNode historyJson() {
        ReadsplitConfig c = ds.config();
        ObjectNode o = json.createObjectNode().put("intervalMillis", 1000).put("capacity", options.historySize());
        ObjectNode thresholds = o.putObject("lagThresholdsSeconds");
        thresholds.put("maxLag", c.lag().maxLag() == null ? null : c.lag().maxLag().toMillis() / 1000.0);
        thresholds.put("info", c.lag().alertInfo().toMillis() / 1000.0);
        thresholds.put("warning", c.lag().alertWarning().toMillis() / 1000.0);
        thresholds.put("error", c.lag().alertError().toMillis() / 1000.0);
        thresholds.put("critical", c.lag().alertCritical().toMillis() / 1000.0);
        ArrayNode nodes = o.putArray("nodes");
        for (History.Series s : history.snapshot()) {
            ObjectNode n = nodes.addObject().put("name", s.name()).put("role", s.role()).put("primary", s.primary());
            ArrayNode points = n.putArray("points");
            for (History.Point p : s.points()) {
                ArrayNode a = points.addArray().add(p.atMillis());
                number(a, p.readsPerSecond());
                number(a, p.writesPerSecond());
                number(a, p.p99Millis());
                if (p.lagBytes() < 0) {
                    a.addNull();
                } else {
                    a.add(p.lagBytes());
                }
                number(a, p.lagSeconds());
                a.add(p.state());
            }
        }
        o.putArray("columns").add("at").add("readsPerSecond").add("writesPerSecond").add("p99Millis")
                .add("lagBytes").add("lagSeconds").add("state");
        return o;
    }

    private static void number(ArrayNode a, double v) {
        if (v < 0 || Double.isNaN(v)) {
            a.addNull();
        } else {
            a.add(Math.round(v * 1000) / 1000.0);
        }
    }

    private Response addReplica(Request r) {
        NodeConfig node = ReplicaRequest.parse(json, r.body());
        String name = mutate(() -> ds.addReplica(node));
        NodeView added = ds.topology().node(name);
        ObjectNode o = json.createObjectNode().put("node", name)
                .put("state", added == null ? "REMOVED" : added.state().name())
                .put("message", "takes reads once its health checks pass");
        return Response.json(201, write(o));
    }

    private Response shadowMode(Request r) {
        String value = new String(r.body(), StandardCharsets.UTF_8).trim().toLowerCase(Locale.ROOT);
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
        return Response.json(200, write(shadowJson()));
    }

    private ObjectNode shadowJson() {
        ObjectNode o = json.createObjectNode().put("shadowMode", ds.shadowMode());
        ObjectNode d = o.putObject("shadowDecisions");
        ds.shadowRouteCounts().forEach((k, v) -> d.put(k.name(), v));
        return o;
    }

    // ---------------------------------------------------------------------------------------------
    // authorization

    /** 403 when no token is configured; 401 when it is missing or wrong (compared in constant time). */
    private void authorize(Request r) {
        if (tokenDigest == null) {
            throw new HttpError(403, ds.name() + ": mutations are disabled: no admin token is configured"
                    + " (set readsplit.adminToken)");
        }
        String header = r.header("Authorization");
        String presented = null;
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            presented = header.substring(7).trim();
        }
        // digests have a fixed length, so the comparison time does not depend on the presented token either
        byte[] digest = sha256(presented == null ? "" : presented);
        if (!MessageDigest.isEqual(digest, tokenDigest) || presented == null) {
            throw new HttpError(401, ds.name() + ": " + (presented == null
                    ? "an 'Authorization: Bearer <admin token>' header is required" : "wrong admin token"))
                    .with("WWW-Authenticate", "Bearer realm=\"readsplit\"");
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
    // helpers

    private static void allow(String method, String allowed) {
        for (String m : allowed.split(", ")) {
            if (m.equals(method)) {
                return;
            }
        }
        throw new HttpError(405, "method " + ReplicaRequest.printable(method) + " not allowed here (allowed: "
                + allowed + ")", allowed);
    }

    Response errorResponse(int status, String message, String allow) {
        ObjectNode o = json.createObjectNode().put("error", message).put("status", status);
        Map<String, String> headers = allow == null ? Map.of() : Map.of("Allow", allow);
        return new Response(status, JSON, write(o), headers);
    }

    private byte[] write(Object tree) {
        try {
            return json.writeValueAsBytes(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] resource(String name) {
        try (InputStream in = AdminApi.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("readsplit-admin is missing its resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A response other than 2xx, thrown from anywhere in a handler. */
    static final class HttpError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;
        final String allow;
        private transient Map<String, String> headers = Map.of();

        HttpError(int status, String message) {
            this(status, message, null);
        }

        HttpError(int status, String message, String allow) {
            super(message, null, false, false);
            this.status = status;
            this.allow = allow;
        }

        HttpError with(String header, String value) {
            this.headers = Map.of(header, value);
            return this;
        }

        Map<String, String> headers() {
            return headers;
        }
    }
}

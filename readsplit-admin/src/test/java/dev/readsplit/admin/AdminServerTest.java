package dev.readsplit.admin;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The admin server's HTTP contract against a data source whose nodes refuse connections (no database):
 * status codes, authorization, request validation, content types, threads, close.
 */
class AdminServerTest {

    private static final String PASSWORD = "pw-Admin-unit-55aa";
    private static final String TOKEN = "tok-Admin-unit-c0ffee";

    private ReadsplitDataSource ds;
    private AdminServer server;

    private void start(String token, AdminOptions options) throws IOException {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("adm")
                .primary("127.0.0.1", closedPort()).addReplica("127.0.0.1", closedPort())
                .database("app").user("app").password(PASSWORD)
                .healthCheckInterval(Duration.ofMillis(200)).connectionTimeout(Duration.ofMillis(250));
        if (token != null) {
            b.adminToken(token);
        }
        ds = new ReadsplitDataSource(b.build());
        server = AdminServer.start(ds, options);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (ds != null) {
            ds.close();
        }
    }

    @Test
    void bindsToLoopbackOnAnEphemeralPortByDefault() throws IOException {
        start(TOKEN, AdminOptions.defaults());
        assertThat(server.port()).isPositive();
        assertThat(server.address().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        assertThat(server.uri().toString()).isEqualTo("http://127.0.0.1:" + server.port() + "/");
    }

    @Test
    void healthzIsAliveAndReadyzIs503WithoutAReachablePrimary() throws IOException {
        start(TOKEN, AdminOptions.defaults());
        Http http = new Http(server.uri());
        HttpResponse<String> healthz = http.get("/healthz");
        assertThat(healthz.statusCode()).isEqualTo(200);
        assertThat(healthz.body()).isEqualTo("{\"status\":\"ok\"}");
        HttpResponse<String> readyz = http.get("/readyz");
        assertThat(readyz.statusCode()).isEqualTo(503);
        assertThat(readyz.body()).contains("\"status\":\"not ready\"", "\"reason\":\"primary ");
    }

    @Test
    void mutationsAreDisabledWithoutAConfiguredToken() throws IOException {
        start(null, AdminOptions.defaults());
        Http http = new Http(server.uri());
        HttpResponse<String> r = http.post("/shadow-mode", "on", "anything");
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).contains("mutations are disabled: no admin token is configured");
        assertThat(http.delete("/replicas/x", null).statusCode()).isEqualTo(403);
        assertThat(ds.shadowMode()).isFalse();
    }

    @Test
    void mutationsNeedTheRightBearerToken() throws IOException {
        start(TOKEN, AdminOptions.defaults());
        Http http = new Http(server.uri());
        HttpResponse<String> missing = http.post("/shadow-mode", "on", null);
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"readsplit\"");
        assertThat(http.post("/shadow-mode", "on", TOKEN + "x").statusCode()).isEqualTo(401);
        assertThat(http.post("/shadow-mode", "on", TOKEN.substring(1)).statusCode()).isEqualTo(401);
        assertThat(http.post("/replicas", "{\"host\":\"127.0.0.1\",\"port\":1}", "wrong").statusCode()).isEqualTo(401);
        assertThat(ds.shadowMode()).isFalse();
        assertThat(ds.topology().nodes()).hasSize(2);

        HttpResponse<String> on = http.post("/shadow-mode", "on", TOKEN);
        assertThat(on.statusCode()).isEqualTo(200);
        assertThat(on.body()).startsWith("{\"shadowMode\":true");
        assertThat(ds.shadowMode()).isTrue();
        assertThat(http.post("/shadow-mode", "off", TOKEN).body()).startsWith("{\"shadowMode\":false");
        assertThat(http.post("/shadow-mode", "maybe", TOKEN).statusCode()).isEqualTo(400);
        assertNoSecrets(http);
    }

    @Test
    void validatesRequestsAndAnswersWithJsonErrors() throws IOException {
        start(TOKEN, AdminOptions.defaults());
        Http http = new Http(server.uri());
        assertThat(http.get("/nope").statusCode()).isEqualTo(404);
        HttpResponse<String> wrongMethod = http.delete("/metrics", TOKEN);
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("GET");
        assertThat(http.post("/replicas", "{\"host\":", TOKEN).body())
                .contains("malformed JSON at position 8");
        assertThat(http.post("/replicas", "{\"host\":\"h\",\"colour\":\"red\"}", TOKEN).body())
                .contains("unknown field 'colour'");
        assertThat(http.post("/replicas", "{\"port\":5432}", TOKEN).statusCode()).isEqualTo(400);
        assertThat(http.post("/replicas", "{\"host\":\"h\",\"port\":70000}", TOKEN).statusCode()).isEqualTo(400);
        assertThat(http.post("/replicas/nope/drain", "", TOKEN).statusCode()).isEqualTo(404);
        String primary = ds.topology().primary().name();
        HttpResponse<String> drainPrimary = http.post("/replicas/" + primary + "/drain", "", TOKEN);
        assertThat(drainPrimary.statusCode()).isEqualTo(409);
        assertThat(drainPrimary.body()).contains("is the primary");

        HttpResponse<String> added = http.post("/replicas",
                "{\"host\":\"127.0.0.1\",\"port\":" + closedPort() + ",\"name\":\"r9\",\"password\":\"" + PASSWORD + "\"}",
                TOKEN);
        assertThat(added.statusCode()).isEqualTo(201);
        assertThat(added.body()).startsWith("{\"node\":\"r9\",\"state\":\"SUSPECT\"");
        assertThat(http.post("/replicas", "{\"host\":\"127.0.0.1\",\"port\":1,\"name\":\"r9\"}", TOKEN).statusCode())
                .isEqualTo(409);
        HttpResponse<String> removed = http.delete("/replicas/r9", TOKEN);
        assertThat(removed.statusCode()).isEqualTo(200);
        assertThat(removed.body()).isEqualTo("{\"node\":\"r9\",\"removed\":true,\"quiet\":true}");
        assertNoSecrets(http);
    }

    @Test
    void servesStatusMetricsAndTheDashboard() throws IOException {
        start(TOKEN, AdminOptions.defaults());
        Http http = new Http(server.uri());
        HttpResponse<String> replicas = http.get("/replicas");
        assertThat(replicas.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(replicas.body()).startsWith("{\"status\":").contains("\"nodes\":[");
        assertThat(http.get("/health/replicas").body()).contains("\"dataSource\":\"adm\"");
        assertThat(http.get("/events").body()).startsWith("[");
        HttpResponse<String> metrics = http.get("/metrics");
        assertThat(metrics.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/plain; version=0.0.4");
        assertThat(metrics.body()).contains("readsplit_queries_total{datasource=\"adm\",kind=\"read\",node=",
                "readsplit_route_decisions_total{datasource=\"adm\",reason=\"WRITE\"}",
                "readsplit_pool_connections{datasource=\"adm\",node=", "readsplit_replicas{datasource=\"adm\"}");
        HttpResponse<String> page = http.get("/");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'self'");
        assertThat(page.body()).contains("<script src=\"dashboard.js\"></script>").doesNotContain("http://", "https://");
        assertThat(http.get("/dashboard.js").body()).contains("setTimeout(poll, POLL_MS)");
        assertNoSecrets(http);
    }

    @Test
    void namesItsThreadsAndStopsOnClose() throws IOException {
        start(TOKEN, AdminOptions.builder().threads(2).build());
        Http http = new Http(server.uri());
        http.get("/healthz");
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .anyMatch(n -> n.startsWith("readsplit-admin-adm-"));
        server.close();
        assertThrows(java.io.UncheckedIOException.class, () -> http.get("/healthz"));
        server.close(); // idempotent
    }

    @Test
    void optionsRejectBadValues() {
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().port(-1));
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().bindAddress(" "));
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().threads(0));
    }

    private static void assertNoSecrets(Http http) {
        for (String s : http.seen) {
            assertThat(s).doesNotContain(PASSWORD).doesNotContain(TOKEN);
        }
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

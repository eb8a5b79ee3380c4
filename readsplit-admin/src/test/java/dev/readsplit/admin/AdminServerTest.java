package dev.readsplit.admin;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.stream.Stream;

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
        assertThat(wrongMethod.headers().firstValue("Allow")).hasValue("GET, HEAD");
        HttpResponse<String> truncated = http.post("/replicas", "{\"host\":", TOKEN);
        assertThat(truncated.statusCode()).isEqualTo(400);
        assertThat(truncated.body()).contains("malformed JSON at line 1, column 9");
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
    void headIsAnsweredWhereverGetIs() throws IOException {
        start(TOKEN, AdminOptions.defaults());
        Http http = new Http(server.uri());
        HttpResponse<String> healthz = http.head("/healthz");
        assertThat(healthz.statusCode()).isEqualTo(200);
        assertThat(healthz.body()).isEmpty();
        assertThat(healthz.headers().firstValue("Content-Length")).hasValue("15");
        assertThat(http.head("/readyz").statusCode()).isEqualTo(503);
        assertThat(http.head("/").statusCode()).isEqualTo(200);
        assertThat(http.head("/replicas").statusCode()).isEqualTo(200);
        assertThat(http.head("/metrics").statusCode()).isEqualTo(200);
        assertThat(http.head("/stats").statusCode()).isEqualTo(200);
        assertThat(http.head("/nope").statusCode()).isEqualTo(404);
    }

    /** Each refused body: the status is 400 and the message names what was wrong. */
    static Stream<Arguments> badReplicaBodies() {
        return Stream.of(
                Arguments.of("{\"host\":\"db\\u0000x\"}", "host must be a host name"),
                Arguments.of("{\"host\":\"db x\"}", "host must"),
                Arguments.of("{\"host\":\"db/x\"}", "host must"),
                Arguments.of("{\"host\":\"\"}", "host must be 1..253 characters"),
                Arguments.of("{\"host\":\"" + "a".repeat(64) + ".example\"}", "host must be a host name"),
                Arguments.of("{\"host\":\"" + "a.".repeat(127) + "aa\"}", "host must be 1..253 characters"),
                Arguments.of("{\"host\":\"-db\"}", "host must be a host name"),
                Arguments.of("{\"host\":\"300.1.1.1\"}", "not a valid IPv4 address"),
                Arguments.of("{\"host\":\"fe80::zz\"}", "not a valid IPv6 address"),
                Arguments.of("{\"host\":\"d\u00e9b\"}", "host must be a host name"),
                Arguments.of("{\"host\":\"db\",\"host\":\"other\"}", "duplicate field 'host'"),
                Arguments.of("{\"host\":\"db\",\"name\":\"a\",\"name\":\"b\"}", "duplicate field 'name'"),
                Arguments.of("{\"host\":\"db\",\"name\":\"" + "n".repeat(65) + "\"}", "name must be 1..64"),
                Arguments.of("{\"host\":\"db\",\"name\":\"a b\"}", "name must be 1..64"),
                Arguments.of("{\"host\":\"db\",\"name\":\"<img>\"}", "name must be 1..64"),
                Arguments.of("{\"host\":\"db\",\"name\":\"\"}", "name must be 1..64"),
                Arguments.of("{\"host\":\"db\",\"zone\":\"eu west\"}", "zone must be 1..64"),
                Arguments.of("{\"host\":\"db\",\"port\":0}", "port must be in 1..65535: 0"),
                Arguments.of("{\"host\":\"db\",\"port\":99999999999}", "port must be in 1..65535"),
                Arguments.of("{\"host\":\"db\",\"port\":1.5}", "port must be an integer"),
                Arguments.of("{\"host\":\"db\",\"weight\":0}", "weight must be in 1..10000"),
                Arguments.of("{\"host\":\"db\",\"user\":\"" + "u".repeat(64) + "\"}", "user must be at most 63"),
                Arguments.of("{\"host\":\"db\",\"database\":\"a\\nb\"}", "database must not contain a control"),
                Arguments.of("{\"host\":\"db\",\"password\":\"p\\u0000w\"}", "password must not contain a control"),
                Arguments.of("{\"host\":7}", "host must be a string"),
                Arguments.of("{\"port\":5432}", "host: required"),
                Arguments.of("[\"db\"]", "body must be a JSON object"),
                Arguments.of("{\"host\":\"db\",\"colour\":\"red\"}", "unknown field 'colour'"));
    }

    @ParameterizedTest
    @MethodSource("badReplicaBodies")
    void replicaBodiesAreCheckedFieldByField(String body, String message) throws IOException {
        if (server == null) {
            start(TOKEN, AdminOptions.defaults());
        }
        Http http = new Http(server.uri());
        HttpResponse<String> r = http.post("/replicas", body, TOKEN);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(r.body()).contains(message).doesNotContain("\\u0000w");
        assertThat(ds.topology().nodes()).hasSize(2);
        assertThat(http.get("/metrics").body()).doesNotContain("\u0000");
    }

    @Test
    void invalidUtf8IsRefusedAndNothingIsAdded() throws IOException {
        start(TOKEN, AdminOptions.defaults());
        Http http = new Http(server.uri());
        byte[] prefix = "{\"host\":\"db".getBytes(StandardCharsets.US_ASCII);
        byte[] suffix = "\"}".getBytes(StandardCharsets.US_ASCII);
        for (byte[] bad : new byte[][] {{(byte) 0xff}, {(byte) 0xc3}, {(byte) 0xed, (byte) 0xa0, (byte) 0x80}}) {
            byte[] body = new byte[prefix.length + bad.length + suffix.length];
            System.arraycopy(prefix, 0, body, 0, prefix.length);
            System.arraycopy(bad, 0, body, prefix.length, bad.length);
            System.arraycopy(suffix, 0, body, prefix.length + bad.length, suffix.length);
            HttpResponse<String> r = http.postBytes("/replicas", body, TOKEN);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        }
        assertThat(ds.topology().nodes()).hasSize(2);
    }

    @Test
    void acceptsEveryValidHostFormAndHostileButValidNames() throws IOException {
        start(TOKEN, AdminOptions.defaults());
        Http http = new Http(server.uri());
        String[][] ok = {{"db-3.internal.example", "__proto__"}, {"10.0.0.7", "constructor"}, {"::1", "toString"},
            {"[fe80::1]", "hasOwnProperty"}, {"replica_4", "[::1]:5432"}, {"localhost.", "a.b:c@d-e_f"}};
        for (String[] hostAndName : ok) {
            HttpResponse<String> r = http.post("/replicas", "{\"host\":\"" + hostAndName[0] + "\",\"port\":"
                    + closedPort() + ",\"name\":\"" + hostAndName[1] + "\"}", TOKEN);
            assertThat(r.statusCode()).as(hostAndName[0] + " " + r.body()).isEqualTo(201);
        }
        assertThat(ds.topology().node("__proto__")).isNotNull();
        assertThat(http.get("/replicas").body()).contains("\"name\":\"__proto__\"", "\"name\":\"constructor\"");
    }

    @Test
    void statsHaveSeed002sShape() throws IOException {
        start(TOKEN, AdminOptions.defaults());
        Http http = new Http(server.uri());
        JsonNode stats = new ObjectMapper().readTree(http.get("/stats").body());
        assertThat(stats.path("primary").path("connections").isInt()).as(stats.toString()).isTrue();
        assertThat(stats.path("primary").path("available").isInt()).isTrue();
        assertThat(stats.path("replica").path("connections").isInt()).isTrue();
        assertThat(stats.path("replica").path("available").isInt()).isTrue();
        String replica = ds.topology().replicas().get(0).name();
        assertThat(stats.path("replicas").path(replica).path("state").asText()).isNotEmpty();
        // the pool sizes are the configured maxima when nothing is borrowed
        assertThat(stats.path("primary").path("available").asInt()).isEqualTo(ds.topology().primary().poolStats().max());
    }

    @Test
    void readyzNamesThePolicyAndEachNodesAnswer() throws IOException {
        start(TOKEN, AdminOptions.builder().readiness(AdminOptions.Readiness.ALL).build());
        Http http = new Http(server.uri());
        JsonNode r = new ObjectMapper().readTree(http.get("/readyz").body());
        assertThat(r.path("readiness").asText()).isEqualTo("all");
        assertThat(r.path("nodes")).hasSize(2);
        assertThat(r.path("nodes").get(0).path("answered").asBoolean()).isFalse();
        assertThat(r.path("nodes").get(0).path("error").asText()).contains("refused");
        assertThat(r.path("reason").asText()).startsWith("primary ").contains("does not answer");
        assertThat(AdminOptions.Readiness.parse("primary-and-replica")).isEqualTo(AdminOptions.Readiness.PRIMARY_AND_REPLICA);
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.Readiness.parse("sometimes"));
    }

    @Test
    void optionsRejectBadValues() {
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().port(-1));
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().bindAddress(" "));
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().threads(0));
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().queue(0));
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().maxConnections(0));
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().readTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().idleTimeout(Duration.ofDays(2)));
        assertThrows(IllegalArgumentException.class, () -> AdminOptions.builder().readinessTimeout(null));
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

package dev.readsplit.spring.boot.it.jdbc;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.spring.boot.PrimaryDataSource;
import dev.readsplit.spring.boot.TestClusters;
import io.micrometer.core.instrument.MeterRegistry;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A whole Boot application on a real cluster (primary + 2 standbys), configured by readsplit.* properties only:
 * placement of read-only and read-write service methods asked of the server, a Flyway migration through Boot,
 * health details, probes, info, metrics and the operator endpoint over a real HTTP port.
 */
@SpringBootTest(classes = JdbcApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadsplitBootIT {

    private static EmbeddedCluster cluster;

    @DynamicPropertySource
    static void cluster(DynamicPropertyRegistry registry) {
        cluster = EmbeddedCluster.builder().standbys(2).start();
        for (String p : TestClusters.readsplitProperties(cluster)) {
            int eq = p.indexOf('=');
            registry.add(p.substring(0, eq), () -> p.substring(eq + 1));
        }
        registry.add("spring.flyway.locations", () -> "classpath:db/boot-it");
        registry.add("spring.liquibase.enabled", () -> "false");
        registry.add("management.endpoints.web.exposure.include", () -> "health,info,readsplit");
        registry.add("management.endpoint.health.show-details", () -> "always");
        registry.add("management.endpoint.health.show-components", () -> "always");
        registry.add("management.endpoint.readsplit.access", () -> "unrestricted");
        registry.add("management.info.readsplit.enabled", () -> "true");
    }

    /** The context closes after this (DirtiesContext); its pools then close against stopped servers, harmlessly. */
    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Value("${local.server.port}")
    int port;
    @Autowired
    ReadsplitDataSource readsplit;
    @Autowired
    JdbcApp.PlacementService service;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    MeterRegistry registry;
    @Autowired
    Flyway flyway;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HttpResponse<String> send(String method, String path, String json) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30));
        if (json == null) {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Set<Integer> standbyPorts() {
        return cluster.standbys().stream().map(EmbeddedNode::port).collect(java.util.stream.Collectors.toSet());
    }

    @Test
    @Order(1)
    void readOnlyServiceMethodsRunOnAReplicaAndWritesOnThePrimary() {
        TestClusters.awaitAllUp(readsplit);
        for (int i = 0; i < 10; i++) {
            JdbcApp.Placement ro = service.readOnly();
            assertThat(ro.inRecovery()).as("read-only transaction on a standby").isTrue();
            assertThat(standbyPorts()).contains(ro.port());
            JdbcApp.Placement rw = service.readWrite("w" + i);
            assertThat(rw.inRecovery()).as("read-write transaction on the primary").isFalse();
            assertThat(rw.port()).isEqualTo(cluster.primary().port());
        }
        Integer written = jdbc.queryForObject("SELECT count(*) FROM notes WHERE body LIKE 'w%' "
                + "AND origin_port = " + cluster.primary().port() + " AND NOT origin_recovery", Integer.class);
        assertThat(written).isEqualTo(10);
    }

    @Test
    @Order(2)
    void springDataJdbcRepositoriesWork() {
        JdbcApp.NoteRow row = service.saveAndFind("via-data-jdbc");
        assertThat(row.id()).isNotNull();
        assertThat(row.body()).isEqualTo("via-data-jdbc");
        // a read-only repository call right after the write, on the same thread: the thread scope sees it
        assertThat(service.countRows()).isGreaterThanOrEqualTo(12);
    }

    @Test
    @Order(2)
    void flywayMigratedThroughThePrimary() throws Exception {
        assertThat(flyway.getConfiguration().getDataSource()).isInstanceOf(PrimaryDataSource.class);
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM flyway_schema_history WHERE success")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
            try (ResultSet rs = s.executeQuery("SELECT origin_port, origin_recovery FROM notes WHERE body = 'seed'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(cluster.primary().port());
                assertThat(rs.getBoolean(2)).isFalse();
            }
        }
    }

    @Test
    @Order(3)
    void healthDetailsPerNodeOverHttpWithoutSecrets() throws Exception {
        TestClusters.awaitAllUp(readsplit);
        HttpResponse<String> r = send("GET", "/actuator/health/readsplit", null);
        assertThat(r.statusCode()).isEqualTo(200);
        String body = r.body();
        assertThat(body).contains("\"primary\"", "\"replicas\"", "\"nodes\"", "\"role\":\"PRIMARY\"",
                "\"role\":\"REPLICA\"", "\"state\":\"UP\"", "\"lagBytes\"", "\"lagSeconds\"");
        for (EmbeddedNode n : cluster.nodes()) {
            assertThat(body).contains("\"port\":" + n.port());
        }
        if (cluster.password() != null) {
            assertThat(body).doesNotContain(cluster.password());
        }
        HttpResponse<String> readiness = send("GET", "/actuator/health/readiness", null);
        assertThat(readiness.statusCode()).isEqualTo(200);
        assertThat(readiness.body()).contains("readsplit");
        HttpResponse<String> liveness = send("GET", "/actuator/health/liveness", null);
        assertThat(liveness.statusCode()).isEqualTo(200);
        assertThat(liveness.body()).doesNotContain("readsplit");
    }

    @Test
    @Order(4)
    void infoStatusEndpointAndMetrics() throws Exception {
        HttpResponse<String> info = send("GET", "/actuator/info", null);
        assertThat(info.statusCode()).isEqualTo(200);
        assertThat(info.body()).contains("\"readsplit\"", "\"dataSource\":\"boot-test\"", "read_your_writes");
        HttpResponse<String> status = send("GET", "/actuator/readsplit", null);
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(status.body()).contains("\"dataSource\":\"boot-test\"", "\"nodes\"", "\"events\"");
        if (cluster.password() != null) {
            assertThat(status.body()).doesNotContain(cluster.password());
            assertThat(info.body()).doesNotContain(cluster.password());
        }
        assertThat(send("GET", "/actuator/readsplit/no-such-node", null).statusCode()).isEqualTo(404);
        assertThat(registry.find("readsplit.replicas").gauge()).isNotNull();
        assertThat(registry.find("readsplit.replicas").gauge().value()).isEqualTo(2.0);
    }

    @Test
    @Order(5)
    void operatorActionsDrainRemoveAndAddAReplica() throws Exception {
        TestClusters.awaitAllUp(readsplit);
        EmbeddedNode standby = cluster.standby(1);
        String name = readsplit.config().replicas().get(1).name();
        HttpResponse<String> bad = send("POST", "/actuator/readsplit/" + name, "{\"action\":\"explode\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        HttpResponse<String> drain = send("POST", "/actuator/readsplit/" + name,
                "{\"action\":\"drain\",\"timeout\":\"5s\"}");
        assertThat(drain.statusCode()).as(drain.body()).isEqualTo(200);
        assertThat(drain.body()).contains("\"quiet\":true");
        for (int i = 0; i < 10; i++) {
            assertThat(service.readOnly().port()).as("no read on the drained replica").isNotEqualTo(standby.port());
        }
        HttpResponse<String> remove = send("DELETE", "/actuator/readsplit/" + name, null);
        assertThat(remove.statusCode()).as(remove.body()).isEqualTo(200);
        assertThat(send("GET", "/actuator/readsplit/" + name, null).statusCode()).isEqualTo(404);
        HttpResponse<String> add = send("POST", "/actuator/readsplit/back",
                "{\"action\":\"add\",\"address\":\"" + standby.host() + ":" + standby.port() + "\"}");
        assertThat(add.statusCode()).as(add.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> send("GET", "/actuator/health/readsplit/nodes/back", null)
                .body().contains("\"status\":\"UP\""));
        await().atMost(Duration.ofSeconds(30)).until(() ->
                List.of(1, 2, 3, 4, 5, 6).stream().anyMatch(i -> service.readOnly().port() == standby.port()));
    }

    @Test
    @Order(6)
    void aReplicaDownIsDegradedAndReadinessHoldsWhileReadsCanFallBack() throws Exception {
        TestClusters.awaitAllUp(readsplit);
        EmbeddedNode down = cluster.standby(0);
        String name = readsplit.config().replicas().get(0).name();
        down.stop();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> send("GET", "/actuator/health/readsplit/nodes/" + name,
                    null).body().contains("\"status\":\"DEGRADED\""));
            // fallback-to-primary is on: reads survive without this replica, so readiness stays UP
            assertThat(send("GET", "/actuator/health/readiness", null).statusCode()).isEqualTo(200);
            HttpResponse<String> replicas = send("GET", "/actuator/health/readsplit/replicas", null);
            assertThat(replicas.body()).contains("\"status\":\"UP\"", "\"minReplicas\":0");
            assertThat(send("GET", "/actuator/health/readsplit", null).statusCode()).isEqualTo(200);
        } finally {
            down.start();
        }
        TestClusters.awaitAllUp(readsplit);
    }

    @Test
    @Order(7)
    void primaryLostMakesReadinessDownButNeverLiveness() throws Exception {
        cluster.primary().stop();
        try {
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    send("GET", "/actuator/health/readiness", null).statusCode() == 503);
            HttpResponse<String> primary = send("GET", "/actuator/health/readsplit/primary", null);
            assertThat(primary.body()).contains("\"status\":\"DOWN\"");
            assertThat(send("GET", "/actuator/health/liveness", null).statusCode()).isEqualTo(200);
        } finally {
            cluster.primary().start();
        }
        await().atMost(Duration.ofSeconds(30)).until(() ->
                send("GET", "/actuator/health/readiness", null).statusCode() == 200);
    }
}

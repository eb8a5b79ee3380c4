package dev.readsplit.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code /readyz} as seed 002 means it (issue 19): primary and replica connectivity, asked of the servers at each
 * probe with a bound, under each {@link AdminOptions.Readiness}; and {@code /stats} in seed 002's
 * {@code get_replica_stats()} shape, on a real 1+2 cluster. Three admin servers share the data source, one per
 * policy.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReadyzIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static AdminServer seed002;
    private static AdminServer primaryOnly;
    private static AdminServer all;

    @BeforeAll
    static void start() {
        cluster = TestClusters.start(2);
        ds = new ReadsplitDataSource(TestClusters.config(cluster).build());
        TestClusters.awaitAllUp(ds);
        seed002 = AdminServer.start(ds); // the default: primary and a replica
        primaryOnly = AdminServer.start(ds, AdminOptions.builder().readiness(AdminOptions.Readiness.PRIMARY).build());
        all = AdminServer.start(ds, AdminOptions.builder().readiness(AdminOptions.Readiness.ALL)
                .readinessTimeout(Duration.ofSeconds(1)).build());
    }

    @AfterAll
    static void stop() {
        for (AdminServer s : new AdminServer[] {seed002, primaryOnly, all}) {
            if (s != null) {
                s.close();
            }
        }
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static JsonNode readyz(AdminServer server, int status) throws Exception {
        HttpResponse<String> r = new Http(server.uri()).get("/readyz");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    @Test
    @Order(1)
    void aHealthyClusterIsReadyUnderEveryPolicyAndEachNodeSaysWhatItIs() throws Exception {
        JsonNode r = readyz(seed002, 200);
        assertThat(r.path("readiness").asText()).isEqualTo("primary-and-replica");
        assertThat(r.path("nodes")).hasSize(3);
        assertThat(r.path("nodes").get(0).path("inRecovery").asBoolean()).isFalse();
        assertThat(r.path("nodes").get(1).path("inRecovery").asBoolean()).isTrue();
        assertThat(r.path("nodes").get(2).path("answered").asBoolean()).isTrue();
        assertThat(readyz(primaryOnly, 200).path("nodes")).hasSize(1);
        assertThat(readyz(all, 200).path("nodes")).hasSize(3);
    }

    @Test
    @Order(2)
    void statsHaveSeed002sShapeWithRealPoolCounts() throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1")) {
            rs.next();
            JsonNode stats = JSON.readTree(new Http(seed002.uri()).get("/stats").body());
            assertThat(stats.path("primary").path("connections").asInt()).isPositive();
            assertThat(stats.path("replica").path("connections").asInt()).isPositive();
            // one replica connection is borrowed now: 'available' of the replicas is below their total maximum
            int max = ds.topology().replicas().stream().mapToInt(n -> n.poolStats().max()).sum();
            assertThat(stats.path("replica").path("available").asInt()).isLessThan(max);
        }
    }

    @Test
    @Order(3)
    void aHungReplicaIsFoundAtTheProbeWithinTheBound() throws Exception {
        EmbeddedNode hung = cluster.standby(0);
        hung.pause();
        try {
            JsonNode r = readyz(all, 503);
            assertThat(r.path("reason").asText()).isEqualTo("replica " + hung.host() + ":" + hung.port()
                    + " does not answer: no answer within 1000 ms");
            // the other replica answers: seed 002's policy is still ready
            readyz(seed002, 200);
        } finally {
            hung.resume();
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> readyz(all, 200));
    }

    @Test
    @Order(4)
    void withNoReplicaAnsweringOnlyThePrimaryPolicyIsReady() throws Exception {
        cluster.standby(0).kill();
        cluster.standby(1).kill();
        JsonNode r = readyz(seed002, 503);
        assertThat(r.path("reason").asText()).isEqualTo("no replica answers (2 configured)");
        // the pool's wait for a connection to a killed server outlasts the readiness bound: the bound answers
        assertThat(r.path("nodes").get(1).path("answered").asBoolean()).isFalse();
        assertThat(r.path("nodes").get(1).path("error").asText()).containsAnyOf("refused", "no answer within 2000 ms");
        readyz(primaryOnly, 200);
        cluster.standby(0).start();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> readyz(seed002, 200));
    }
}

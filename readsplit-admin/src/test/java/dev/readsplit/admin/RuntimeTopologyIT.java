package dev.readsplit.admin;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.RouteReason;
import dev.readsplit.metrics.MetricsSnapshot;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Runtime topology changes through the admin endpoint (which calls the data source's API) on a real 1+2
 * cluster under a concurrent read/write workload: a standby added to the cluster is added to the data source,
 * takes reads only after its checks pass; a configured replica is drained (no new reads, pool closed) and
 * removed; not one query fails. Then shadow mode, the metrics text, and no secret in any output.
 */
class RuntimeTopologyIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static AdminServer server;
    private static Http http;
    private static final List<String> outputs = new ArrayList<>();

    @BeforeAll
    static void start() {
        cluster = TestClusters.start(2);
        TestClusters.exec(cluster.primary(), "CREATE TABLE items (id bigserial PRIMARY KEY, v text)");
        ds = new ReadsplitDataSource(TestClusters.config(cluster).build());
        TestClusters.awaitAllUp(ds);
        server = AdminServer.start(ds, AdminOptions.builder().drainTimeout(Duration.ofSeconds(20)).build());
        http = new Http(server.uri());
    }

    @AfterAll
    static void stop() {
        try {
            if (http != null) {
                outputs.addAll(http.seen);
            }
            for (String out : outputs) {
                assertThat(out).doesNotContain(TestClusters.PASSWORD).doesNotContain(TestClusters.TOKEN);
            }
        } finally {
            if (server != null) {
                server.close();
            }
            if (ds != null) {
                ds.close();
            }
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    @Test
    void addDrainAndRemoveAReplicaUnderLoadWithoutAFailedQuery() throws Exception {
        EmbeddedNode first = cluster.standby(0);
        String firstName = first.host() + ":" + first.port();
        try (Workload load = new Workload(ds, 3)) {
            awaitProgress(load, 100);

            // add: a new standby of the cluster, then of the data source
            EmbeddedNode added = cluster.addStandby();
            HttpResponse<String> post = http.post("/replicas", "{\"host\":\"" + added.host() + "\",\"port\":"
                    + added.port() + ",\"name\":\"added\"}", TestClusters.TOKEN);
            assertThat(post.statusCode()).as(post.body()).isEqualTo(201);
            assertThat(post.body()).startsWith("{\"node\":\"added\",\"state\":\"SUSPECT\"");
            NodeView addedNode = ds.topology().node("added");
            assertThat(addedNode.readsServed()).isZero();
            await().atMost(Duration.ofSeconds(20)).until(() -> addedNode.state() == NodeState.UP);
            await().atMost(Duration.ofSeconds(20)).until(() -> addedNode.readsServed() > 0);
            assertThat(http.get("/replicas").body()).contains("\"name\":\"added\",\"role\":\"REPLICA\"");

            // drain: no new reads, running ones finish, then the pool is closed
            NodeView firstNode = ds.topology().node(firstName);
            await().atMost(Duration.ofSeconds(20)).until(() -> firstNode.readsServed() > 0);
            HttpResponse<String> drain = http.post("/replicas/" + firstName + "/drain", "", TestClusters.TOKEN);
            assertThat(drain.statusCode()).as(drain.body()).isEqualTo(200);
            assertThat(drain.body()).contains("\"state\":\"DRAINING\"", "\"quiet\":true");
            // the pool itself (white-box: the mutable node is internal to core)
            assertThat(dev.readsplit.cluster.Topology.of(ds).node(firstName).pool().isClosed()).isTrue();
            long readsAtDrain = firstNode.readsServed();
            awaitProgress(load, 200);
            assertThat(firstNode.readsServed()).isEqualTo(readsAtDrain);
            assertThat(StatusSnapshot.of(ds).node(firstName).state()).isEqualTo(NodeState.DRAINING);

            // remove: out of the data source, then out of the cluster
            HttpResponse<String> delete = http.delete("/replicas/" + firstName, TestClusters.TOKEN);
            assertThat(delete.statusCode()).as(delete.body()).isEqualTo(200);
            assertThat(ds.topology().node(firstName)).isNull();
            assertThat(http.get("/replicas").body()).doesNotContain("\"name\":\"" + firstName + "\"");
            cluster.removeStandby(first);
            awaitProgress(load, 200);

            assertThat(load.failed.get()).as("failed queries:" + load.describeErrors()).isZero();
        }
        MetricsSnapshot m = MetricsSnapshot.of(ds);
        assertThat(m.replicaCount()).isEqualTo(2);
        assertThat(m.readQueries()).isPositive();
        assertThat(m.writeQueries()).isPositive();
        assertThat(http.get("/events").body()).contains("\"kind\":\"NODE_ADDED\"", "\"kind\":\"NODE_REMOVED\"");
        String metrics = http.get("/metrics").body();
        assertThat(metrics).contains("readsplit_replica_lag_bytes{datasource=\"it\",node=\"added\"}")
                .doesNotContain("node=\"" + firstName + "\"");
        outputs.add(StatusSnapshot.of(ds).toString());
        outputs.add(m.toString());
    }

    @Test
    void shadowModeSendsEverythingToThePrimaryAndRecordsTheDecisions() throws Exception {
        HttpResponse<String> on = http.post("/shadow-mode", "on", TestClusters.TOKEN);
        assertThat(on.statusCode()).isEqualTo(200);
        try {
            long replicaReads = replicaReads();
            long shadowReads = ds.shadowRouteCounts().getOrDefault(RouteReason.READ, 0L);
            for (int i = 0; i < 50; i++) {
                try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM items")) {
                    rs.next();
                }
            }
            assertThat(replicaReads()).isEqualTo(replicaReads);
            assertThat(ds.shadowRouteCounts().get(RouteReason.READ)).isEqualTo(shadowReads + 50);
            assertThat(ds.routeCounts().get(RouteReason.SHADOW)).isGreaterThanOrEqualTo(50);
            assertThat(http.get("/replicas").body()).contains("\"shadowMode\":true");
            assertThat(http.get("/shadow-mode").body()).startsWith("{\"shadowMode\":true,\"shadowDecisions\":{")
                    .contains("\"READ\":");
            String metrics = http.get("/metrics").body();
            assertThat(metrics).contains("readsplit_shadow_mode{datasource=\"it\"} 1.0");
            assertThat(metricValue(metrics, "readsplit_route_shadow_decisions_total{datasource=\"it\",reason=\"READ\"}"))
                    .isGreaterThanOrEqualTo(50);
        } finally {
            assertThat(http.post("/shadow-mode", "off", TestClusters.TOKEN).statusCode()).isEqualTo(200);
        }
        long replicaReads = replicaReads();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT 1")) {
                rs.next();
            }
            return replicaReads() > replicaReads;
        });
    }

    @Test
    void readyzAndStatusOnAHealthyCluster() {
        HttpResponse<String> ready = http.get("/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).startsWith("{\"status\":\"ready\"");
        String status = http.get("/health/replicas").body();
        assertThat(status).startsWith("{\"status\":\"ok\"").contains("\"role\":\"PRIMARY\",\"primary\":true,\"state\":\"UP\"",
                "\"database\":\"" + cluster.database() + "\"", "\"pool\":{\"active\":", "\"lag\":{\"bytes\":");
    }

    private static long replicaReads() {
        long n = 0;
        for (NodeView r : ds.topology().replicas()) {
            n += r.readsServed();
        }
        return n;
    }

    private static double metricValue(String text, String series) {
        for (String line : text.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        throw new AssertionError("no series " + series + " in\n" + text);
    }

    private static void awaitProgress(Workload load, long operations) {
        long target = load.ok.get() + operations;
        await().atMost(Duration.ofSeconds(30)).until(() -> load.ok.get() >= target || load.failed.get() > 0);
    }
}

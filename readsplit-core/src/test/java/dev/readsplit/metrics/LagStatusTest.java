package dev.readsplit.metrics;

import dev.readsplit.cluster.Topology;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.cluster.Node;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Issue 19: the lag window's percentiles, mean, min and trend reach the status snapshot, its JSON and Micrometer
 * (they were computed but {@code lagPercentilesSeconds()} returned null); the replica hit rate; seed 002's stats
 * shape. Nodes refuse connections (no database): lag and traffic are fed through the topology's own counters.
 */
class LagStatusTest {

    private ReadsplitDataSource ds;
    private Node r1;

    @BeforeEach
    void start() throws IOException {
        ds = new ReadsplitDataSource(ReadsplitConfig.builder().name("unit")
                .primary("127.0.0.1", closedPort())
                .addReplica(NodeConfig.builder().host("127.0.0.1").port(closedPort()).name("r1").zone("eu")
                        .weight(3).maxLag(Duration.ofSeconds(7)).maxPoolSize(4).build())
                .addReplica(NodeConfig.builder().host("127.0.0.1").port(closedPort()).name("r2").build())
                .primaryPoolSize(5).primaryPoolOverflow(3).replicaPoolSize(6)
                .healthCheckInterval(Duration.ofSeconds(30)).connectionTimeout(Duration.ofMillis(250))
                .build());
        r1 = Topology.of(ds).node("r1");
        for (long lag = 100; lag <= 1000; lag += 100) {
            Topology.of(ds).recordLag(r1, 4096, lag);
        }
    }

    @AfterEach
    void stop() {
        ds.close();
    }

    @Test
    void statusCarriesTheLagWindowOfEachReplica() {
        NodeStatus s = StatusSnapshot.of(ds).node("r1");
        NodeStatus.LagStats w = s.lagWindow();
        assertThat(w.samples()).isEqualTo(10);
        assertThat(w.p50Seconds()).isCloseTo(0.5, within(0.01));
        assertThat(w.p95Seconds()).isCloseTo(1.0, within(0.01));
        assertThat(w.p99Seconds()).isCloseTo(1.0, within(0.01));
        assertThat(w.maxSeconds()).isCloseTo(1.0, within(0.01));
        assertThat(w.minSeconds()).isCloseTo(0.1, within(0.001));
        assertThat(w.meanSeconds()).isCloseTo(0.55, within(0.001));
        assertThat(w.windowSeconds()).isEqualTo(60.0);
        assertThat(s.lagP95Seconds()).isEqualTo(w.p95Seconds());
        assertThat(s.maxLagSeconds()).as("the replica's own limit").isEqualTo(7.0);
        assertThat(s.weight()).isEqualTo(3);
        assertThat(StatusSnapshot.of(ds).node("r2").maxLagSeconds()).as("the data source's").isEqualTo(10.0);

        NodeStatus.LagStats primary = StatusSnapshot.of(ds).nodes().get(0).lagWindow();
        assertThat(primary.samples()).isZero();
        assertThat(primary.p95Seconds()).isNull();
        assertThat(primary.trend()).isEqualTo("UNKNOWN");
    }

    /** The hedger's stalled mark reaches the status and its JSON (it was only a log line). */
    @Test
    void aStalledReplicaIsShownAsSuch() {
        assertThat(StatusSnapshot.of(ds).node("r1").stalled()).isFalse();
        r1.stalled(true);
        NodeStatus s = StatusSnapshot.of(ds).node("r1");
        assertThat(s.stalled()).isTrue();
        assertThat(StatusSnapshot.of(ds).node("r2").stalled()).isFalse();
        String json = StatusSnapshot.of(ds).toJson();
        int r1At = json.indexOf("\"name\":\"r1\"");
        int r2At = json.indexOf("\"name\":\"r2\"");
        assertThat(json.substring(r1At, json.indexOf("\"readsServed\"", r1At))).contains("\"stalled\":true");
        assertThat(json.substring(r2At, json.indexOf("\"readsServed\"", r2At))).contains("\"stalled\":false");
    }

    @Test
    void theJsonShowsTheNumbersNotNull() {
        String json = StatusSnapshot.of(ds).toJson();
        int r1At = json.indexOf("\"name\":\"r1\"");
        String r1Json = json.substring(r1At, json.indexOf("\"pool\"", r1At));
        assertThat(r1Json).contains("\"p50Seconds\":0.5", "\"minSeconds\":0.1", "\"meanSeconds\":0.55",
                "\"samples\":10", "\"windowSeconds\":60", "\"maxLagSeconds\":7", "\"weight\":3", "\"bytes\":4096")
                .doesNotContain("\"p95Seconds\":null").containsPattern("\"p95Seconds\":(1|1\\.0\\d*|0\\.99\\d*)[,}]");
    }

    @Test
    void micrometerGaugesPerReplica() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ReadsplitMetrics metrics = new ReadsplitMetrics(ds)) {
            metrics.bindTo(registry);
            assertThat(registry.get("readsplit.replica.lag.window").tag("node", "r1").tag("stat", "p95").gauge()
                    .value()).isCloseTo(1.0, within(0.01));
            assertThat(registry.get("readsplit.replica.lag.window").tag("node", "r1").tag("stat", "mean").gauge()
                    .value()).isCloseTo(0.55, within(0.001));
            assertThat(registry.get("readsplit.replica.lag.window").tag("node", "r1").tag("stat", "min").gauge()
                    .value()).isCloseTo(0.1, within(0.001));
            assertThat(registry.get("readsplit.replica.lag.window").tag("node", "r2").tag("stat", "p99").gauge()
                    .value()).as("no sample yet").isNaN();
            assertThat(registry.get("readsplit.replica.lag.limit").tag("node", "r1").gauge().value()).isEqualTo(7.0);
            assertThat(registry.get("readsplit.replica.lag.trend").tag("node", "r1").gauge()).isNotNull();
            assertThat(registry.get("readsplit.replica.hit.ratio").gauge().value()).as("before any read").isNaN();

            statement(Topology.of(ds).node("r1"), true);
            statement(Topology.of(ds).node("r2"), true);
            statement(Topology.of(ds).node("r2"), true);
            statement(Topology.of(ds).primary(), true);
            statement(Topology.of(ds).primary(), false);
            assertThat(registry.get("readsplit.replica.hit.ratio").gauge().value()).isEqualTo(0.75);
        }
    }

    @Test
    void replicaHitRateInTheMetricsSnapshot() {
        assertThat(MetricsSnapshot.of(ds).replicaHitRatePercent()).isNull();
        statement(Topology.of(ds).node("r1"), true);
        statement(Topology.of(ds).primary(), true);
        MetricsSnapshot m = MetricsSnapshot.of(ds);
        assertThat(m.replicaReads()).isEqualTo(1);
        assertThat(m.replicaHitRatePercent()).isEqualTo(50.0);
        assertThat(m.toJson()).contains("\"replicaHitRatePercent\":50", "\"replicaReads\":1");
    }

    @Test
    void perNodePoolSizesReachTheNodePools() {
        assertThat(Topology.of(ds).primary().poolStats().max()).as("primaryPoolSize + overflow").isEqualTo(8);
        assertThat(r1.poolStats().max()).as("its own maxPoolSize").isEqualTo(4);
        assertThat(Topology.of(ds).node("r2").poolStats().max()).isEqualTo(6);
    }

    @Test
    void seed002StatsShape() {
        ReplicaStats stats = ReplicaStats.of(ds);
        assertThat(stats.toJson()).matches("\\{\"primary\":\\{\"connections\":\\d+,\"available\":\\d+},"
                + "\"replica\":\\{\"connections\":\\d+,\"available\":\\d+}}");
        assertThat(stats.replicas()).isEqualTo(2);
        assertThat(stats.primary().connections()).as("nothing could connect").isZero();
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** One statement of 1 µs, begun and ended on {@code node}. */
    private static void statement(Node node, boolean read) {
        node.endStatement(node.beginStatement(), 1_000, read);
    }
}

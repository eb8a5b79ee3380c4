package dev.readsplit.metrics;

import dev.readsplit.cluster.Topology;
import dev.readsplit.balance.BalancerKind;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.Clusters;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 19's seed parity on a real primary and two streaming standbys: seed 001's {@code acquire()}, seed 002's
 * URLs and stats, seed 004's per-replica weight, zone and pool sizes, and the lag statistics and hit rate. Where a
 * statement ran is asked of the server ({@code inet_server_port()}), and pool sizes of {@code pg_stat_activity}.
 */
class SeedParityIT {

    private static final String PASSWORD = "Seed-Parity-Pw";
    private static EmbeddedCluster cluster;
    private static int primaryPort;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password(PASSWORD).start();
        primaryPort = cluster.primary().port();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static int port(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static NodeConfig replica(int i, String name) {
        EmbeddedNode s = cluster.standby(i);
        return NodeConfig.builder().host(s.host()).port(s.port()).name(name).build();
    }

    @Test
    void acquireIsAlwaysThePrimary() throws SQLException {
        try (ReadsplitDataSource ds = new ReadsplitDataSource(Clusters.config(cluster).build())) {
            Clusters.awaitAllUp(ds);
            for (int i = 0; i < 20; i++) {
                try (Connection c = ds.acquire()) {
                    assertThat(port(c)).as("a plain read on acquire()").isEqualTo(primaryPort);
                    c.setReadOnly(true);
                    assertThat(port(c)).as("even read-only").isEqualTo(primaryPort);
                }
            }
        }
    }

    @Test
    void seed002UrlsAsWrittenReachTheCluster() throws SQLException {
        String user = cluster.user();
        Map<String, String> env = Map.of(
                "DATABASE_URL", "postgresql+asyncpg://" + user + ":" + PASSWORD + "@" + cluster.primary().host() + ":"
                        + primaryPort + "/" + cluster.database(),
                "DATABASE_READ_URLS", "[\"postgresql+psycopg://" + user + ":" + PASSWORD + "@"
                        + cluster.standby(0).host() + ":" + cluster.standby(0).port() + "/" + cluster.database()
                        + "\"]",
                "DATABASE_POOL_SIZE", "2", "DATABASE_MAX_OVERFLOW", "3",
                "DATABASE_READ_POOL_SIZE", "2", "DATABASE_READ_MAX_OVERFLOW", "1");
        try (ReadsplitDataSource ds = new ReadsplitDataSource(ReadsplitConfig.fromEnvironment(env))) {
            Clusters.awaitAllUp(ds);
            try (Connection c = ds.getConnection()) {
                assertThat(port(c)).isEqualTo(cluster.standby(0).port());
            }
            assertThat(Topology.of(ds).primary().poolStats().max()).isEqualTo(5);
            assertThat(Topology.of(ds).replicas().get(0).poolStats().max()).isEqualTo(3);
        }
    }

    @Test
    void readsFollowTheConfiguredWeights() throws SQLException {
        ReadsplitConfig config = Clusters.config(cluster).replicas(java.util.List.of(
                        replica(0, "heavy").toBuilder().weight(3).build(), replica(1, "light")))
                .balancer(BalancerKind.WEIGHTED).build();
        Map<Integer, Integer> byPort = new HashMap<>();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            Clusters.awaitAllUp(ds);
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT inet_server_port()")) {
                for (int i = 0; i < 4000; i++) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        byPort.merge(rs.getInt(1), 1, Integer::sum);
                    }
                }
            }
            double heavyShare = byPort.getOrDefault(cluster.standby(0).port(), 0) / 4000.0;
            assertThat(heavyShare).as("weight 3 of 4 (%s)", byPort).isBetween(0.70, 0.80);
            assertThat(byPort).doesNotContainKey(primaryPort);
            MetricsSnapshot m = MetricsSnapshot.of(ds);
            assertThat(m.replicaHitRatePercent()).as("every read on a replica").isEqualTo(100.0);
        }
    }

    @Test
    void readsPreferTheLocalZoneGivenPerReplica() throws SQLException {
        ReadsplitConfig config = Clusters.config(cluster).replicas(java.util.List.of(
                        replica(0, "far").toBuilder().zone("us-east-1a").build(),
                        replica(1, "near").toBuilder().zone("eu-west-1b").build()))
                .localZone("eu-west-1b").build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            Clusters.awaitAllUp(ds);
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 50; i++) {
                    assertThat(port(c)).isEqualTo(cluster.standby(1).port());
                }
            }
        }
    }

    @Test
    void perReplicaPoolSizesAreTheServersConnectionCounts() {
        ReadsplitConfig config = Clusters.config(cluster).name("pools-it").replicas(java.util.List.of(
                        replica(0, "warm").toBuilder().minPoolSize(3).maxPoolSize(3).build(), replica(1, "cold")))
                .minIdle(0).build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> backends(cluster.standby(0), "pools-it") == 3);
            assertThat(Topology.of(ds).node("warm").poolStats().max()).isEqualTo(3);
            assertThat(backends(cluster.standby(1), "pools-it")).as("minIdle 0: no idle pool connection").isZero();
        }
    }

    @Test
    void statusLagStatisticsAndSeed002StatsFromARealCluster() throws SQLException {
        try (ReadsplitDataSource ds = new ReadsplitDataSource(Clusters.config(cluster).build())) {
            Clusters.awaitAllUp(ds);
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 10; i++) {
                    port(c);
                }
                ReplicaStats held = ReplicaStats.of(ds);
                assertThat(held.replica().connections()).as("the logical connection holds a replica connection")
                        .isPositive();
                assertThat(held.replica().available()).isPositive();
            }
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    StatusSnapshot.of(ds).nodes().stream().filter(n -> !n.primary())
                            .allMatch(n -> n.lagWindow().samples() >= 3));
            StatusSnapshot s = StatusSnapshot.of(ds);
            for (NodeStatus n : s.nodes()) {
                if (!n.primary()) {
                    assertThat(n.lagWindow().p50Seconds()).as(n.name()).isNotNull().isLessThan(1.0);
                    assertThat(n.lagWindow().p99Seconds()).as(n.name()).isNotNull();
                    assertThat(n.lagWindow().meanSeconds()).as(n.name()).isNotNull();
                    assertThat(n.lagWindow().trend()).as(n.name()).isIn("STEADY", "FALLING", "RISING");
                }
            }
            String json = s.toJson();
            String replicasJson = json.substring(json.indexOf("\"replicas\":{"), json.indexOf("\"metrics\":"));
            assertThat(replicasJson).contains("\"p95Seconds\":0").doesNotContain("\"p95Seconds\":null");
            assertThat(json).doesNotContain(PASSWORD);
            assertThat(s.metrics().replicaHitRatePercent()).isEqualTo(100.0);
            ReplicaStats stats = ReplicaStats.of(ds);
            assertThat(stats.primary().available()).isPositive();
            assertThat(stats.toJson()).startsWith("{\"primary\":{\"connections\":");
        }
    }

    private static long backends(EmbeddedNode node, String applicationName) {
        try (Connection c = node.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = ?")) {
            ps.setString(1, applicationName);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }
}

package dev.readsplit.health;

import dev.readsplit.cluster.Topology;
import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadLoad;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Health, lag and topology on a real primary and two streaming standbys, one cluster for the class. The
 * tests run in order: the last two promote a standby and bring the old primary back, which the earlier
 * ones must not see. Where a statement ran is asked of the server ({@code inet_server_port()}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailureIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static final List<TopologyEvent> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).start();
        exec(cluster.primary(), "CREATE TABLE ticks (id bigserial PRIMARY KEY, at timestamptz DEFAULT now())");
        ds = new ReadsplitDataSource(config(cluster).build());
        Topology.of(ds).addListener(events::add);
        await().atMost(Duration.ofSeconds(30)).until(() -> Topology.of(ds).nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
    }

    @AfterAll
    static void stop() {
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static ReadsplitConfig.Builder config(EmbeddedCluster cluster) {
        return dev.readsplit.jdbc.Clusters.config(cluster)
                .name("failure")
                .connectionTimeout(Duration.ofMillis(1000))
                .maxLag(Duration.ofSeconds(1));
    }

    private static Node node(EmbeddedNode n) {
        return Topology.of(ds).nodes().stream().filter(x -> x.config().port() == n.port()).findFirst().orElseThrow();
    }

    private static void exec(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new AssertionError(sql + " on " + node + ": " + e.getMessage(), e);
        }
    }

    private static long queryLong(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new AssertionError(sql + " on " + node + ": " + e.getMessage(), e);
        }
    }


    /** A writer: one long-lived logical connection inserting a row every 50 ms (keeps WAL flowing). */
    private static final class WriteLoad implements AutoCloseable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final Map<Integer, LongAdder> byPort = new ConcurrentHashMap<>();
        final LongAdder failures = new LongAdder();
        final Thread thread;

        WriteLoad() {
            thread = new Thread(this::run, "write-load");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            try (Connection c = ds.getConnection()) {
                PreparedStatement ps = c.prepareStatement("INSERT INTO ticks DEFAULT VALUES RETURNING inet_server_port()");
                while (running.get()) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        byPort.computeIfAbsent(rs.getInt(1), k -> new LongAdder()).increment();
                    } catch (SQLException e) {
                        failures.increment();
                    }
                    Thread.sleep(50);
                }
            } catch (SQLException | InterruptedException e) {
                failures.increment();
            }
        }

        long writes(int port) {
            LongAdder a = byPort.get(port);
            return a == null ? 0 : a.sum();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }
    }

    @Test
    @Order(1)
    void idleCaughtUpClusterReadsZeroTimeLag() {
        List<Node> replicas = Topology.of(ds).replicas();
        assertThat(replicas).hasSize(2);
        await().atMost(Duration.ofSeconds(10)).until(() -> replicas.stream().allMatch(n -> n.lagMillis() == 0));
        long start = Topology.of(ds).clock().millis();
        // idle for 10 s: the age of the last replayed transaction grows, the reported lag must not
        await().during(Duration.ofSeconds(10)).atMost(Duration.ofSeconds(15))
                .until(() -> replicas.stream().allMatch(n -> n.lagMillis() == 0 && !n.lagExcluded()
                        && n.state() == NodeState.UP));
        for (Node n : replicas) {
            // the window also holds the checks made while the schema was created before the idle period
            assertThat(n.lagPercentiles(Topology.of(ds).clock().millis()).p50()).as(n.name()).isZero();
            assertThat(n.lastCheckMillis()).isGreaterThan(start);
        }
        assertThat(events).noneMatch(e -> e.kind() == TopologyEvent.Kind.LAG_ALERT);
    }

    @Test
    @Order(2)
    void killedReplicaIsExcludedWithoutAFailedReadAndRejoinsAfterRestart() throws Exception {
        EmbeddedNode victim = cluster.standby(0);
        Node node = node(victim);
        try (ReadLoad load = new ReadLoad(ds, 4, "read-load")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> load.reads(victim.port()) > 100
                    && load.reads(cluster.standby(1).port()) > 100);
            victim.kill();
            await().atMost(Duration.ofSeconds(10)).until(() -> node.state() == NodeState.DOWN);
            long servedAfterDown = load.reads(victim.port());
            long otherBefore = load.reads(cluster.standby(1).port());
            await().atMost(Duration.ofSeconds(10)).until(() -> load.reads(cluster.standby(1).port()) > otherBefore + 200);
            assertThat(load.reads(victim.port())).as("reads served by the killed replica").isEqualTo(servedAfterDown);

            victim.start();
            await().atMost(Duration.ofSeconds(20)).until(() -> node.state() == NodeState.UP);
            await().atMost(Duration.ofSeconds(10)).until(() -> load.reads(victim.port()) > servedAfterDown + 100);
            load.close();
            assertThat(load.errors).as("client-visible read errors").isEmpty();
        }
        assertThat(events).filteredOn(e -> e.kind() == TopologyEvent.Kind.STATE_CHANGE && e.node().equals(node.name()))
                .extracting(TopologyEvent::to).containsSubsequence("SUSPECT", "DOWN", "UP");
        assertThat(ds.readRetries()).isPositive();
    }

    @Test
    @Order(3)
    void pausedReplicaIsDetectedByTimeoutAndComesBackAfterResume() {
        EmbeddedNode victim = cluster.standby(1);
        Node node = node(victim);
        await().atMost(Duration.ofSeconds(10)).until(() -> node.state() == NodeState.UP);
        victim.pause();
        try {
            await().atMost(Duration.ofSeconds(15)).until(() -> node.state() == NodeState.DOWN);
            assertThat(node.lastError()).contains("no answer within");
            assertThat(victim.isRunning()).as("paused, not dead").isTrue();
        } finally {
            victim.resume();
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> node.state() == NodeState.UP);
    }

    @Test
    @Order(4)
    void applyDelayIsReportedAsLagExcludedPastMaxLagAndReadmitted() throws Exception {
        EmbeddedNode lagging = cluster.standby(0);
        EmbeddedNode other = cluster.standby(1);
        Node node = node(lagging);
        await().atMost(Duration.ofSeconds(15)).until(() -> Topology.of(ds).replicas().stream()
                .allMatch(n -> n.state() == NodeState.UP && !n.lagExcluded()));
        try (WriteLoad writes = new WriteLoad()) {
            lagging.setApplyDelay(Duration.ofMillis(200));
            await().atMost(Duration.ofSeconds(10)).until(() -> node.lagMillis() >= 150);
            assertThat(node.lagExcluded()).as("200 ms is under maxLag (1 s)").isFalse();

            lagging.setApplyDelay(Duration.ofSeconds(3));
            await().atMost(Duration.ofSeconds(15)).until(node::lagExcluded);
            assertThat(node.lagMillis()).isGreaterThan(1000);
            // new reads avoid it (server-side port), the other replica serves them
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT inet_server_port()")) {
                for (int i = 0; i < 200; i++) {
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getInt(1)).isNotEqualTo(lagging.port());
                    }
                }
            }
            assertThat(node.lagPercentiles(Topology.of(ds).clock().millis()).max()).isGreaterThan(1000);

            lagging.setApplyDelay(Duration.ZERO);
            await().atMost(Duration.ofSeconds(15)).until(() -> !node.lagExcluded());
            assertThat(writes.failures.sum()).isZero();
        }
        try (ReadLoad load = new ReadLoad(ds, 2, "read-load")) {
            await().atMost(Duration.ofSeconds(10)).until(() -> load.reads(lagging.port()) > 20 && load.reads(other.port()) > 20);
        }
        assertThat(events).filteredOn(e -> e.node().equals(node.name()))
                .extracting(TopologyEvent::kind)
                .containsSubsequence(TopologyEvent.Kind.LAG_ALERT, TopologyEvent.Kind.LAG_EXCLUDED,
                        TopologyEvent.Kind.LAG_READMITTED);
        assertThat(events).filteredOn(e -> e.kind() == TopologyEvent.Kind.LAG_ALERT && e.node().equals(node.name()))
                .extracting(TopologyEvent::to).startsWith("INFO").endsWith("NONE");
    }

    @Test
    @Order(5)
    void writesFollowAPromotedStandbyThroughTheSameDataSource() throws Exception {
        EmbeddedNode oldPrimary = cluster.primary();
        EmbeddedNode promoted = cluster.standby(0);
        try (WriteLoad writes = new WriteLoad()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> writes.writes(oldPrimary.port()) > 5);
            oldPrimary.stop();
            promoted.promote();
            await().atMost(Duration.ofSeconds(20)).until(() -> writes.writes(promoted.port()) > 5);
        }
        assertThat(Topology.of(ds).primary()).isSameAs(node(promoted));
        assertThat(queryLong(promoted, "SELECT count(*) FROM ticks WHERE at > now() - interval '1 minute'")).isPositive();
        // explicit primary acquisition follows too
        try (Connection c = ds.getConnection(Role.PRIMARY); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT inet_server_port(), pg_is_in_recovery()")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(promoted.port());
            assertThat(rs.getBoolean(2)).isFalse();
        }
        assertThat(events).anyMatch(e -> e.kind() == TopologyEvent.Kind.PRIMARY_CHANGE
                && e.to().equals(node(promoted).name()));
    }

    @Test
    @Order(6)
    void oldPrimaryBackAsASecondPrimaryIsFencedAndGetsNoStatement() throws Exception {
        EmbeddedNode oldPrimary = cluster.primary();
        EmbeddedNode promoted = cluster.standby(0);
        Node old = node(oldPrimary);
        oldPrimary.start(); // comes back a primary, on the older timeline: split brain
        await().atMost(Duration.ofSeconds(15)).until(() -> old.state() == NodeState.FENCED);
        assertThat(Topology.of(ds).primary()).isSameAs(node(promoted));
        assertThat(events).anyMatch(e -> e.kind() == TopologyEvent.Kind.SPLIT_BRAIN && e.node().equals(old.name()));
        assertThat(events).anyMatch(e -> e.kind() == TopologyEvent.Kind.FENCED && e.node().equals(old.name()));

        // no pooled connection of the data source stays on the fenced node (only the health check's)
        String pooled = "SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + ds.name() + "'";
        await().atMost(Duration.ofSeconds(10)).until(() -> queryLong(oldPrimary, pooled) == 0);
        try (ReadLoad reads = new ReadLoad(ds, 2, "read-load"); WriteLoad writes = new WriteLoad()) {
            await().atMost(Duration.ofSeconds(10)).until(() -> writes.writes(promoted.port()) > 20
                    && reads.total() > 500);
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                c.setReadOnly(true);
                try (ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isNotEqualTo(oldPrimary.port());
                }
            }
            reads.close();
            writes.close();
            assertThat(reads.reads(oldPrimary.port())).as("reads served by the fenced node").isZero();
            assertThat(writes.writes(oldPrimary.port())).as("writes served by the fenced node").isZero();
            assertThat(reads.errors).as("client-visible read errors").isEmpty();
        }
        assertThat(queryLong(oldPrimary, pooled)).as("data source connections on the fenced node").isZero();
        assertThat(old.state()).isEqualTo(NodeState.FENCED);
    }
}

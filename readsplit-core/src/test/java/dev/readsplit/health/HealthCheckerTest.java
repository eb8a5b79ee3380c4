package dev.readsplit.health;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.FakeClock;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.cluster.Topology;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The checker's scheduling with a scripted probe and a fake clock, no database: a hung node is detected
 * by the watchdog while the others keep being checked, late answers are ignored, lag feeds exclusion.
 */
class HealthCheckerTest {

    private final FakeClock clock = new FakeClock(5_000_000);
    private Topology topology;
    private HealthChecker checker;

    /** Answers per node: primary at LSN 1000 on timeline 1, standbys with a scripted lag; some hang. */
    private static final class ScriptedProbe implements Probe {
        final Map<String, Long> lagMillis = new ConcurrentHashMap<>();
        final Map<String, Long> replayLsn = new ConcurrentHashMap<>();
        final Map<String, CountDownLatch> hang = new ConcurrentHashMap<>();
        final Map<String, SQLException> fail = new ConcurrentHashMap<>();
        final Map<String, AtomicInteger> checks = new ConcurrentHashMap<>();
        final AtomicInteger aborts = new AtomicInteger();
        /** Nodes whose checks report they spent this long opening their connection. */
        final Map<String, Long> connectNanos = new ConcurrentHashMap<>();
        volatile String primary;

        @Override
        public Observation check(Node node) throws SQLException {
            CountDownLatch h = hang.get(node.name());
            if (h != null) {
                try {
                    if (!h.await(30, TimeUnit.SECONDS)) {
                        throw new AssertionError("probe never aborted");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new SQLException("An I/O error occurred while sending to the backend", "08006");
            }
            checks.computeIfAbsent(node.name(), k -> new AtomicInteger()).incrementAndGet();
            SQLException f = fail.get(node.name());
            if (f != null) {
                throw f;
            }
            long connect = connectNanos.getOrDefault(node.name(), 0L);
            if (node.name().equals(primary)) {
                return Observation.primary(1000, 1).afterConnecting(connect);
            }
            return Observation.standby(replayLsn.getOrDefault(node.name(), 1000L), 1,
                    lagMillis.getOrDefault(node.name(), 0L)).afterConnecting(connect);
        }

        @Override
        public void abort(Node node) {
            aborts.incrementAndGet();
            CountDownLatch h = hang.remove(node.name());
            if (h != null) {
                h.countDown();
            }
        }

        int checks(Node n) {
            AtomicInteger c = checks.get(n.name());
            return c == null ? 0 : c.get();
        }
    }

    private final ScriptedProbe probe = new ScriptedProbe();

    private void start(ReadsplitConfig config) {
        topology = new Topology(config, clock);
        probe.primary = topology.primary().name();
        checker = new HealthChecker(topology, clock, probe);
    }

    @AfterEach
    void tearDown() {
        if (checker != null) {
            checker.close();
        }
        if (topology != null) {
            topology.close();
        }
    }

    private static ReadsplitConfig.Builder config() {
        return ReadsplitConfig.builder().name("unit")
                .primary("127.0.0.1", 1).addReplica("127.0.0.1", 2).addReplica("127.0.0.1", 3)
                .database("db").user("u").minIdle(0)
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000))
                .failureThreshold(3).recoveryThreshold(2)
                .maxLag(Duration.ofSeconds(1)).lagReadmitRatio(0.5);
    }

    /** One tick, then wait until the nodes that are not hung have answered it. */
    private void tickAndSettle(Node... answering) {
        int[] before = new int[answering.length];
        for (int i = 0; i < answering.length; i++) {
            before[i] = probe.checks(answering[i]);
        }
        checker.tick();
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            for (int i = 0; i < answering.length; i++) {
                if (probe.checks(answering[i]) <= before[i] || answering[i].lastCheckMillis() != clock.millis()) {
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * Opening the check connection is not the node's response time: a check that reports it spent longer connecting
     * than the whole check took is recorded at the 1-ns floor. On the old code the whole elapsed time was recorded.
     */
    @Test
    void theTimeSpentOpeningTheCheckConnectionIsNotRecordedAsResponseTime() {
        start(config().build());
        Node r1 = topology.nodes().get(1);
        Node r2 = topology.nodes().get(2);
        probe.connectNanos.put(r1.name(), Long.MAX_VALUE / 4);
        tickAndSettle(r1, r2);
        assertThat(r1.checkLatencyEwmaNanos()).isEqualTo(1);
        assertThat(r2.checkLatencyEwmaNanos()).as("a check on a reused connection counts whole").isGreaterThan(1);
    }

    @Test
    void hungNodeIsDetectedByTimeoutWhileTheOthersKeepBeingChecked() {
        start(config().build());
        Node p = topology.nodes().get(0);
        Node r1 = topology.nodes().get(1);
        Node r2 = topology.nodes().get(2);
        tickAndSettle(p, r1, r2);
        assertThat(topology.nodes()).allMatch(n -> n.state() == NodeState.UP);

        probe.hang.put(r1.name(), new CountDownLatch(1)); // SIGSTOP
        List<NodeState> seen = new CopyOnWriteArrayList<>();
        for (int tick = 0; tick < 40 && r1.state() != NodeState.DOWN; tick++) {
            clock.advance(200);
            if (!probe.hang.containsKey(r1.name())) {
                probe.hang.put(r1.name(), new CountDownLatch(1)); // still stopped: the next check hangs too
            }
            tickAndSettle(p, r2);
            seen.add(r1.state());
        }
        assertThat(r1.state()).isEqualTo(NodeState.DOWN);
        assertThat(seen).contains(NodeState.SUSPECT);
        assertThat(r1.lastError()).contains("no answer within 1000 ms");
        // exactly one failure per timed-out check: the aborted checks' own errors are not counted again
        assertThat(r1.consecutiveFailures()).isEqualTo(3);
        assertThat(p.state()).isEqualTo(NodeState.UP);
        assertThat(r2.state()).isEqualTo(NodeState.UP);
        assertThat(probe.checks(p)).as("the primary was checked on every tick").isGreaterThan(12);

        // SIGCONT: answers again, back UP after recoveryThreshold checks
        probe.hang.clear();
        await().atMost(Duration.ofSeconds(5)).until(() -> !probe.hang.containsKey(r1.name()));
        for (int i = 0; i < 3 && r1.state() != NodeState.UP; i++) {
            clock.advance(200);
            tickAndSettle(p, r1, r2);
        }
        assertThat(r1.state()).isEqualTo(NodeState.UP);
    }

    @Test
    void checkingIsTrueFromATrafficErrorsImmediateCheckUntilItEnds() {
        start(config().build());
        Node r1 = topology.nodes().get(1);
        assertThat(checker.checking()).as("nothing started yet").isFalse();
        CountDownLatch hung = new CountDownLatch(1);
        probe.hang.put(r1.name(), hung);

        topology.onTrafficError(r1, new SQLException("Connection reset", "08006"));

        assertThat(checker.checking()).as("the immediate check is running (hung)").isTrue();
        hung.countDown(); // the check fails with 08006 and ends
        await().atMost(Duration.ofSeconds(5)).until(() -> !checker.checking());
        assertThat(r1.state()).isNotEqualTo(NodeState.UP);
    }

    @Test
    void trafficErrorTriggersAnImmediateCheckOfThatNode() {
        start(config().build());
        Node r2 = topology.nodes().get(2);
        List<TopologyEvent> events = new CopyOnWriteArrayList<>();
        topology.addListener(events::add);
        int before = probe.checks(r2);
        topology.onTrafficError(r2, new SQLException("Connection reset", "08006"));
        // the immediate check may already have cleared it by now (it runs on a worker): assert the
        // transition itself, not a state that races with the check
        assertThat(events).filteredOn(e -> e.kind() == TopologyEvent.Kind.STATE_CHANGE && r2.name().equals(e.node()))
                .extracting(TopologyEvent::from, TopologyEvent::to)
                .startsWith(org.assertj.core.groups.Tuple.tuple("UP", "SUSPECT"));
        clock.advance(5);
        // no tick: the funnel asked for the check
        await().atMost(Duration.ofSeconds(5)).until(() -> probe.checks(r2) > before);
        await().atMost(Duration.ofSeconds(5)).until(() -> r2.state() == NodeState.UP);
    }

    @Test
    void lagOverMaxLagExcludesAndUnderTheLowMarkReadmits() {
        start(config().build());
        List<TopologyEvent> events = new CopyOnWriteArrayList<>();
        topology.addListener(events::add);
        Node p = topology.nodes().get(0);
        Node r1 = topology.nodes().get(1);
        Node r2 = topology.nodes().get(2);
        tickAndSettle(p, r1, r2);
        long[] lags = {200, 3000, 3000, 800, 600, 400, 0};
        boolean[] excluded = new boolean[lags.length];
        for (int i = 0; i < lags.length; i++) {
            probe.lagMillis.put(r1.name(), lags[i]);
            // 3 s between checks: a replica seen caught up cannot be more behind than the time since
            // (LagTracker bounds the reported lag by it), so the simulated clock must allow a 3 s lag
            clock.advance(3_000);
            tickAndSettle(p, r1, r2);
            excluded[i] = r1.lagExcluded();
        }
        // excluded above 1 s; stays excluded at 800 and 600 ms (over the 500 ms low mark); back at 400
        assertThat(excluded).containsExactly(false, true, true, true, true, false, false);
        assertThat(r1.lagMillis()).isZero();
        assertThat(r2.lagExcluded()).isFalse();
        assertThat(events).filteredOn(e -> e.kind() == TopologyEvent.Kind.LAG_EXCLUDED).hasSize(1);
        assertThat(events).filteredOn(e -> e.kind() == TopologyEvent.Kind.LAG_READMITTED).hasSize(1);
        assertThat(events).filteredOn(e -> e.kind() == TopologyEvent.Kind.LAG_ALERT).extracting(TopologyEvent::to)
                .containsExactly("INFO", "NONE");
    }

    @Test
    void byteLagIsThePrimaryPositionMinusTheReplayPosition() {
        start(config().maxLagBytes(1024 * 1024).build());
        Node p = topology.nodes().get(0);
        Node r1 = topology.nodes().get(1);
        Node r2 = topology.nodes().get(2);
        probe.replayLsn.put(r1.name(), 400L);
        tickAndSettle(p, r1, r2);
        clock.advance(200);
        tickAndSettle(p, r1, r2); // the primary's position is known after its first check
        assertThat(r1.lagBytes()).isEqualTo(600);
        assertThat(r2.lagBytes()).isZero();
        assertThat(r1.lagExcluded()).isFalse();
    }

    // ---------------------------------------------------------------------------------------------
    // rapid re-checks of the primary (issue 17, item 5 of "what to build")

    private static SQLException refused(String node) {
        return new SQLException("Connection to " + node + " refused.", "08001",
                new java.net.ConnectException("Connection refused"));
    }

    @Test
    void aRefusedPrimaryIsRecheckedRapidlyAndIsDownWithoutWaitingForTicks() {
        start(config().build());
        Node p = topology.nodes().get(0);
        Node r1 = topology.nodes().get(1);
        Node r2 = topology.nodes().get(2);
        tickAndSettle(p, r1, r2);
        probe.fail.put(p.name(), refused(p.name()));
        topology.onTrafficError(p, new SQLException("An I/O error occurred while sending to the backend.", "08006",
                new java.io.EOFException()));
        // no tick: the traffic error's immediate check and the rapid re-checks after each refusal reach the threshold
        await().atMost(Duration.ofSeconds(5)).until(() -> p.state() == NodeState.DOWN);
        assertThat(p.consecutiveFailures()).isEqualTo(3);
        assertThat(checker.rapidRecheckMillis()).isEqualTo(20);
    }

    @Test
    void aTimeoutIsOnlyASuspicionAndARefusedReplicaKeepsThePaceOfTheTicks() throws Exception {
        start(config().build());
        Node p = topology.nodes().get(0);
        Node r1 = topology.nodes().get(1);
        Node r2 = topology.nodes().get(2);
        tickAndSettle(p, r1, r2);
        probe.fail.put(p.name(), new SQLException("Read timed out", "08006", new java.net.SocketTimeoutException()));
        probe.fail.put(r1.name(), refused(r1.name()));
        clock.advance(200);
        checker.tick();
        await().atMost(Duration.ofSeconds(5)).until(() -> p.consecutiveFailures() == 1 && r1.consecutiveFailures() == 1);
        Thread.sleep(300); // 15 rapid intervals: nothing may follow without a tick
        assertThat(p.consecutiveFailures()).as("a timeout is not re-checked rapidly").isEqualTo(1);
        assertThat(p.state()).isEqualTo(NodeState.SUSPECT);
        assertThat(r1.consecutiveFailures()).as("replicas keep the ticks' pace").isEqualTo(1);
    }

    @Test
    void anAuthenticationFailureOrAFullServerIsNotADefinitiveLoss() {
        assertThat(dev.readsplit.topology.SqlStates.isDefinitiveLoss(new SQLException("password authentication failed", "28P01"))).isFalse();
        assertThat(dev.readsplit.topology.SqlStates.isDefinitiveLoss(new SQLException("too many clients", "53300"))).isFalse();
        assertThat(dev.readsplit.topology.SqlStates.isDefinitiveLoss(new SQLException("terminating connection due to administrator command", "57P01"))).isTrue();
        assertThat(dev.readsplit.topology.SqlStates.isDefinitiveLoss(refused("p"))).isTrue();
    }
}

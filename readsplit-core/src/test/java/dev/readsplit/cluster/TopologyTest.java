package dev.readsplit.cluster;

import dev.readsplit.topology.FakeClock;
import dev.readsplit.topology.LagLevel;
import dev.readsplit.topology.LagWindow;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.SqlStates;
import dev.readsplit.topology.TopologyEvent;
import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The node state machine, primary following and fencing, driven directly through the topology's funnel
 * with a fake clock: no database (the nodes point at a closed port and their pools open nothing).
 */
class TopologyTest {

    private static final long MS = 1_000_000;

    private final FakeClock clock = new FakeClock(1_000_000);
    private final List<TopologyEvent> events = new CopyOnWriteArrayList<>();
    private final AtomicInteger urgentChecks = new AtomicInteger();
    private Topology topology;
    private Node p;
    private Node r1;
    private Node r2;

    static ReadsplitConfig.Builder config() {
        return ReadsplitConfig.builder().name("unit")
                .primary("127.0.0.1", 1).addReplica("127.0.0.1", 2).addReplica("127.0.0.1", 3)
                .database("db").user("u").minIdle(0)
                .failureThreshold(3).recoveryThreshold(2)
                .maxLag(Duration.ofSeconds(1)).lagReadmitRatio(0.5);
    }

    @BeforeEach
    void setUp() {
        topology = new Topology(config().build(), clock);
        topology.addListener(events::add);
        topology.urgentCheck(n -> urgentChecks.incrementAndGet());
        p = topology.nodes().get(0);
        r1 = topology.nodes().get(1);
        r2 = topology.nodes().get(2);
    }

    @AfterEach
    void tearDown() {
        topology.close();
    }

    private List<TopologyEvent> events(TopologyEvent.Kind kind) {
        return events.stream().filter(e -> e.kind() == kind).toList();
    }

    // --- health state machine -----------------------------------------------------------------------

    @Test
    void failedChecksMakeANodeSuspectThenDownAtTheThreshold() {
        topology.checkFailed(r1, "refused", clock.millis());
        assertThat(r1.state()).isEqualTo(NodeState.SUSPECT);
        topology.checkFailed(r1, "refused", clock.millis());
        assertThat(r1.state()).isEqualTo(NodeState.SUSPECT);
        topology.checkFailed(r1, "refused", clock.millis());
        assertThat(r1.state()).isEqualTo(NodeState.DOWN);
        topology.checkFailed(r1, "refused", clock.millis());
        assertThat(r1.consecutiveFailures()).isEqualTo(4);
        // one event per change, not per failed check
        assertThat(events(TopologyEvent.Kind.STATE_CHANGE)).extracting(TopologyEvent::to)
                .containsExactly("SUSPECT", "DOWN");
    }

    @Test
    void downNodeNeedsRecoveryThresholdSuccessesInARow() {
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(r1, "refused", clock.millis());
        }
        topology.checkSucceeded(r1, MS, clock.millis());
        assertThat(r1.state()).isEqualTo(NodeState.DOWN);
        topology.checkFailed(r1, "refused", clock.millis());
        topology.checkSucceeded(r1, MS, clock.millis());
        assertThat(r1.state()).as("a failure in between restarts the count").isEqualTo(NodeState.DOWN);
        topology.checkSucceeded(r1, MS, clock.millis());
        assertThat(r1.state()).isEqualTo(NodeState.UP);
        assertThat(r1.consecutiveFailures()).isZero();
        assertThat(r1.lastError()).isNull();
    }

    /** Regression (issue 17): a paused primary that answered again kept failing writes for recoveryThreshold checks. */
    @Test
    void regressionADownPrimaryTakesWritesAgainAtItsFirstGoodCheckAsPrimaryOnItsTimeline() {
        topology.observeRole(p, Role.PRIMARY, 3);
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(p, "no answer within 1000 ms", clock.millis());
        }
        assertThat(p.state()).isEqualTo(NodeState.DOWN);
        topology.observeRole(p, Role.PRIMARY, 3);
        topology.checkSucceeded(p, MS, clock.millis());
        assertThat(p.state()).isEqualTo(NodeState.UP);
        assertThat(events(TopologyEvent.Kind.STATE_CHANGE)).last().extracting(TopologyEvent::message).asString()
                .contains("answered as primary on timeline 3");
    }

    @Test
    void aDownPrimaryThatSomeNodeIsPastInTimelineKeepsTheHysteresis() {
        topology.observeRole(p, Role.PRIMARY, 1);
        topology.observeRole(r1, Role.REPLICA, 2); // r1 follows a newer timeline: p may be an old primary
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(p, "refused", clock.millis());
        }
        topology.checkSucceeded(p, MS, clock.millis());
        assertThat(p.state()).isEqualTo(NodeState.DOWN);
        topology.checkSucceeded(p, MS, clock.millis());
        assertThat(p.state()).isEqualTo(NodeState.UP);
    }

    @Test
    void aStatementThatSucceedsOnASuspectPrimaryClearsItButNotOnAReplica() {
        SQLException broken = new SQLException("An I/O error occurred", "08006");
        topology.onTrafficError(p, broken);
        topology.onTrafficError(r1, broken);
        assertThat(p.state()).isEqualTo(NodeState.SUSPECT);
        topology.trafficSucceeded(p);
        topology.trafficSucceeded(r1);
        assertThat(p.state()).isEqualTo(NodeState.UP);
        assertThat(r1.state()).as("replicas keep their hysteresis").isEqualTo(NodeState.SUSPECT);
    }

    @Test
    void aDownReplicaStillNeedsRecoveryThresholdChecks() {
        topology.observeRole(r1, Role.REPLICA, 1);
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(r1, "refused", clock.millis());
        }
        topology.checkSucceeded(r1, MS, clock.millis());
        assertThat(r1.state()).isEqualTo(NodeState.DOWN);
    }

    /**
     * Regression (issue 17): a read on a SIGSTOPped replica took 5.0 s with a 3 s socket timeout: HikariCP validated
     * the idle connection for its default validationTimeout (5 s). Validation and a replica's borrow are bounded by
     * healthCheckTimeout now.
     */
    @Test
    void regressionPoolValidationAndReplicaBorrowsAreBoundedByTheCheckTimeout() {
        Topology t = new Topology(config().healthCheckTimeout(Duration.ofMillis(800)).build(), clock);
        try {
            assertThat(t.nodes()).allSatisfy(n -> assertThat(n.pool().getValidationTimeout()).isEqualTo(800));
            Node replica = t.nodes().get(1);
            // nothing listens on port 2: the borrow gives up with a connection-level error (a read is retried elsewhere)
            SQLException e = assertThrows(SQLException.class, replica::borrow);
            assertThat((Object) e).isInstanceOf(java.sql.SQLTransientConnectionException.class);
            assertThat(SqlStates.isConnectionLevel(e)).isTrue();
        } finally {
            t.close();
        }
    }

    /** Regression: writes to a primary the checks found DOWN waited the pool's whole connectionTimeout. */
    @Test
    void borrowingFromADownNodeFailsAtOnceNamingTheNodeAndWhy() {
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(p, "[08001] Connection to 127.0.0.1:1 refused", clock.millis());
        }
        SQLException e = assertThrows(java.sql.SQLTransientConnectionException.class, p::borrow);
        assertThat(e.getMessage()).isEqualTo("node " + p.name() + " (PRIMARY) is DOWN: 3 consecutive failed checks;"
                + " last: [08001] Connection to 127.0.0.1:1 refused");
        assertThat(e.getSQLState()).isEqualTo("08001");
        assertThat(p.poolStats().total()).as("no connection attempt").isZero();
    }

    @Test
    void suspectNodeIsClearedByOneGoodCheck() {
        topology.checkFailed(r1, "timeout", clock.millis());
        clock.advance(200);
        topology.checkSucceeded(r1, 2 * MS, clock.millis());
        assertThat(r1.state()).isEqualTo(NodeState.UP);
    }

    @Test
    void trafficErrorMarksSuspectAtOnceAndAsksForOneImmediateCheck() {
        SQLException broken = new SQLException("An I/O error occurred", "08006");
        assertThat(topology.onTrafficError(r1, broken)).isTrue();
        assertThat(r1.state()).isEqualTo(NodeState.SUSPECT);
        assertThat(urgentChecks).hasValue(1);
        // many queries failing on the same node: no more transitions, events or checks
        for (int i = 0; i < 100; i++) {
            topology.onTrafficError(r1, broken);
        }
        assertThat(urgentChecks).hasValue(1);
        assertThat(events(TopologyEvent.Kind.STATE_CHANGE)).hasSize(1);
    }

    @Test
    void statementErrorsDoNotTouchTheNode() {
        assertThat(topology.onTrafficError(r1, new SQLException("duplicate key", "23505"))).isFalse();
        assertThat(topology.onTrafficError(r1, new SQLException("read-only", "25006"))).isFalse();
        assertThat(r1.state()).isEqualTo(NodeState.UP);
        assertThat(urgentChecks).hasValue(0);
        assertThat(events).isEmpty();
    }

    @Test
    void trafficErrorOnADownNodeKeepsItDown() {
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(r1, "refused", clock.millis());
        }
        topology.onTrafficError(r1, new SQLException("refused", "08001"));
        assertThat(r1.state()).isEqualTo(NodeState.DOWN);
    }

    @Test
    void checkThatStartedBeforeTheSuspicionDoesNotClearIt() {
        // a check started at t, traffic fails at t+30, the check returns at t+50 with "fine"
        long t = clock.millis();
        clock.advance(30);
        topology.onTrafficError(r1, new SQLException("reset", "08006"));
        clock.advance(20);
        topology.checkSucceeded(r1, 50 * MS, clock.millis());
        assertThat(r1.state()).isEqualTo(NodeState.SUSPECT);
        clock.advance(200);
        topology.checkSucceeded(r1, 5 * MS, clock.millis());
        assertThat(r1.state()).isEqualTo(NodeState.UP);
        assertThat(t).isPositive();
    }

    @Test
    void checkResponseTimeIsAnEwma() {
        topology.checkSucceeded(r1, 8 * MS, clock.millis());
        assertThat(r1.checkLatencyEwmaNanos()).isEqualTo(8 * MS);
        topology.checkSucceeded(r1, 16 * MS, clock.millis());
        assertThat(r1.checkLatencyEwmaNanos()).isEqualTo(9 * MS);
    }

    /**
     * Regression: the first check (a cold connection, a cold JVM) seeded the statement latency the latency-aware
     * balancer scores by, so a replica that had served no statement yet looked many times slower than one that
     * had, and got next to no reads (IdleConnectionPreferenceTest[LATENCY_AWARE] saw 400 reads in a row on r2).
     */
    @Test
    void checksDoNotSeedTheStatementLatencyButKeepItFreshOnceSeeded() {
        topology.checkSucceeded(r1, 50 * MS, clock.millis());
        assertThat(r1.latencyEwmaNanos()).as("no statement yet: unsampled, so the balancer explores it").isZero();
        r1.endStatement(r1.beginStatement(), MS, true); // a statement seeds it
        assertThat(r1.latencyEwmaNanos()).isEqualTo(MS);
        topology.checkSucceeded(r1, 9 * MS, clock.millis());
        assertThat(r1.latencyEwmaNanos()).as("an idle node's figure follows its checks").isEqualTo(2 * MS);
    }

    @Test
    void eventsCarryTheInjectedClockAndTheRingKeepsTheLast200() {
        topology.checkFailed(r1, "x", clock.millis());
        assertThat(events.get(0).at()).isEqualTo(Instant.ofEpochMilli(1_000_000));
        for (int i = 0; i < 300; i++) {
            clock.advance(1);
            topology.checkSucceeded(r1, MS, clock.millis());
            topology.checkFailed(r1, "x", clock.millis());
        }
        List<TopologyEvent> recent = topology.recentEvents();
        assertThat(recent).hasSize(Topology.RECENT_EVENTS);
        assertThat(recent.get(recent.size() - 1).at()).isEqualTo(clock.instant());
    }

    // --- topology -------------------------------------------------------------------------------------

    private void allObserved() {
        topology.observeRole(p, Role.PRIMARY, 1);
        topology.observeRole(r1, Role.REPLICA, 1);
        topology.observeRole(r2, Role.REPLICA, 1);
    }

    @Test
    void writesFollowAStandbyPromotedAfterThePrimaryDied() {
        allObserved();
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(p, "refused", clock.millis());
        }
        int epochBefore = p.epoch();
        topology.observeRole(r1, Role.PRIMARY, 2);
        assertThat(topology.primary()).isSameAs(r1);
        assertThat(p.state()).as("a DOWN old primary is not fenced yet").isEqualTo(NodeState.DOWN);
        assertThat(p.epoch()).as("physical connections to the old primary are invalidated").isNotEqualTo(epochBefore);
        assertThat(topology.replicas()).containsExactly(r2);
        assertThat(events(TopologyEvent.Kind.PRIMARY_CHANGE)).singleElement()
                .satisfies(e -> assertThat(e.from()).isEqualTo(p.name()));

        // the old primary comes back, still a primary on the old timeline: split brain, it is fenced
        topology.observeRole(p, Role.PRIMARY, 1);
        topology.checkSucceeded(p, MS, clock.millis());
        topology.checkSucceeded(p, MS, clock.millis());
        assertThat(p.state()).isEqualTo(NodeState.FENCED);
        assertThat(topology.primary()).isSameAs(r1);
        assertThat(events(TopologyEvent.Kind.SPLIT_BRAIN)).singleElement()
                .satisfies(e -> assertThat(e.node()).isEqualTo(p.name()));
        assertThat(events(TopologyEvent.Kind.FENCED)).hasSize(1);
        SQLException refused = assertThrows(SQLException.class, p::borrow);
        assertThat(refused.getMessage()).contains("fenced");
    }

    /**
     * Regression: checks run in parallel at start, so a configured replica that is really a primary (another
     * cluster's, on timeline 1) could answer before the configured primary had been observed (timeline -1),
     * take the writes as "a newer timeline", and get the real primary fenced as the loser a moment later.
     */
    @Test
    void aConfiguredReplicaThatIsAPrimaryAnsweringBeforeThePrimaryIsFencedNotFollowed() {
        topology.observeRole(r1, Role.PRIMARY, 1); // first answer of the start-up round
        assertThat(topology.primary()).as("writes stay on the configured primary until it has answered").isSameAs(p);
        assertThat(topology.replicas()).as("a node observed as primary gets no reads").containsExactly(r2);
        topology.observeRole(p, Role.PRIMARY, 1);
        topology.observeRole(r2, Role.REPLICA, 1);
        topology.observeRole(r1, Role.PRIMARY, 1); // its next check
        assertThat(topology.primary()).isSameAs(p);
        assertThat(p.state()).isEqualTo(NodeState.UP);
        assertThat(r1.state()).isEqualTo(NodeState.FENCED);
        assertThat(events(TopologyEvent.Kind.ROLE_CHANGE)).singleElement()
                .satisfies(e -> assertThat(e.message()).contains(r1.name() + " now reports itself PRIMARY (was REPLICA"));
        assertThat(events(TopologyEvent.Kind.SPLIT_BRAIN)).singleElement()
                .satisfies(e -> assertThat(e.node()).isEqualTo(r1.name()));
        assertThat(events(TopologyEvent.Kind.PRIMARY_CHANGE)).isEmpty();
    }

    @Test
    void aPrimaryClaimIsFollowedWhenTheConfiguredPrimaryWasNeverSeenAndIsDown() {
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(p, "refused", clock.millis());
        }
        topology.observeRole(r1, Role.PRIMARY, 1);
        assertThat(topology.primary()).isSameAs(r1);
    }

    @Test
    void twoLivePrimariesTheOlderTimelineIsFenced() {
        allObserved();
        topology.observeRole(r2, Role.PRIMARY, 2);
        assertThat(topology.primary()).isSameAs(r2);
        assertThat(p.state()).isEqualTo(NodeState.FENCED);
        assertThat(events(TopologyEvent.Kind.SPLIT_BRAIN)).hasSize(1);
    }

    @Test
    void aClaimOnTheSameOrAnOlderTimelineIsFencedAndWritesStay() {
        allObserved();
        topology.observeRole(r1, Role.PRIMARY, 1);
        assertThat(topology.primary()).isSameAs(p);
        assertThat(r1.state()).isEqualTo(NodeState.FENCED);
        assertThat(events(TopologyEvent.Kind.SPLIT_BRAIN)).hasSize(1);
    }

    @Test
    void fencedNodeStaysFencedUntilAnOperatorUnfencesIt() {
        allObserved();
        topology.observeRole(r1, Role.PRIMARY, 2); // p fenced
        // p is rebuilt as a standby and answers checks: still fenced
        topology.observeRole(p, Role.REPLICA, 2);
        for (int i = 0; i < 5; i++) {
            topology.checkSucceeded(p, MS, clock.millis());
        }
        topology.checkFailed(p, "x", clock.millis());
        assertThat(p.state()).isEqualTo(NodeState.FENCED);

        assertThat(topology.unfence(p.name())).isTrue();
        assertThat(p.state()).isEqualTo(NodeState.SUSPECT);
        clock.advance(10);
        topology.observeRole(p, Role.REPLICA, 2);
        topology.checkSucceeded(p, MS, clock.millis());
        assertThat(p.state()).isEqualTo(NodeState.UP);
        assertThat(topology.replicas()).contains(p);
        assertThat(events(TopologyEvent.Kind.UNFENCED)).hasSize(1);
    }

    @Test
    void unfencedNodeStillClaimingPrimaryOnAnOlderTimelineIsFencedAgain() {
        allObserved();
        topology.observeRole(r1, Role.PRIMARY, 2);
        topology.unfence(p.name());
        topology.observeRole(p, Role.PRIMARY, 1);
        assertThat(p.state()).isEqualTo(NodeState.FENCED);
        assertThat(topology.primary()).isSameAs(r1);
    }

    @Test
    void writesFollowWhenTheConfiguredPrimaryReportsItselfAStandby() {
        topology.observeRole(r1, Role.PRIMARY, 3);
        // p has not answered yet: the claim waits for it (see aConfiguredReplicaThatIsAPrimaryAnswering...)
        assertThat(topology.primary()).isSameAs(p);
        topology.observeRole(p, Role.REPLICA, 3);
        assertThat(topology.primary()).isSameAs(r1);
        assertThat(p.state()).isNotEqualTo(NodeState.FENCED);
        assertThat(topology.replicas()).contains(p);
    }

    @Test
    void oldPrimaryThatComesBackAsAStandbyRejoinsTheReadSet() {
        allObserved();
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(p, "refused", clock.millis());
        }
        topology.observeRole(r1, Role.PRIMARY, 2);
        topology.observeRole(p, Role.REPLICA, 2);
        topology.checkSucceeded(p, MS, clock.millis());
        topology.checkSucceeded(p, MS, clock.millis());
        assertThat(p.state()).isEqualTo(NodeState.UP);
        assertThat(topology.replicas()).containsExactlyInAnyOrder(p, r2);
    }

    @Test
    void unfenceOfAnUnknownNodeNamesIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> topology.unfence("nope"));
        assertThat(e.getMessage()).contains("nope");
    }

    // --- lag --------------------------------------------------------------------------------------------

    @Test
    void lagAlertsOncePerLevelChangeWithHysteresis() {
        long[] lags = {0, 0, 1200, 1300, 900, 600, 5200, 4000, 31_000, 200, 0, 0};
        for (long lag : lags) {
            clock.advance(1000);
            topology.recordLag(r1, 0, lag);
        }
        assertThat(events(TopologyEvent.Kind.LAG_ALERT)).extracting(TopologyEvent::to)
                .containsExactly("INFO", "WARNING", "CRITICAL", "NONE");
        assertThat(r1.lagLevel()).isEqualTo(LagLevel.NONE);
    }

    @Test
    void lagPercentilesOverARollingWindow() {
        for (int i = 1; i <= 100; i++) {
            clock.advance(100);
            topology.recordLag(r1, 0, i * 10L);
        }
        LagWindow.Snapshot s = r1.lagPercentiles(clock.millis());
        assertThat(s.count()).isEqualTo(100);
        assertThat(s.p50()).isBetween(495L, 505L);
        assertThat(s.p95()).isBetween(945L, 955L);
        assertThat(s.p99()).isBetween(985L, 995L);
        assertThat(s.max()).isBetween(995L, 1005L);
        // a minute later with only zeros recorded, the old values are gone
        for (int i = 0; i < 70; i++) {
            clock.advance(1000);
            topology.recordLag(r1, 0, 0);
        }
        LagWindow.Snapshot later = r1.lagPercentiles(clock.millis());
        assertThat(later.max()).isZero();
        assertThat(later.count()).isBetween(45L, 61L);
    }
}

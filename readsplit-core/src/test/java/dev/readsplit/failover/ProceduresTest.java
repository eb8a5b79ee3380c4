package dev.readsplit.failover;

import dev.readsplit.Role;
import dev.readsplit.config.FailoverPolicy;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.FakeClock;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.cluster.Topology;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.readsplit.failover.FakeActions.primary;
import static dev.readsplit.failover.FakeActions.standby;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The failover and switchover step machines with scripted servers and a fake clock: no database (the nodes
 * point at closed ports and their pools open nothing).
 */
class ProceduresTest {

    private static final String PASSWORD = "s3cret-pw";

    private final FakeClock clock = new FakeClock(1_000_000);
    private final List<TopologyEvent> events = new CopyOnWriteArrayList<>();
    private final FakeActions servers = new FakeActions(clock);
    private final WriteGate gate = new WriteGate();
    private Topology topology;
    private Procedures procedures;
    private Node p;
    private Node r1;
    private Node r2;
    private Node r3;

    static ReadsplitConfig.Builder config() {
        return ReadsplitConfig.builder().name("unit")
                .primary(node("p", 1)).addReplica(node("r1", 2)).addReplica(node("r2", 3)).addReplica(node("r3", 4))
                .database("db").user("u").password(PASSWORD).minIdle(0)
                .failureThreshold(3).failoverPolicy(FailoverPolicy.SUPERVISED).minHealthyReplicas(2)
                .failoverStepTimeout(Duration.ofSeconds(2));
    }

    private static NodeConfig node(String name, int port) {
        return NodeConfig.builder().name(name).host("127.0.0.1").port(port).build();
    }

    @BeforeEach
    void setUp() {
        topology = new Topology(config().build(), clock);
        topology.addListener(events::add);
        p = topology.node("p");
        r1 = topology.node("r1");
        r2 = topology.node("r2");
        r3 = topology.node("r3");
        procedures = new Procedures(topology, servers, gate);
        topology.observeRole(p, Role.PRIMARY, 1);
        p.observeWalLsn(5000, clock.millis());
        for (Node r : List.of(r1, r2, r3)) {
            topology.observeRole(r, Role.REPLICA, 1);
        }
        servers.answer("r1", standby(4000)).answer("r2", standby(4800)).answer("r3", standby(4800));
        servers.unreachable.add("p");
        servers.streamsFrom.put("r1", "p");
        servers.streamsFrom.put("r2", "p");
        servers.streamsFrom.put("r3", "p");
    }

    @AfterEach
    void tearDown() {
        topology.close();
    }

    private void primaryDown() {
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(p, "Connection refused", clock.millis());
        }
        assertThat(p.state()).isEqualTo(NodeState.DOWN);
    }

    private List<TopologyEvent> events(TopologyEvent.Kind kind) {
        return events.stream().filter(e -> e.kind() == kind).toList();
    }

    @Test
    void promotesTheMostAdvancedReplicaTiesByNameRoutesFencesAndRepoints() {
        primaryDown();
        FailoverReport report = procedures.failover();

        assertThat(servers.calls).contains("promote r2").doesNotContain("promote r3", "promote r1");
        assertThat(topology.primary()).isSameAs(r2);
        assertThat(p.state()).isEqualTo(NodeState.FENCED);
        assertThat(p.lastError()).contains("needs a rebuild as a standby of r2");
        assertThat(servers.streamsFrom).containsEntry("r1", "r2").containsEntry("r3", "r2");
        assertThat(events(TopologyEvent.Kind.PROMOTED)).hasSize(1);
        assertThat(events(TopologyEvent.Kind.REPOINTED)).extracting(TopologyEvent::node)
                .containsExactlyInAnyOrder("r1", "r3");
        assertThat(events(TopologyEvent.Kind.FAILOVER_COMPLETED)).hasSize(1);
        assertThat(report.promotedHere()).isTrue();
        assertThat(report.newPrimary()).isEqualTo("r2");
        assertThat(report.walBytesPastPromotion()).isEqualTo(200);
        assertThat(report.repointed()).containsExactlyInAnyOrder("r1", "r3");
        assertThat(report.steps()).extracting(StepTiming::step)
                .containsExactly(FailoverStep.SURVEY, FailoverStep.ELECT, FailoverStep.LOCK, FailoverStep.RECHECK,
                        FailoverStep.PROMOTE, FailoverStep.ROUTE, FailoverStep.REPOINT);
        assertThat(events(TopologyEvent.Kind.PROMOTED).get(0).message()).contains("200 bytes past r2");
        // the lock is released, after the promotion
        assertThat(servers.calls.indexOf("unlock r2")).isGreaterThan(servers.calls.indexOf("promote r2"));
    }

    /**
     * Regression (found by SupervisedFailoverIT): instance b still had r1 fenced (only instance a had rejoined it) when
     * the primary died; a promoted r1, b surveyed, locked and re-checked only r2 and r3 and promoted r2: two primaries.
     * A fenced node that answers as a primary on a timeline newer than the failed primary's stops the promotion.
     */
    @Test
    void aFencedNodeThatAnotherInstancePromotedStopsThePromotion() {
        topology.fence(r1, "switched over by another instance");
        primaryDown();
        servers.answer("r1", primary(9000, 2)); // rejoined and promoted by the other instance: timeline 2 > p's 1
        assertThatThrownBy(() -> procedures.failover()).isInstanceOf(FailoverException.class)
                .hasMessageContaining("r1 (fenced here) reports itself primary on timeline 2, newer than p's 1")
                .hasMessageContaining("nothing was promoted here");
        assertThat(servers.count("promote")).isZero();
        assertThat(events(TopologyEvent.Kind.PROMOTED)).isEmpty();
        assertThat(events(TopologyEvent.Kind.FAILOVER_FAILED)).singleElement()
                .satisfies(e -> assertThat(e.from()).isEqualTo("RECHECK"));
        assertThat(servers.calls).contains("unlock r2", "unlock r3");
    }

    @Test
    void aFencedOldPrimaryStillRunningOnAnOlderTimelineDoesNotStopAPromotion() {
        topology.fence(r1, "an older primary, still up and read-only");
        primaryDown();
        servers.answer("r1", primary(9000, 1)); // not newer than p's timeline: not a successor
        procedures.failover();
        assertThat(servers.calls).contains("promote r2");
    }

    @Test
    void skipsThePromotionWhenTheElectedNodeAlreadyReportsItselfPrimary() {
        primaryDown();
        // surveyed as a standby, then promoted by another instance before our re-check
        servers.answer("r2", standby(4800), primary(9000, 2));
        FailoverReport report = procedures.failover();

        assertThat(servers.count("promote")).isZero();
        assertThat(report.promotedHere()).isFalse();
        assertThat(topology.primary()).isSameAs(r2);
        assertThat(events(TopologyEvent.Kind.PROMOTED)).isEmpty();
        assertThat(events(TopologyEvent.Kind.PROMOTION_SKIPPED)).hasSize(1);
        assertThat(p.state()).isEqualTo(NodeState.FENCED);
    }

    @Test
    void followsANodeTheSurveyFindsPrimaryWithoutElecting() {
        primaryDown();
        servers.answer("r3", primary(9000, 2));
        FailoverReport report = procedures.failover();

        assertThat(servers.count("promote")).isZero();
        assertThat(servers.count("lock")).isZero();
        assertThat(report.newPrimary()).isEqualTo("r3");
        assertThat(topology.primary()).isSameAs(r3);
    }

    /**
     * Regression (two instances in SupervisedFailoverIT promoted two nodes): another instance promoted r2 a
     * moment ago, and this instance no longer counts r2 as a healthy replica (here: a check failed during its
     * promotion), so r2 was not surveyed as a standby. The failover must still find it primary and promote
     * nothing (before the fix it elected r3 and promoted it: two primaries).
     */
    @Test
    void aNodeAnotherInstanceJustPromotedIsFoundEvenWhenItIsNoLongerCountedAsAReplica() {
        primaryDown();
        topology.transition(r2, NodeState.SUSPECT, "check failed while it was being promoted elsewhere");
        servers.answer("r2", primary(9000, 2));
        FailoverReport report = procedures.failover();

        assertThat(servers.count("promote")).isZero();
        assertThat(report.promotedHere()).isFalse();
        assertThat(report.newPrimary()).isEqualTo("r2");
        assertThat(events(TopologyEvent.Kind.PROMOTED)).isEmpty();
        assertThat(events(TopologyEvent.Kind.PROMOTION_SKIPPED)).hasSize(1);
    }

    /**
     * Regression: two instances that elect different nodes (their surveys read replay positions moments apart)
     * must still serialise: every surveyed standby's promotion lock is taken, in name order.
     */
    @Test
    void theLocksOfEverySurveyedStandbyAreTakenInNameOrderBeforePromoting() {
        primaryDown();
        procedures.failover();
        int lock1 = servers.calls.indexOf("lock r1");
        int lock2 = servers.calls.indexOf("lock r2");
        int lock3 = servers.calls.indexOf("lock r3");
        int promote = servers.calls.indexOf("promote r2");
        assertThat(lock1).isNotNegative().isLessThan(lock2);
        assertThat(lock2).isLessThan(lock3);
        assertThat(lock3).isLessThan(promote);
    }

    @Test
    void stopsBeforePromotingWhenTheOldPrimaryAnswersAgain() {
        primaryDown();
        servers.unreachable.remove("p");
        servers.answer("p", primary(5100, 1));
        FailoverException e = assertThrows(FailoverException.class, () -> procedures.failover());

        assertThat(e.step()).isEqualTo(FailoverStep.RECHECK);
        assertThat(servers.count("promote")).isZero();
        assertThat(topology.primary()).isSameAs(p);
        assertThat(p.state()).isEqualTo(NodeState.DOWN);
        assertThat(events(TopologyEvent.Kind.FAILOVER_FAILED)).singleElement()
                .satisfies(ev -> {
                    assertThat(ev.message()).contains("RECHECK", "nothing was promoted");
                    assertThat(ev.from()).isEqualTo("RECHECK"); // the event (and its JSON) names the step as before
                });
    }

    @Test
    void promotionLockHeldElsewhereMeansNoPromotionHere() {
        primaryDown();
        servers.lockAvailable = false;
        FailoverException e = assertThrows(FailoverException.class, () -> procedures.failover());
        assertThat(e.step()).isEqualTo(FailoverStep.LOCK);
        assertThat(servers.count("promote")).isZero();
        assertThat(topology.primary()).isSameAs(p);
    }

    @Test
    void promotionThatDoesNotFinishMovesNothing() {
        primaryDown();
        servers.promoteFinishes = false;
        FailoverException e = assertThrows(FailoverException.class, () -> procedures.failover());
        assertThat(e.step()).isEqualTo(FailoverStep.PROMOTE);
        assertThat(e.getMessage()).contains("writes were not moved");
        assertThat(topology.primary()).isSameAs(p);
        assertThat(p.state()).isEqualTo(NodeState.DOWN);
        assertThat(servers.count("repoint")).isZero();
    }

    @Test
    void tooFewReplicasAnsweringTheSurveyMeansNoPromotion() {
        primaryDown();
        servers.unreachable.add("r1");
        servers.unreachable.add("r2");
        FailoverException e = assertThrows(FailoverException.class, () -> procedures.failover());
        assertThat(e.step()).isEqualTo(FailoverStep.SURVEY);
        assertThat(servers.count("promote")).isZero();
    }

    @Test
    void aStandbyThatCannotBeRepointedIsReportedNotUndone() {
        primaryDown();
        servers.refuseRepoint.add("r1");
        FailoverReport report = procedures.failover();
        assertThat(report.notRepointed()).containsExactly("r1");
        assertThat(report.repointed()).containsExactly("r3");
        assertThat(topology.primary()).isSameAs(r2);
        assertThat(events(TopologyEvent.Kind.FAILOVER_FAILED)).singleElement()
                .satisfies(ev -> assertThat(ev.node()).isEqualTo("r1"));
    }

    @Test
    void noPasswordInAnyEventOrError() {
        primaryDown();
        servers.refuseRepoint.add("r1");
        procedures.failover();
        assertThat(events).isNotEmpty().allSatisfy(ev -> assertThat(ev.toString()).doesNotContain(PASSWORD));
    }

    @Test
    void conninfoCarriesTheConfiguredCredentialsButNoApplicationName() {
        String conninfo = new JdbcClusterActions(topology.config()).conninfo(r2);
        assertThat(conninfo).isEqualTo("host='127.0.0.1' port=3 user='u' password='" + PASSWORD + "'");
        assertThat(JdbcClusterActions.slotName("Replica-1.example")).isEqualTo("readsplit_replica_1_example");
    }

    /**
     * Two data sources on one cluster see the primary fail at the same moment and run their failovers on real
     * threads at once: same election, one takes the promotion lock and promotes, the other waits for it, re-checks,
     * finds the node already primary and skips. Repeated, since the interleaving differs from run to run.
     */
    @Test
    void twoInstancesFailingOverAtOnceMakeExactlyOnePromotion() throws Exception {
        servers.promoteMillis = 20;
        for (int round = 0; round < 20; round++) {
            servers.calls.clear();
            servers.answer("r1", standby(4000)).answer("r2", standby(4800)).answer("r3", standby(4800));
            Topology other = new Topology(config().name("other").build(), clock);
            Topology mine = new Topology(config().build(), clock);
            try {
                List<Procedures> instances = List.of(new Procedures(mine, servers, new WriteGate()),
                        new Procedures(other, servers, new WriteGate()));
                for (Topology t : List.of(mine, other)) {
                    for (String r : List.of("r1", "r2", "r3")) {
                        t.observeRole(t.node(r), Role.REPLICA, 1);
                    }
                    for (int i = 0; i < 3; i++) {
                        t.checkFailed(t.node("p"), "refused", clock.millis());
                    }
                }
                java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
                List<FailoverReport> reports = new CopyOnWriteArrayList<>();
                List<Thread> threads = new java.util.ArrayList<>();
                for (Procedures proc : instances) {
                    Thread th = new Thread(() -> {
                        try {
                            start.await();
                            reports.add(proc.failover());
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    th.start();
                    threads.add(th);
                }
                for (Thread th : threads) {
                    th.join(30_000);
                }
                assertThat(reports).hasSize(2);
                assertThat(servers.count("promote")).as("round " + round).isEqualTo(1);
                assertThat(reports).filteredOn(FailoverReport::promotedHere).hasSize(1);
                assertThat(reports).extracting(FailoverReport::newPrimary).containsOnly("r2");
                assertThat(mine.primary().name()).isEqualTo("r2");
                assertThat(other.primary().name()).isEqualTo("r2");
            } finally {
                mine.close();
                other.close();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // switchover

    @Test
    void switchoverHoldsWritesUntilTheTargetIsPromotedAndTimesEachStep() {
        servers.unreachable.remove("p");
        servers.answer("p", primary(5000, 1));
        AtomicBoolean pausedWhileCatchingUp = new AtomicBoolean();
        servers.onStatus = name -> {
            if (name.equals("r1")) {
                pausedWhileCatchingUp.set(gate.paused());
            }
        };
        servers.answer("r1", standby(4000), standby(4500), standby(5000));
        List<String> stopped = new CopyOnWriteArrayList<>();
        SwitchoverReport report = procedures.switchover("r1", Duration.ofSeconds(30), stopped::add);

        assertThat(pausedWhileCatchingUp).isTrue();
        assertThat(gate.paused()).isFalse();
        assertThat(stopped).containsExactly("p");
        assertThat(servers.calls).contains("promote r1");
        assertThat(topology.primary()).isSameAs(r1);
        assertThat(p.state()).isEqualTo(NodeState.FENCED);
        assertThat(report.steps()).extracting(StepTiming::step)
                .containsExactly(FailoverStep.DRAIN, FailoverStep.CATCH_UP, FailoverStep.DEMOTE, FailoverStep.PROMOTE,
                        FailoverStep.ROUTE, FailoverStep.REPOINT);
        assertThat(report.step(FailoverStep.CATCH_UP)).isPositive();
        assertThat(report.total()).isGreaterThanOrEqualTo(report.writesPaused());
        assertThat(servers.streamsFrom).containsEntry("r2", "r1").containsEntry("r3", "r1");
        assertThat(events(TopologyEvent.Kind.PROMOTED)).hasSize(1);
    }

    @Test
    void switchoverWithoutStopperSetsTheOldPrimaryReadOnly() {
        servers.unreachable.remove("p");
        servers.answer("p", primary(5000, 1));
        servers.answer("r1", standby(5000));
        procedures.switchover("r1", Duration.ofSeconds(30), null);
        assertThat(servers.calls).contains("readOnly p true").doesNotContain("readOnly p false");
        assertThat(topology.primary()).isSameAs(r1);
    }

    @Test
    void switchoverThatCannotCatchUpChangesNothing() {
        servers.unreachable.remove("p");
        servers.answer("p", primary(5000, 1));
        servers.answer("r1", standby(4000));
        FailoverException e = assertThrows(FailoverException.class,
                () -> procedures.switchover("r1", Duration.ofSeconds(1), null));
        assertThat(e.step()).isEqualTo(FailoverStep.CATCH_UP);
        assertThat(gate.paused()).isFalse();
        assertThat(topology.primary()).isSameAs(p);
        assertThat(p.state()).isEqualTo(NodeState.UP);
        assertThat(servers.count("promote")).isZero();
    }

    @Test
    void switchoverThatFailsAfterDemotingGivesTheOldPrimaryBackItsWrites() {
        servers.unreachable.remove("p");
        servers.answer("p", primary(5000, 1));
        servers.answer("r1", standby(5000));
        servers.promoteFinishes = false;
        assertThrows(FailoverException.class, () -> procedures.switchover("r1", Duration.ofSeconds(30), null));
        assertThat(servers.calls).contains("readOnly p true", "readOnly p false");
        assertThat(topology.primary()).isSameAs(p);
        assertThat(p.state()).isEqualTo(NodeState.SUSPECT); // unfenced; the next good check makes it UP
        assertThat(gate.paused()).isFalse();
    }

    @Test
    void switchoverRefusesATargetThatIsNotAnUpReplica() {
        assertThrows(IllegalArgumentException.class, () -> procedures.switchover("nope", Duration.ofSeconds(1), null));
        assertThrows(IllegalArgumentException.class, () -> procedures.switchover("p", Duration.ofSeconds(1), null));
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(r1, "down", clock.millis());
        }
        assertThrows(IllegalStateException.class, () -> procedures.switchover("r1", Duration.ofSeconds(1), null));
    }
}

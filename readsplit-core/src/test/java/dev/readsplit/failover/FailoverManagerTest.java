package dev.readsplit.failover;

import dev.readsplit.Role;
import dev.readsplit.config.FailoverPolicy;
import dev.readsplit.topology.FakeClock;
import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.readsplit.failover.FakeActions.standby;
import static org.assertj.core.api.Assertions.assertThat;

/** The manager's trigger rules (driven by hand: policy NONE starts no thread). */
class FailoverManagerTest {

    private final FakeClock clock = new FakeClock(1_000_000);
    private final List<TopologyEvent> events = new CopyOnWriteArrayList<>();
    private final FakeActions servers = new FakeActions(clock);
    private Topology topology;
    private FailoverManager manager;

    @BeforeEach
    void setUp() {
        topology = new Topology(ProceduresTest.config().failoverPolicy(FailoverPolicy.NONE).build(), clock);
        topology.addListener(events::add);
        manager = new FailoverManager(topology, new WriteGate(), servers);
        topology.observeRole(topology.node("p"), Role.PRIMARY, 1);
        for (String r : List.of("r1", "r2", "r3")) {
            topology.observeRole(topology.node(r), Role.REPLICA, 1);
            servers.answer(r, standby(100));
            servers.streamsFrom.put(r, "p");
        }
        servers.unreachable.add("p");
    }

    @AfterEach
    void tearDown() {
        manager.close();
        topology.close();
    }

    private void down(String name) {
        Node n = topology.node(name);
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(n, "Connection refused", clock.millis());
        }
    }

    @Test
    void nothingHappensWhileThePrimaryIsNotDown() {
        topology.checkFailed(topology.node("p"), "refused", clock.millis()); // SUSPECT only
        manager.maybeFailover();
        assertThat(servers.calls).isEmpty();
    }

    @Test
    void withoutQuorumOneEventPerOutageAndNoPromotion() {
        down("r1");
        down("r2");
        down("p");
        manager.maybeFailover();
        manager.maybeFailover();
        assertThat(servers.count("promote")).isZero();
        assertThat(events.stream().filter(e -> e.kind() == TopologyEvent.Kind.FAILOVER_FAILED))
                .singleElement().satisfies(e -> assertThat(e.message()).contains("minHealthyReplicas (2)"));
    }

    @Test
    void withQuorumPromotesOnceAndThenHasNothingToDo() {
        down("p");
        manager.maybeFailover();
        manager.maybeFailover();
        assertThat(servers.count("promote")).isEqualTo(1);
        assertThat(manager.lastFailover().newPrimary()).isEqualTo("r1");
        assertThat(topology.primary().name()).isEqualTo("r1");
    }

    @Test
    void aFailedAttemptIsRetriedOnlyAfterTheStepTimeout() {
        servers.lockAvailable = false;
        down("p");
        manager.maybeFailover();
        long locks = servers.count("lock");
        manager.maybeFailover();
        assertThat(servers.count("lock")).isEqualTo(locks);
        clock.advance(2_001);
        servers.lockAvailable = true;
        manager.maybeFailover();
        assertThat(servers.count("promote")).isEqualTo(1);
    }

    @Test
    void theFirstReportSaysAcknowledgedWritesMayBeLostAndTheOldPrimaryGivesTheExactFigureWhenItReturns() {
        Node p = topology.node("p");
        p.observeWalLsn(0x5000, clock.millis());
        down("p");
        manager.maybeFailover();
        FailoverReport first = manager.lastFailover();
        assertThat(first.exactWalBytesPastPromotion()).isEqualTo(-1);
        assertThat(events).filteredOn(e -> e.kind() == TopologyEvent.Kind.FAILOVER_COMPLETED).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("with asynchronous replication, writes p acknowledged"
                        + " may be lost").contains("a lower bound"));

        // p comes back (fenced) and says where its WAL ended: past what the checks had seen of it
        servers.unreachable.remove("p");
        servers.endOfWal.put("p", first.promotedLsn() + 0x1F0);
        topology.checkSucceeded(p, 1_000_000, clock.millis());
        assertThat(events).anyMatch(e -> e.kind() == TopologyEvent.Kind.FENCED_ANSWERED && e.node().equals("p"));
        manager.measureLoss(first);
        assertThat(manager.lastFailover().exactWalBytesPastPromotion()).isEqualTo(0x1F0);
        assertThat(events).filteredOn(e -> e.kind() == TopologyEvent.Kind.DATA_LOSS_MEASURED).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("496 bytes past the promotion point"));
    }
}

package dev.readsplit.routing;

import dev.readsplit.Consistency;
import dev.readsplit.RouteReason;
import dev.readsplit.balance.BalancerKind;
import dev.readsplit.balance.Balancers;
import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.sql.Classification;
import dev.readsplit.sql.SqlClassifier;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The router's read-your-writes requirements for a read whose position no replica is known to have replayed, on a
 * topology whose servers are never contacted (nothing listens on their ports; pools open no connection): the wait,
 * the inline check the proxy does in the read's own round trip ({@link Router#CHECKS_REPLAY_INLINE}), and the
 * primary once the adapter has waited.
 */
class ReplayRequirementTest {

    private static final Classification READ = SqlClassifier.defaults().classify("SELECT 1");

    private Topology topology;
    private Router router;
    private SessionState session;

    @BeforeEach
    void setUp() {
        ReadsplitConfig config = ReadsplitConfig.builder().name("replay-requirement")
                .primary("127.0.0.1", 1).addReplica("127.0.0.1", 2).addReplica("127.0.0.1", 3)
                .database("db").user("u").minIdle(0).build();
        topology = new Topology(config);
        ReplicaSelector selector = new ReplicaSelector(topology, Balancers.create(BalancerKind.ROUND_ROBIN, null));
        router = new Router("replay-requirement", topology, selector, new MisrouteMemory(100), functions -> false,
                new RoutingScopes(Consistency.readYourWrites()), new RouteCounters(), () -> false, true, false);
        session = new SessionState(null);
        CausalPosition position = new CausalPosition();
        position.observe(1_000); // the session's writes end at 1,000; no replica is known to be there
        session.causal(position);
    }

    @AfterEach
    void tearDown() {
        topology.close();
    }

    private Decision route(int waited) {
        return router.route(session, READ, "SELECT 1", Operation.STATEMENT, Attempt.FIRST, null, waited);
    }

    @Test
    void aReadNoReplicaIsKnownToHaveReplayedForWaits() {
        Decision d = route(0);
        assertThat(d.requirement()).isEqualTo(Requirement.REPLAY_WAIT);
        assertThat(d.minLsn()).isEqualTo(1_000);
    }

    @Test
    void anAdapterThatChecksInlineGetsAReplicaAndTheWaitedOneThePrimary() {
        Decision checked = route(Router.CHECKS_REPLAY_INLINE);
        assertThat(checked.requirement()).isEqualTo(Requirement.NONE);
        assertThat(topology.replicas()).contains(checked.node());
        assertThat(checked.mayHaveWritten()).isFalse();

        Decision waited = route(Router.WAITED_REPLAY);
        assertThat(waited.node()).isSameAs(topology.primary());
        assertThat(waited.reason()).isEqualTo(RouteReason.TOKEN_NOT_REPLAYED);
    }

    @Test
    void aReplicaKnownToHaveReplayedIsChosenWithoutAnyRequirement() {
        Node r = topology.replicas().get(1);
        r.observeReplayLsn(2_000, r.replayGeneration());
        for (int flags : new int[] {0, Router.CHECKS_REPLAY_INLINE}) {
            Decision d = route(flags);
            assertThat(d.requirement()).isEqualTo(Requirement.NONE);
            assertThat(d.node()).isSameAs(r);
        }
    }

    @Test
    void withNoReplicaUpTheInlineCheckHasNothingToCheckAndTheReadGoesToThePrimary() {
        for (Node r : topology.replicas()) {
            topology.transition(r, NodeState.DOWN, "set by the test");
        }
        Decision d = route(Router.CHECKS_REPLAY_INLINE);
        assertThat(d.requirement()).isEqualTo(Requirement.NONE);
        assertThat(d.node()).isSameAs(topology.primary());
    }
}

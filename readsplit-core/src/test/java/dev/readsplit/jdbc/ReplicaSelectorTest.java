package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.Consistency;
import dev.readsplit.balance.BalancerKind;
import dev.readsplit.balance.Balancers;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.routing.ReplicaSelector;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ReplicaSelector#eligible}: the shared all-eligible list of the common case and the per-thread list of
 * the others give the same answers as node states change (over the stub driver; node states set by the test).
 */
class ReplicaSelectorTest {

    static ReadsplitDataSource ds;
    static Node r1;
    static Node r2;

    @BeforeAll
    static void open() {
        ds = StubClusters.dataSource("selector", Consistency.eventual(), CausalScope.CONNECTION, true);
        r1 = Topology.of(ds).node("r1");
        r2 = Topology.of(ds).node("r2");
    }

    @AfterAll
    static void close() {
        ds.close();
    }

    @Test
    void eligibleFollowsStateExclusionAndPositionWhateverWasReturnedBefore() {
        ReplicaSelector selector = new ReplicaSelector(Topology.of(ds), Balancers.create(BalancerKind.AFFINITY, null));
        StubClusters.replicas(ds, NodeState.UP);
        try {
            List<Node> both = selector.eligible(-1, -1, null);
            assertThat(both).containsExactly(r1, r2);
            List<Node> copy = new ArrayList<>(both);
            assertThat(selector.eligible(-1, -1, null)).containsExactly(r1, r2);
            assertThat(selector.eligible(-1, -1, r2)).containsExactly(r1);
            assertThat(both).as("the shared all-eligible list is not changed by later calls").isEqualTo(copy);
            Topology.of(ds).transition(r1, NodeState.DOWN, "set by the test");
            assertThat(selector.eligible(-1, -1, null)).containsExactly(r2);
            assertThat(selector.eligible(-1, -1, r2)).isEmpty();
            Topology.of(ds).transition(r1, NodeState.UP, "set by the test");
            assertThat(selector.eligible(-1, -1, null)).containsExactly(r1, r2);
            // generic nodes know no replay position: a causal position rules every replica out
            assertThat(selector.eligible(-1, 0, null)).isEmpty();
            // a staleness bound rules out replicas with no lag measurement
            assertThat(selector.eligible(1_000, -1, null)).isEmpty();
            assertThat(selector.eligible(-1, -1, null)).containsExactly(r1, r2);
        } finally {
            StubClusters.replicas(ds, NodeState.UP);
        }
    }

    @Test
    void threadsSeeTheirOwnAnswers() throws Exception {
        ReplicaSelector selector = new ReplicaSelector(Topology.of(ds), Balancers.create(BalancerKind.ROUND_ROBIN, null));
        StubClusters.replicas(ds, NodeState.UP);
        List<Node> mine = selector.eligible(-1, -1, r1);
        List<List<Node>> theirs = new ArrayList<>();
        Thread t = new Thread(() -> theirs.add(new ArrayList<>(selector.eligible(-1, -1, r2))));
        t.start();
        t.join();
        assertThat(mine).containsExactly(r2);
        assertThat(theirs.get(0)).containsExactly(r1);
    }
}

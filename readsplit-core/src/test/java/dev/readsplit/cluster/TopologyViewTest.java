package dev.readsplit.cluster;

import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.FakeClock;
import dev.readsplit.topology.LagLevel;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.TopologyEvent;
import dev.readsplit.topology.TopologyView;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The read-only view applications get from {@code ds.topology()}: it follows the state machine live, gives one stable
 * view object per node, hands out nothing that changes a node, and lists nodes in a list nobody can change.
 */
class TopologyViewTest {

    private final FakeClock clock = new FakeClock(1_000_000);
    private Topology topology;
    private TopologyView view;
    private Node p;
    private Node r1;

    @BeforeEach
    void setUp() {
        topology = new Topology(TopologyTest.config().build(), clock);
        view = topology.view();
        p = topology.nodes().get(0);
        r1 = topology.nodes().get(1);
    }

    @AfterEach
    void tearDown() {
        topology.close();
    }

    @Test
    void followsStateChangesLive() {
        NodeView v = view.node(r1.name());
        assertThat(v.state()).isEqualTo(NodeState.UP);
        for (int i = 0; i < 3; i++) {
            topology.checkFailed(r1, "refused", clock.millis());
        }
        assertThat(v.state()).isEqualTo(NodeState.DOWN);
        assertThat(v.lastError()).contains("3 consecutive failed checks", "refused");
        assertThat(v.consecutiveFailures()).isEqualTo(3);
        assertThat(v.healthCheckFailures()).isEqualTo(3);
        assertThat(StatusOf.healthy(view)).doesNotContain(r1.name());
    }

    @Test
    void followsThePrimaryAndFencing() {
        assertThat(view.primary()).isSameAs(p.view());
        assertThat(view.replicas()).extracting(NodeView::name).doesNotContain(p.name()).contains(r1.name());
        topology.promoteToPrimary(r1, "set by the test");
        assertThat(view.primary().name()).isEqualTo(r1.name());
        assertThat(view.replicas()).extracting(NodeView::name).doesNotContain(r1.name());
        topology.fence(p, "a second primary on an older timeline");
        assertThat(view.node(p.name()).fenced()).isTrue();
        assertThat(view.node(p.name()).state()).isEqualTo(NodeState.FENCED);
    }

    @Test
    void showsLagAndServedCounters() {
        topology.recordLag(r1, 4096, 1500);
        r1.endStatement(r1.beginStatement(), 2_000_000, true);
        r1.endStatement(r1.beginStatement(), 2_000_000, false);
        NodeView v = view.node(r1.name());
        assertThat(v.lagBytes()).isEqualTo(4096);
        assertThat(v.lagMillis()).isEqualTo(1500);
        assertThat(v.lagLevel()).isNotEqualTo(LagLevel.NONE);
        assertThat(v.lagPercentiles(clock.millis()).count()).isEqualTo(1);
        assertThat(v.readsServed()).isEqualTo(1);
        assertThat(v.writesServed()).isEqualTo(1);
        assertThat(v.statementLatency().getTotalCount()).isEqualTo(2);
        assertThat(v.latencyEwmaNanos()).isEqualTo(2_000_000);
        assertThat(v.poolStats().max()).isEqualTo(r1.poolStats().max()).isPositive();
        assertThat(v.role()).isEqualTo(Role.REPLICA);
        assertThat(v.config()).isSameAs(r1.config());
        assertThat(v.zone()).isEqualTo(r1.zone());
        assertThat(v.weight()).isEqualTo(r1.weight());
    }

    @Test
    void oneStableViewPerNodeThatIsNotTheNode() {
        assertThat(view.node(r1.name())).isSameAs(view.node(r1.name())).isSameAs(view.nodes().get(1))
                .isSameAs(r1.view());
        // (a NodeView cannot even be cast to Node at compile time: Node is final and does not implement it)
        assertThat(view.nodes()).allSatisfy(v -> assertThat((Object) v).isNotInstanceOf(Node.class));
        assertThat(view).isNotInstanceOf(Topology.class);
        assertThat(view.node("nobody")).isNull();
    }

    @Test
    void theListsCannotBeChanged() {
        assertThatThrownBy(() -> view.nodes().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> view.replicas().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> view.recentEvents().clear()).isInstanceOf(UnsupportedOperationException.class);
        assertThat(topology.nodes()).hasSize(3);
    }

    @Test
    void listenersSubscribedThroughTheViewHearEvents() {
        List<TopologyEvent> events = new CopyOnWriteArrayList<>();
        dev.readsplit.topology.TopologyListener listener = events::add;
        view.addListener(listener);
        topology.transition(r1, NodeState.SUSPECT, "set by the test");
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.kind()).isEqualTo(TopologyEvent.Kind.STATE_CHANGE);
            assertThat(e.node()).isEqualTo(r1.name());
        });
        assertThat(view.recentEvents()).containsExactlyElementsOf(events);
        view.removeListener(listener);
        topology.transition(r1, NodeState.UP, "set by the test");
        assertThat(events).hasSize(1);
        assertThat(view.recentEvents()).hasSize(2);
        assertThat(view.clock()).isSameAs(clock);
    }

    @Test
    void theDataSourceHandsOutTheViewAndKeepsTheStateMachineBehindUnwrap() throws Exception {
        ReadsplitConfig config = TopologyTest.config().healthCheckInterval(java.time.Duration.ofHours(1)).build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            TopologyView v = ds.topology();
            Topology internal = ds.unwrap(Topology.class);
            assertThat(Topology.of(ds)).isSameAs(internal);
            assertThat(v).isSameAs(internal.view()).isSameAs(ds.topology());
            assertThat(v.nodes()).extracting(NodeView::name).containsExactly("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3");
            internal.transition(internal.node("127.0.0.1:2"), NodeState.DOWN, "set by the test");
            assertThat(v.node("127.0.0.1:2").state()).isEqualTo(NodeState.DOWN);
        }
    }

    /** The names of the nodes the view shows as taking traffic. */
    private static final class StatusOf {
        static List<String> healthy(TopologyView v) {
            return v.nodes().stream().filter(n -> n.state() == NodeState.UP && !n.lagExcluded())
                    .map(NodeView::name).toList();
        }
    }
}

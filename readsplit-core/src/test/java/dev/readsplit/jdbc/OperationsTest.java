package dev.readsplit.jdbc;

import dev.readsplit.Consistency;
import dev.readsplit.cluster.Topology;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The operations facade's read-side additions, on stub servers: a connection to a named node, the failover status. */
class OperationsTest {

    @Test
    void connectionToReachesTheNamedServerWhateverItsStateAndChangesNothing() throws Exception {
        try (ReadsplitDataSource ds = StubClusters.dataSource("ops-probe", Consistency.eventual(), CausalScope.CONNECTION,
                true)) {
            Topology.of(ds).transition(Topology.of(ds).node("r1"), NodeState.DOWN, "set by the test");
            StubClusters.clear(ds);
            try (Connection c = ds.operations().connectionTo("r1"); Statement s = c.createStatement()) {
                s.execute("SELECT 'probe'");
            }
            assertThat(StubClusters.ranOn(ds, "SELECT 'probe'")).isEqualTo("r1");
            assertThat(ds.topology().node("r1").state()).isEqualTo(NodeState.DOWN);
            assertThat(ds.topology().node("r1").readsServed()).isZero();
            assertThatThrownBy(() -> ds.operations().connectionTo("nobody"))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no node named 'nobody'");
            ds.close();
            assertThatThrownBy(() -> ds.operations().connectionTo("r1"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }

    @Test
    void noFailoverHasRunYet() {
        try (ReadsplitDataSource ds = StubClusters.dataSource("ops-failover", Consistency.eventual(),
                CausalScope.CONNECTION, true)) {
            assertThat(ds.operations().lastFailover()).isNull();
            assertThat(ds.operations().failoverInProgress()).isFalse();
        }
    }
}

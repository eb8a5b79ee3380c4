package dev.readsplit.jdbc;

import dev.readsplit.Consistency;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The physical connections a node has lent to logical connections are what it aborts when it goes DOWN
 * ({@code Node.abortInFlight}, a hung server's statements failing at once): every connection still held is aborted,
 * none that was given back (over the stub driver; node states set by the test).
 */
class InUseConnectionsTest {

    @Test
    void aNodeGoingDownAbortsExactlyTheConnectionsStillHeldOnIt() throws Exception {
        try (ReadsplitDataSource ds = StubClusters.dataSource("inuse", Consistency.eventual(), CausalScope.CONNECTION,
                true)) {
            StubClusters.clear(ds);
            Connection a = ds.getConnection();
            Connection b = ds.getConnection();
            try {
                read(a, "SELECT 1 FROM held_a");
                read(b, "SELECT 1 FROM held_b");
                try (Connection c = ds.getConnection()) {
                    read(c, "SELECT 1 FROM given_back_c"); // its physical connection goes back to its pool here
                }
                String onA = StubClusters.ranOn(ds, "SELECT 1 FROM held_a");
                String onB = StubClusters.ranOn(ds, "SELECT 1 FROM held_b");
                assertThat(onA).isIn("r1", "r2");
                assertThat(onB).isIn("r1", "r2");

                StubClusters.replicas(ds, NodeState.DOWN);

                int onR1 = StubDriver.server("inuse-r1").aborts.get();
                int onR2 = StubDriver.server("inuse-r2").aborts.get();
                assertThat(onR1).as("aborted on r1").isEqualTo((onA.equals("r1") ? 1 : 0) + (onB.equals("r1") ? 1 : 0));
                assertThat(onR2).as("aborted on r2").isEqualTo((onA.equals("r2") ? 1 : 0) + (onB.equals("r2") ? 1 : 0));
            } finally {
                a.close();
                b.close();
                StubClusters.replicas(ds, NodeState.UP);
            }
            // closed, they are no longer held: a node going down again aborts nothing
            StubDriver.server("inuse-r1").heal();
            StubDriver.server("inuse-r2").heal();
            StubClusters.replicas(ds, NodeState.DOWN);
            assertThat(StubDriver.server("inuse-r1").aborts.get() + StubDriver.server("inuse-r2").aborts.get()).isZero();
        }
    }

    private static void read(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
        }
    }
}

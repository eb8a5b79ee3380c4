package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.Consistency;
import dev.readsplit.Role;
import dev.readsplit.RouteReason;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The drop-in rules of issue 14 on stub servers (fast, no PostgreSQL): retry for every autocommit read whatever the
 * role, a standby's refusals re-run on the primary (not 25006 on a read-only path), SQL-form serializable routed like
 * its JDBC form, a primary hint over read-only, and SETs inside a transaction following PostgreSQL's rule. The same
 * behaviours on a real cluster: readsplit-it's ReadRetryIT, SessionFidelityIT and PgjdbcApiIT.
 */
class DropInRulesTest {

    private static ReadsplitDataSource ds;
    private static int serial;

    @BeforeAll
    static void start() {
        ds = StubClusters.dataSource("dropin", Consistency.eventual(), CausalScope.CONNECTION, true);
    }

    @AfterAll
    static void stop() {
        ds.close();
    }

    @BeforeEach
    void up() {
        StubClusters.replicas(ds, NodeState.UP);
        StubClusters.clear(ds);
    }

    @AfterEach
    void healed() {
        // a traffic error in the test started an immediate check of its node: it must not land in the next test and
        // turn its node SUSPECT there (a read that should fail over and count a retry would then never reach it)
        StubClusters.awaitChecks(ds);
        for (String n : new String[] {"r1", "r2"}) {
            StubDriver.server("dropin-" + n).dead = false;
            StubDriver.server("dropin-" + n).refuseAsReadOnly = t -> false;
            StubDriver.server("dropin-" + n).refuseWithState = t -> null;
        }
        StubClusters.replicas(ds, NodeState.UP);
    }

    @ParameterizedTest
    @ValueSource(strings = {"read-only", "replica-role", "replica-hint"})
    void anAutocommitReadIsRetriedAfterAConnectionFailureWhateverTheRole(String mode) throws SQLException {
        try (Connection c = mode.equals("replica-role") ? ds.getConnection(Role.REPLICA) : ds.getConnection();
             Statement s = c.createStatement()) {
            c.setReadOnly(mode.equals("read-only"));
            String hint = mode.equals("replica-hint") ? "/* readsplit:replica */ " : "";
            // hold a physical connection to both replicas (round-robin), then r1 dies under them
            s.executeQuery(hint + "SELECT 1 FROM warm_a").close();
            s.executeQuery(hint + "SELECT 1 FROM warm_b").close();
            StubDriver.server("dropin-r1").dead = true;
            long retries = ds.readRetries();
            StubClusters.clear(ds);
            for (int i = 0; i < 4; i++) {
                String sql = hint + "SELECT " + i + " FROM after_failure_" + (++serial);
                s.executeQuery(sql).close();
                assertThat(StubClusters.ranOn(ds, sql)).as("%s read %d", mode, i).isEqualTo("r2");
            }
            assertThat(ds.readRetries()).isEqualTo(retries + 1);
        }
    }

    @Test
    void aConnectionSettingThatFailsOnAHeldConnectionReachesTheFailureFunnel() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeQuery("SELECT 1 FROM hold_a").close(); // hold both replicas' connections (round-robin)
            s.executeQuery("SELECT 1 FROM hold_b").close();
            StubDriver.server("dropin-r1").dead = true;
            SQLException e = assertThrows(SQLException.class,
                    () -> c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ));
            assertThat(e.getSQLState()).startsWith("08");
            assertThat(Topology.of(ds).node("r1").state()).as("r1 turned SUSPECT at once").isNotEqualTo(NodeState.UP);
        }
    }

    /** Regression: getWarnings, isValid and setClientInfo on a held connection bypassed the funnel (r1 stayed UP). */
    @ParameterizedTest
    @ValueSource(strings = {"getWarnings", "isValid", "setClientInfo"})
    void connectionMethodsThatTouchHeldConnectionsReachTheFailureFunnel(String method) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            // hold a connection to r1 (reads until one ran there: an idle pool may be preferred over the rotation)
            java.util.Set<String> held = new java.util.HashSet<>();
            for (int i = 0; i < 20 && !held.contains("r1"); i++) {
                String sql = "SELECT 1 FROM funnel_" + method + "_" + i;
                s.executeQuery(sql).close();
                held.add(StubClusters.ranOn(ds, sql));
            }
            assertThat(held).contains("r1");
            StubDriver.server("dropin-r1").dead = true;
            SQLException e = assertThrows(SQLException.class, () -> {
                switch (method) {
                    case "getWarnings" -> c.getWarnings();
                    case "isValid" -> c.isValid(1);
                    default -> c.setClientInfo("ApplicationName", "funnel-test");
                }
            });
            assertThat(e.getSQLState()).startsWith("08");
            assertThat(Topology.of(ds).node("r1").state()).as("r1 turned SUSPECT at once").isNotEqualTo(NodeState.UP);
        }
    }

    @Test
    void aWriteIsNeverRetried() throws SQLException {
        StubDriver.server("dropin-primary").dead = true;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            long retries = ds.readRetries();
            String sql = "INSERT INTO t VALUES (" + (++serial) + ")";
            SQLException e = assertThrows(SQLException.class, () -> s.executeUpdate(sql));
            assertThat(e.getSQLState()).startsWith("08");
            assertThat(StubClusters.ranOn(ds, sql)).isEmpty();
            assertThat(ds.readRetries()).isEqualTo(retries);
        } finally {
            StubDriver.server("dropin-primary").dead = false;
            Topology.of(ds).transition(Topology.of(ds).primary(), NodeState.UP, "healed by the test");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"55000", "0A000"})
    void aStandbyRefusalIsReRunOnThePrimaryCountedAndLearnedEvenOnAReadOnlyConnection(String state) throws SQLException {
        String sql = "SELECT * FROM pg_walfile_name_offset_" + state + "_" + (++serial);
        for (String n : new String[] {"r1", "r2"}) {
            StubDriver.server("dropin-" + n).refuseWithState = t -> t.equals(sql) ? state : null;
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            long misroutes = ds.misroutes();
            s.executeQuery(sql).close();
            ReadsplitConnection rc = (ReadsplitConnection) c;
            assertThat(rc.lastRoute().reason()).isEqualTo(RouteReason.MISROUTE);
            assertThat(rc.lastRoute().nodeName()).isEqualTo("primary");
            assertThat(ds.misroutes()).isEqualTo(misroutes + 1);
            s.executeQuery(sql).close();
            assertThat(rc.lastRoute().reason()).isEqualTo(RouteReason.LEARNED_MISROUTE);
        }
    }

    @Test
    void aWriteRefusedOnAReadOnlyConnectionFailsWithTheReplicasOwnError() throws SQLException {
        String sql = "SELECT * FROM writing_view_" + (++serial);
        for (String n : new String[] {"r1", "r2"}) {
            StubDriver.server("dropin-" + n).refuseAsReadOnly = t -> t.equals(sql);
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            long misroutes = ds.misroutes();
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery(sql));
            assertThat(e.getSQLState()).isEqualTo("25006");
            assertThat(StubClusters.ranOn(ds, sql)).isEmpty();
            assertThat(ds.misroutes()).isEqualTo(misroutes);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "BEGIN ISOLATION LEVEL SERIALIZABLE"})
    void sqlFormSerializableStartsTheTransactionOnThePrimaryOnAReadOnlyConnection(String sql) throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            if (sql.startsWith("SET")) {
                c.setAutoCommit(false);
            }
            s.execute(sql);
            ReadsplitConnection rc = (ReadsplitConnection) c;
            assertThat(rc.lastRoute().reason()).isEqualTo(RouteReason.SERIALIZABLE);
            assertThat(rc.lastRoute().nodeName()).isEqualTo("primary");
            String read = "SELECT 1 FROM in_serializable_" + (++serial);
            s.executeQuery(read).close();
            assertThat(StubClusters.ranOn(ds, read)).isEqualTo("primary");
            if (sql.startsWith("SET")) {
                c.commit();
            } else {
                s.execute("COMMIT");
            }
        }
    }

    @Test
    void aSerializableDefaultSendsReadsToThePrimaryWhileItHolds() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SET default_transaction_isolation = serializable");
            String read = "SELECT 1 FROM under_serializable_default_" + (++serial);
            s.executeQuery(read).close();
            assertThat(StubClusters.ranOn(ds, read)).isEqualTo("primary");
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.SERIALIZABLE);
            s.execute("RESET default_transaction_isolation");
            String after = "SELECT 1 FROM after_reset_" + (++serial);
            s.executeQuery(after).close();
            assertThat(StubClusters.ranOn(ds, after)).isIn("r1", "r2");
        }
    }

    @Test
    void aPrimaryHintWinsOverReadOnlyAndPicksTheTransactionsNode() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            String hinted = "/* readsplit:primary */ SELECT 1 FROM hinted_" + (++serial);
            s.executeQuery(hinted).close();
            assertThat(StubClusters.ranOn(ds, hinted)).isEqualTo("primary");
            c.setAutoCommit(false);
            String first = "/* readsplit:primary */ SELECT 1 FROM first_" + (++serial);
            String second = "SELECT 1 FROM second_" + (++serial);
            s.executeQuery(first).close();
            s.executeQuery(second).close();
            assertThat(StubClusters.ranOn(ds, second)).isEqualTo("primary");
            c.commit();
        }
    }

    @Test
    void aSetBeforeAnErrorIsNotReplayedWhenTheAbortedTransactionCommits() throws SQLException {
        String set = "SET search_path = aborted_" + (++serial);
        String failing = "SELECT 1 / 0 FROM t_" + serial;
        StubDriver.server("dropin-primary").refuseWithState = t -> t.equals(failing) ? "22012" : null;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute(set);
            assertThrows(SQLException.class, () -> s.executeQuery(failing));
            c.commit(); // PostgreSQL answers ROLLBACK
            c.setAutoCommit(true);
            s.executeQuery("SELECT 1 FROM open_r_c").close();
            s.executeQuery("SELECT 1 FROM open_r_d").close();
        } finally {
            StubDriver.server("dropin-primary").refuseWithState = t -> null;
        }
        assertThat(StubClusters.ranOn(ds, set)).isEqualTo("primary");
    }

    @Test
    void aSetInACommittedTransactionIsReplayedOnConnectionsOpenedLaterAndARolledBackOneIsNot() throws SQLException {
        String committed = "SET search_path = committed_" + (++serial);
        String rolledBack = "SET search_path = rolled_back_" + (++serial);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute(rolledBack);
            c.rollback();
            s.execute(committed);
            c.commit();
            c.setAutoCommit(true);
            s.executeQuery("SELECT 1 FROM open_r_a").close(); // opens the replicas' connections
            s.executeQuery("SELECT 1 FROM open_r_b").close();
        }
        assertThat(StubClusters.ranOn(ds, committed)).isEqualTo("primary,r1,r2");
        assertThat(StubClusters.ranOn(ds, rolledBack)).isEqualTo("primary");
    }
}

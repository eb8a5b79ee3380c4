package dev.readsplit.it;

import dev.readsplit.Consistency;
import dev.readsplit.Role;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import static dev.readsplit.it.Placement.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Session state and explicit control through a logical connection, as PostgreSQL itself would behave on one
 * connection (issue 14, items 3, 4, 7, 8 and 9): SQL-form transaction control routed like its JDBC form, {@code SET}
 * inside committed and rolled-back transactions followed by every node, every changed physical connection reset
 * before the next borrower, hints against read-only, and the statements a standby refuses re-run on the primary.
 * What each node holds is asked of the node itself.
 */
class SessionFidelityIT {

    private static final String DEFAULT_SEARCH_PATH = "\"$user\", public";
    /** Who and where the server says this statement runs, with the settings a session can change. */
    private static final String STATE = "SELECT inet_server_port(), pg_is_in_recovery()::text, current_user,"
            + " current_setting('search_path'), current_setting('statement_timeout'), current_setting('application_name')";

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    /** One physical connection per node, so the next borrower is certainly the same physical connection. */
    private static ReadsplitDataSource single;
    private static int primaryPort;
    private static Set<Integer> standbyPorts;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password("Session-Fidelity-pw1").start();
        Placement.exec(cluster.primary(), "CREATE ROLE app_reader NOLOGIN");
        Placement.exec(cluster.primary(), "CREATE SCHEMA other");
        Placement.exec(cluster.primary(), "GRANT USAGE ON SCHEMA other TO app_reader");
        Placement.exec(cluster.primary(), "CREATE TABLE other.marker (v text)");
        Placement.exec(cluster.primary(), "INSERT INTO other.marker VALUES ('from other')");
        Placement.exec(cluster.primary(), "GRANT SELECT ON other.marker TO app_reader");
        // statesByNode reads one session's state on every standby: round-robin (named because the test depends on
        // it) reaches both within a session; the default, AFFINITY, would keep a session's reads on one replica
        ds = new ReadsplitDataSource(Placement.config(cluster, "session-fidelity")
                .consistency(Consistency.eventual()).balancer(dev.readsplit.balance.BalancerKind.ROUND_ROBIN).build());
        single = new ReadsplitDataSource(Placement.config(cluster, "session-reset")
                .consistency(Consistency.eventual()).balancer(dev.readsplit.balance.BalancerKind.ROUND_ROBIN)
                .primaryPoolSize(1).replicaPoolSize(1).build());
        Placement.awaitAllUp(ds);
        Placement.awaitAllUp(single);
        Placement.awaitReplayed(cluster);
        primaryPort = cluster.primary().port();
        standbyPorts = Placement.standbyPorts(cluster);
    }

    @AfterAll
    static void stop() {
        if (single != null) {
            single.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Item 3: SQL-form transaction control routes like its JDBC form

    @ParameterizedTest
    @ValueSource(strings = {
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE READ ONLY",
    })
    void serializableSetAsTheFirstStatementOfAReadOnlyTransactionRunsOnThePrimary(String sql) throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
            Row r = row(c, STATE);
            assertThat(r.port).as("a standby refuses serializable (0A000): it must run on the primary").isEqualTo(primaryPort);
            assertThat(string(c, "SHOW transaction_isolation")).isEqualTo("serializable");
            assertThat(string(c, "SHOW transaction_read_only")).isEqualTo("on");
            c.commit();
        }
    }

    @Test
    void beginIsolationLevelSerializableOnAReadOnlyConnectionRunsOnThePrimary() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            s.execute("BEGIN ISOLATION LEVEL SERIALIZABLE");
            assertThat(row(c, STATE).port).isEqualTo(primaryPort);
            assertThat(string(c, "SHOW transaction_isolation")).isEqualTo("serializable");
            s.execute("COMMIT");
            // after the transaction, reads go back to the standbys
            assertThat(standbyPorts).contains(row(c, STATE).port);
        }
    }

    @Test
    void sessionCharacteristicsSerializableOnAReadOnlyConnectionRunsOnThePrimaryLikeSetTransactionIsolation()
            throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE");
            c.setAutoCommit(false);
            assertThat(row(c, STATE).port).isEqualTo(primaryPort);
            assertThat(string(c, "SHOW transaction_isolation")).isEqualTo("serializable");
            c.commit();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Item 4: SET inside transactions, PostgreSQL's rules

    @Test
    void setInsideACommittedTransactionFollowsTheSessionToEveryNode() throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET search_path = other, public");
                s.execute("SET statement_timeout = '4321s'");
                s.execute("SET application_name = 'set-in-committed-tx'");
                s.execute("SET ROLE app_reader");
                s.execute("SET LOCAL lock_timeout = '9s'"); // ends with the transaction
            }
            c.commit();
            c.setAutoCommit(true);
            Map<Integer, Row> byNode = statesByNode(c, 3);
            assertThat(byNode.keySet()).containsAll(standbyPorts);
            for (Row r : byNode.values()) {
                assertThat(r.user).as("role on " + r.port).isEqualTo("app_reader");
                assertThat(r.searchPath).as("search_path on " + r.port).isEqualTo("other, public");
                assertThat(r.statementTimeout).as("statement_timeout on " + r.port).isEqualTo("4321s");
                assertThat(r.applicationName).as("application_name on " + r.port).isEqualTo("set-in-committed-tx");
            }
            assertThat(string(c, "SELECT v FROM marker")).isEqualTo("from other");
            assertThat(string(c, "SHOW lock_timeout")).isEqualTo("0");
        }
    }

    /** {@code set_config} cannot be replayed as a SET (its arguments may be expressions): it pins the session. */
    @Test
    void setConfigInsideACommittedTransactionPinsTheSessionToThePrimary() throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT set_config('application_name', 'from-set-config', false)").close();
            }
            c.commit();
            c.setAutoCommit(true);
            for (Row r : statesByNode(c, 2).values()) {
                assertThat(r.port).isEqualTo(primaryPort);
                assertThat(r.applicationName).isEqualTo("from-set-config");
            }
        }
    }

    @Test
    void setInsideARolledBackTransactionIsUndoneEverywhere() throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET search_path = other, public");
                s.execute("SET ROLE app_reader");
            }
            c.rollback();
            c.setAutoCommit(true);
            Map<Integer, Row> byNode = statesByNode(c, 3);
            for (Row r : byNode.values()) {
                assertThat(r.user).as("role on " + r.port).isEqualTo(cluster.user());
                assertThat(r.searchPath).as("search_path on " + r.port).isEqualTo(DEFAULT_SEARCH_PATH);
            }
            try (Connection p = ds.getConnection(Role.PRIMARY)) {
                // a fresh connection of this data source; and the same logical connection on the primary
                assertThat(row(p, STATE).user).isEqualTo(cluster.user());
            }
            c.setAutoCommit(false);
            Row onPrimary = row(c, STATE);
            assertThat(onPrimary.port).isEqualTo(primaryPort);
            assertThat(onPrimary.searchPath).isEqualTo(DEFAULT_SEARCH_PATH);
            c.commit();
        }
    }

    /** PostgreSQL answers COMMIT of a transaction an error aborted with ROLLBACK: its SETs are undone too. */
    @Test
    void aSetBeforeAnErrorIsUndoneByTheAbortedTransactionsCommit() throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET search_path = other, public");
                assertThrows(SQLException.class, () -> s.executeQuery("SELECT 1 / 0"));
            }
            c.commit();
            c.setAutoCommit(true);
            for (Row r : statesByNode(c, 3).values()) {
                assertThat(r.searchPath).as("search_path on " + r.port).isEqualTo(DEFAULT_SEARCH_PATH);
            }
        }
    }

    /**
     * The security defect of issue 14: a role set inside a committed transaction went back to the pool with the
     * physical connection. With one physical connection per node, the next borrower gets exactly those connections.
     */
    @Test
    void theNextBorrowerOnEveryNodeStartsCleanAfterSetRoleInACommittedTransaction() throws SQLException {
        try (Connection c = single.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SET ROLE app_reader");
                s.execute("SET search_path = other");
                s.execute("SET statement_timeout = '1234s'");
                s.execute("SET application_name = 'dirty'");
            }
            c.commit();
            c.setAutoCommit(true);
            statesByNode(c, 3); // touch every standby, each now carrying the session's state
        }
        Map<Integer, Row> next = new HashMap<>();
        try (Connection p = single.getConnection(Role.PRIMARY)) {
            Row r = row(p, STATE);
            next.put(r.port, r);
        }
        for (int i = 0; i < 4; i++) {
            try (Connection r = single.getConnection(Role.REPLICA)) {
                Row row = row(r, STATE);
                next.put(row.port, row);
            }
        }
        assertThat(next.keySet()).contains(primaryPort).containsAll(standbyPorts);
        for (Row r : next.values()) {
            assertThat(r.user).as("role of the next borrower on " + r.port).isEqualTo(cluster.user());
            assertThat(r.searchPath).as("search_path on " + r.port).isEqualTo(DEFAULT_SEARCH_PATH);
            assertThat(r.statementTimeout).as("statement_timeout on " + r.port).isEqualTo("0");
            assertThat(r.applicationName).as("application_name on " + r.port).isNotEqualTo("dirty");
        }
    }

    /**
     * The other side of the reset: a session that changed nothing pays nothing (issue 14, item 4). Counted on the
     * servers by pg_stat_statements: no {@code DISCARD ALL} anywhere after a session of plain reads and a write;
     * one on the primary after a session that ran a SET there (the control: the count does see resets).
     */
    @Test
    void aSessionThatChangedNothingIsNotResetOnReturn() throws SQLException {
        Placement.exec(cluster.primary(), "CREATE TABLE IF NOT EXISTS clean_session (v text)");
        Placement.awaitReplayed(cluster);
        long before = discards();
        try (Connection c = single.getConnection(); Statement s = c.createStatement()) {
            for (int i = 0; i < 4; i++) {
                s.executeQuery("SELECT " + i + " FROM clean_session").close();
            }
            s.executeUpdate("INSERT INTO clean_session VALUES ('clean session')");
            s.executeQuery("SELECT count(*) FROM clean_session").close();
        }
        assertThat(discards()).as("DISCARD ALL run by a session that changed nothing").isEqualTo(before);
        try (Connection c = single.getConnection(Role.PRIMARY); Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = '4321s'");
        }
        assertThat(discards()).as("DISCARD ALL after a session that ran a SET").isGreaterThan(before);
    }

    /** DISCARD ALL statements run so far on every node of the cluster, as each server counts them. */
    private static long discards() {
        long n = 0;
        for (var node : cluster.nodes()) {
            n += Placement.queryLong(node, "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                    + " WHERE query ILIKE 'DISCARD ALL%'");
        }
        return n;
    }

    // ---------------------------------------------------------------------------------------------
    // Item 9: what a standby refuses for reasons other than read-only

    @Test
    void aReadAStandbyRefusesWithRecoveryInProgressIsReRunOnThePrimaryAndLearned() throws SQLException {
        String sql = "SELECT inet_server_port(), file_name FROM pg_walfile_name_offset('0/3000028')";
        long misroutes = ds.misroutes();
        try (Connection c = ds.getConnection()) {
            assertThat(Placement.port(c, sql)).isEqualTo(primaryPort);
            assertThat(ds.misroutes()).as("counted like 25006").isEqualTo(misroutes + 1);
            assertThat(Placement.port(c, sql)).as("learned: straight to the primary").isEqualTo(primaryPort);
            assertThat(ds.misroutes()).isEqualTo(misroutes + 1);
        }
    }

    @Test
    void aSessionWhoseDefaultIsolationIsSerializableReadsFromThePrimaryWhileItHolds() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("SET default_transaction_isolation = serializable");
            for (int i = 0; i < 3; i++) {
                assertThat(row(c, STATE).port).as("a standby refuses every statement now (0A000)").isEqualTo(primaryPort);
            }
            s.execute("RESET default_transaction_isolation");
            assertThat(standbyPorts).contains(row(c, STATE).port);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Item 7: explicit hint versus read-only; item 8: getConnection(user, password)

    @Test
    void aPrimaryHintWinsOverReadOnlyForThatStatementAndStillRunsReadOnly() throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setReadOnly(true);
            String hinted = "/* readsplit:primary */ SELECT inet_server_port(), current_setting('transaction_read_only')";
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(hinted)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(primaryPort);
                assertThat(rs.getString(2)).isEqualTo("on");
            }
            assertThat(standbyPorts).as("the next, unhinted statement").contains(row(c, STATE).port);
            // in a transaction, the hint on its first statement picks the node for the whole transaction
            c.setAutoCommit(false);
            assertThat(Placement.port(c, hinted)).isEqualTo(primaryPort);
            assertThat(row(c, STATE).port).isEqualTo(primaryPort);
            c.commit();
        }
    }

    @Test
    void getConnectionWithUserAndPasswordIsAClearRefusal() {
        SQLFeatureNotSupportedException e = assertThrows(SQLFeatureNotSupportedException.class,
                () -> ds.getConnection("someone", "secret-pw"));
        assertThat(e.getMessage()).contains("session-fidelity").contains("per node").doesNotContain("secret-pw");
    }

    // ---------------------------------------------------------------------------------------------

    private record Row(int port, boolean standby, String user, String searchPath, String statementTimeout,
                       String applicationName) {
    }

    private static Row row(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return new Row(rs.getInt(1), Boolean.parseBoolean(rs.getString(2)), rs.getString(3), rs.getString(4),
                    rs.getString(5), rs.getString(6));
        }
    }

    /** Runs {@link #STATE} enough times for the balancer to reach every standby; the last answer per node. */
    private static Map<Integer, Row> statesByNode(Connection c, int rounds) throws SQLException {
        Map<Integer, Row> byNode = new HashMap<>();
        for (int i = 0; i < rounds * Math.max(1, standbyPorts.size()); i++) {
            Row r = row(c, STATE);
            byNode.put(r.port, r);
        }
        return byNode;
    }
}

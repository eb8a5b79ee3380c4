package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.RouteReason;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.Consistency;
import dev.readsplit.embedded.EmbeddedCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

import java.math.BigDecimal;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Duration;
import java.time.LocalDate;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import static dev.readsplit.jdbc.Clusters.exec;
import static dev.readsplit.jdbc.Clusters.port;
import static dev.readsplit.jdbc.Clusters.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The JDBC behaviour applications rely on, through a {@link ReadsplitDataSource} on a real primary and two
 * streaming standbys. Where a statement ran is asserted by the server ({@code inet_server_port()}).
 */
class JdbcBehaviourIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static int primaryPort;
    private static Set<Integer> replicaPorts;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password("Jdbc-Behav1our").start();
        exec(cluster.primary(), "CREATE TABLE t (id bigserial PRIMARY KEY, name text, port int)");
        exec(cluster.primary(), "CREATE TABLE typed (id bigserial PRIMARY KEY, i int, l bigint, s text, n numeric(20,6),"
                + " ts timestamp, b bytea, u uuid, d date, port int)");
        exec(cluster.primary(), "CREATE SCHEMA other");
        exec(cluster.primary(), "CREATE TABLE other.marker (v text)");
        exec(cluster.primary(), "INSERT INTO other.marker VALUES ('from other schema')");
        exec(cluster.primary(), "CREATE PROCEDURE add_row(p_name text) LANGUAGE sql AS $$ INSERT INTO t(name, port) VALUES (p_name, inet_server_port()) $$");
        exec(cluster.primary(), "CREATE FUNCTION port_plus(x int) RETURNS int VOLATILE LANGUAGE sql AS $$ SELECT inet_server_port() + x $$");
        exec(cluster.primary(), "CREATE FUNCTION warn_and_return(x int) RETURNS int STABLE LANGUAGE plpgsql AS $$ BEGIN RAISE WARNING 'careful with %', x; RETURN x; END $$");
        ds = new ReadsplitDataSource(Clusters.config(cluster)
                .name("jdbc-behaviour")
                // "on every replica" within a few reads of one thread: round-robin, not the default affinity
                .balancer(dev.readsplit.balance.BalancerKind.ROUND_ROBIN)
                // JDBC behaviour of one logical connection: reads here must not wait on the writes other tests of
                // this class made on the same thread (the default thread scope's sharing is CausalScopeIT's subject)
                .causalScope(CausalScope.CONNECTION)
                // {call proc(?)} runs CALL for a procedure (pgjdbc's default rewrites it into a SELECT)
                .jdbcProperty("escapeSyntaxCallMode", "callIfNoReturn")
                .build());
        Clusters.awaitAllUp(ds);
        primaryPort = cluster.primary().port();
        replicaPorts = Set.of(cluster.standby(0).port(), cluster.standby(1).port());
        await().atMost(Duration.ofSeconds(30)).until(() -> cluster.standbys().stream()
                .allMatch(s -> queryLong(s, "SELECT count(*) FROM pg_proc WHERE proname = 'warn_and_return'") == 1));
    }

    @AfterAll
    static void stop() {
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void poolsAreBackToZeroActive() {
        assertThat(Clusters.activeConnections(ds)).as("physical connections still borrowed").isZero();
    }

    // ---------------------------------------------------------------------------------------------
    // Statement and ResultSet

    @Test
    void statementReadsOnAReplicaWritesOnThePrimaryAndResultSetsWorkAsUsual() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            assertThat(s.getConnection()).isSameAs(c);
            try (ResultSet rs = s.executeQuery("SELECT g AS n, 'row ' || g AS label, NULL::int AS nothing, inet_server_port() AS port"
                    + " FROM generate_series(1, 3) g ORDER BY g")) {
                ResultSetMetaData md = rs.getMetaData();
                assertThat(md.getColumnCount()).isEqualTo(4);
                assertThat(md.getColumnLabel(2)).isEqualTo("label");
                for (int i = 1; i <= 3; i++) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt("n")).isEqualTo(i);
                    assertThat(rs.getString(2)).isEqualTo("row " + i);
                    assertThat(rs.getInt("nothing")).isZero();
                    assertThat(rs.wasNull()).isTrue();
                    assertThat(replicaPorts).contains(rs.getInt("port"));
                }
                assertThat(rs.next()).isFalse();
            }
            assertThat(s.executeUpdate("INSERT INTO t(name, port) VALUES ('stmt', inet_server_port())")).isEqualTo(1);
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.WRITE);
            assertThat(s.execute("UPDATE t SET name = 'stmt2' WHERE name = 'stmt'")).isFalse();
            assertThat(s.getUpdateCount()).isEqualTo(1);
            assertThat(s.getResultSet()).isNull();
            assertThat(s.execute("SELECT name, port FROM t WHERE name = 'stmt2'")).isTrue();
            try (ResultSet rs = s.getResultSet()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("stmt2");
                assertThat(rs.getInt(2)).isEqualTo(primaryPort);
            }
            assertThat(s.getUpdateCount()).isEqualTo(-1);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // PreparedStatement parameters

    @Test
    void preparedReadBindsEveryParameterTypeOnEveryReplica() throws SQLException {
        byte[] bytes = {0, 1, 2, (byte) 0xff, 42};
        Timestamp ts = Timestamp.valueOf("2024-02-29 13:45:56.123456");
        BigDecimal amount = new BigDecimal("12345678901234.123456");
        UUID uuid = UUID.randomUUID();
        Set<Integer> seen = new HashSet<>();
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT ?::int, ?::bigint, ?::text, ?::text IS NULL, ?::numeric,"
                     + " ?::timestamp, ?::bytea, ?::uuid, ?::date, inet_server_port()")) {
            assertThat(ps.getConnection()).isSameAs(c);
            for (int round = 0; round < 6; round++) { // round robin: every replica binds the same parameters
                ps.setInt(1, 7 + round);
                ps.setLong(2, Long.MAX_VALUE - round);
                ps.setString(3, "héllo 'quoted' ✓ " + round);
                ps.setNull(4, Types.VARCHAR);
                ps.setBigDecimal(5, amount);
                ps.setTimestamp(6, ts);
                ps.setBytes(7, bytes);
                ps.setObject(8, uuid);
                ps.setObject(9, LocalDate.of(2024, 2, 29));
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(7 + round);
                    assertThat(rs.getLong(2)).isEqualTo(Long.MAX_VALUE - round);
                    assertThat(rs.getString(3)).isEqualTo("héllo 'quoted' ✓ " + round);
                    assertThat(rs.getBoolean(4)).isTrue();
                    assertThat(rs.getBigDecimal(5)).isEqualByComparingTo(amount);
                    assertThat(rs.getTimestamp(6)).isEqualTo(ts);
                    assertThat(rs.getBytes(7)).isEqualTo(bytes);
                    assertThat(rs.getObject(8)).isEqualTo(uuid);
                    assertThat(rs.getObject(9, LocalDate.class)).isEqualTo(LocalDate.of(2024, 2, 29));
                    seen.add(rs.getInt(10));
                }
            }
            // parameters survive between executions, and clearParameters really clears them
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(12);
            }
            ps.clearParameters();
            assertThrows(SQLException.class, () -> ps.executeQuery().close());
        }
        assertThat(seen).isEqualTo(replicaPorts);
    }

    @Test
    void preparedWriteBindsEveryParameterTypeOnThePrimary() throws SQLException {
        byte[] bytes = {9, 8, 7};
        Timestamp ts = Timestamp.valueOf("1999-12-31 23:59:59.5");
        UUID uuid = UUID.randomUUID();
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO typed(i, l, s, n, ts, b, u, d, port)"
                     + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, inet_server_port())")) {
            ps.setInt(1, -5);
            ps.setLong(2, 1L << 40);
            ps.setString(3, null);
            ps.setBigDecimal(4, new BigDecimal("-0.000001"));
            ps.setTimestamp(5, ts);
            ps.setBytes(6, bytes);
            ps.setObject(7, uuid);
            ps.setObject(8, LocalDate.of(1970, 1, 1), Types.DATE);
            assertThat(ps.executeUpdate()).isEqualTo(1);
            assertThat(((ReadsplitConnection) c).lastRoute().node().name()).isEqualTo(Topology.of(ds).primary().name());
        }
        try (Connection c = ds.getConnection(dev.readsplit.Role.PRIMARY);
             PreparedStatement ps = c.prepareStatement("SELECT i, l, s, n, ts, b, d, port FROM typed WHERE u = ?")) {
            ps.setObject(1, uuid);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(-5);
                assertThat(rs.getLong(2)).isEqualTo(1L << 40);
                assertThat(rs.getString(3)).isNull();
                assertThat(rs.getBigDecimal(4)).isEqualByComparingTo("-0.000001");
                assertThat(rs.getTimestamp(5)).isEqualTo(ts);
                assertThat(rs.getBytes(6)).isEqualTo(bytes);
                assertThat(rs.getObject(7, LocalDate.class)).isEqualTo(LocalDate.of(1970, 1, 1));
                assertThat(rs.getInt(8)).isEqualTo(primaryPort);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // CallableStatement

    @Test
    void callableStatementsRunOnThePrimary() throws SQLException {
        try (Connection c = ds.getConnection()) {
            try (CallableStatement cs = c.prepareCall("{call add_row(?)}")) {
                assertThat(cs.getConnection()).isSameAs(c);
                cs.setString(1, "called");
                cs.execute();
            }
            try (CallableStatement cs = c.prepareCall("{? = call port_plus(?)}")) {
                cs.registerOutParameter(1, Types.INTEGER);
                cs.setInt(2, 1000);
                cs.execute();
                assertThat(cs.getInt(1)).isEqualTo(primaryPort + 1000);
            }
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.WRITE);
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'called' AND port = " + primaryPort)).isEqualTo(1);
        // inside a transaction, a call joins it
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try (CallableStatement cs = c.prepareCall("{call add_row(?)}")) {
                cs.setString(1, "called-in-txn");
                cs.execute();
            }
            assertThat(port(c, "SELECT port FROM t WHERE name = 'called-in-txn'")).isEqualTo(primaryPort);
            c.rollback();
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'called-in-txn'")).isZero();
    }

    // ---------------------------------------------------------------------------------------------
    // batches

    @Test
    void statementBatchRunsOnThePrimaryAndReturnsEachCount() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.addBatch("INSERT INTO t(name, port) VALUES ('sb1', inet_server_port())");
            s.addBatch("INSERT INTO t(name, port) VALUES ('sb2', inet_server_port()), ('sb2', inet_server_port())");
            s.addBatch("UPDATE t SET name = 'sb3' WHERE name = 'sb2'");
            s.addBatch("DELETE FROM t WHERE name = 'no such row'");
            assertThat(s.executeBatch()).containsExactly(1, 2, 2, 0);
            assertThat(s.executeBatch()).as("the batch was cleared").isEmpty();
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name IN ('sb1', 'sb3') AND port = " + primaryPort)).isEqualTo(3);
    }

    @Test
    void preparedBatchRunsOnThePrimaryAndReturnsEachCount() throws SQLException {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO t(name, port) VALUES (?, inet_server_port())")) {
            for (int i = 0; i < 5; i++) {
                ps.setString(1, "pb" + i);
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            assertThat(counts).hasSize(5);
            for (int n : counts) {
                assertThat(n).isIn(1, Statement.SUCCESS_NO_INFO);
            }
            assertThat(((ReadsplitConnection) c).lastRoute().node()).isSameAs(ds.topology().primary());
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name LIKE 'pb_' AND port = " + primaryPort)).isEqualTo(5);
        // a batch in a transaction is part of it: rolled back with it
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO t(name, port) VALUES (?, inet_server_port())")) {
            c.setAutoCommit(false);
            ps.setString(1, "pb-txn");
            ps.addBatch();
            ps.addBatch();
            assertThat(ps.executeBatch()).hasSize(2);
            assertThat(port(c, "SELECT count(*) FROM t WHERE name = 'pb-txn'")).isEqualTo(2);
            c.rollback();
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'pb-txn'")).isZero();
    }

    // ---------------------------------------------------------------------------------------------
    // generated keys

    @Test
    void generatedKeysComeBackFromThePrimary() throws SQLException {
        try (Connection c = ds.getConnection()) {
            long first;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t(name, port) VALUES (?, inet_server_port())",
                    Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, "gk");
                assertThat(ps.executeUpdate()).isEqualTo(1);
                try (ResultSet keys = ps.getGeneratedKeys()) {
                    assertThat(keys.next()).isTrue();
                    first = keys.getLong("id");
                    assertThat(keys.getInt("port")).isEqualTo(primaryPort);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO t(name, port) VALUES (?, inet_server_port())",
                    new String[] {"id", "port"})) {
                ps.setString(1, "gk2");
                assertThat(ps.executeUpdate()).isEqualTo(1);
                try (ResultSet keys = ps.getGeneratedKeys()) {
                    assertThat(keys.next()).isTrue();
                    assertThat(keys.getMetaData().getColumnCount()).isEqualTo(2);
                    assertThat(keys.getLong(1)).isGreaterThan(first);
                    assertThat(keys.getInt(2)).isEqualTo(primaryPort);
                }
            }
            try (Statement s = c.createStatement()) {
                assertThat(s.executeUpdate("INSERT INTO t(name, port) VALUES ('gk3', inet_server_port())",
                        Statement.RETURN_GENERATED_KEYS)).isEqualTo(1);
                try (ResultSet keys = s.getGeneratedKeys()) {
                    assertThat(keys.next()).isTrue();
                    assertThat(keys.getLong("id")).isGreaterThan(first);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // metadata

    @Test
    void databaseAndResultSetMetaData() throws SQLException {
        try (Connection c = ds.getConnection()) {
            DatabaseMetaData md = c.getMetaData();
            assertThat(md.getDatabaseProductName()).isEqualTo("PostgreSQL");
            assertThat(md.getDatabaseMajorVersion()).isGreaterThanOrEqualTo(12);
            try (ResultSet tables = md.getTables(null, "public", "typed", new String[] {"TABLE"})) {
                assertThat(tables.next()).isTrue();
                assertThat(tables.getString("TABLE_NAME")).isEqualTo("typed");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id, s, n, inet_server_port() AS port FROM typed WHERE i = ?")) {
                // before any execution
                ResultSetMetaData rmd = ps.getMetaData();
                assertThat(rmd.getColumnCount()).isEqualTo(4);
                assertThat(rmd.getColumnName(1)).isEqualTo("id");
                assertThat(rmd.getColumnType(1)).isEqualTo(Types.BIGINT);
                assertThat(rmd.getColumnType(2)).isEqualTo(Types.VARCHAR);
                assertThat(rmd.getColumnType(3)).isEqualTo(Types.NUMERIC);
                assertThat(rmd.getColumnLabel(4)).isEqualTo("port");
                assertThat(ps.getParameterMetaData().getParameterCount()).isEqualTo(1);
                // and after one, on a replica
                ps.setInt(1, -12345);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isFalse();
                    assertThat(rs.getMetaData().getColumnCount()).isEqualTo(4);
                }
                assertThat(replicaPorts.stream().map(String::valueOf))
                        .anyMatch(p -> ((ReadsplitConnection) c).lastRoute().node().name().endsWith(p));
                assertThat(ps.getMetaData().getColumnName(2)).isEqualTo("s");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // transactions

    @Test
    void commitRollbackAndAutoCommitSwitching() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            assertThat(c.getAutoCommit()).isTrue();
            assertThrows(SQLException.class, c::commit, "commit with auto-commit on");
            c.setAutoCommit(false);
            assertThat(c.getAutoCommit()).isFalse();
            s.executeUpdate("INSERT INTO t(name, port) VALUES ('tx-commit', inet_server_port())");
            assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'tx-commit'")).as("not yet committed").isZero();
            c.commit();
            assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'tx-commit'")).isEqualTo(1);
            s.executeUpdate("INSERT INTO t(name, port) VALUES ('tx-rollback', inet_server_port())");
            c.rollback();
            assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'tx-rollback'")).isZero();
            // switching auto-commit on commits the running transaction
            s.executeUpdate("INSERT INTO t(name, port) VALUES ('tx-switch', inet_server_port())");
            c.setAutoCommit(true);
            assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'tx-switch'")).isEqualTo(1);
            // back in autocommit: reads go to replicas again
            ((ReadsplitConnection) c).setConsistency(Consistency.eventual());
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
        }
        // an unfinished transaction is rolled back when the connection closes
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.executeUpdate("INSERT INTO t(name, port) VALUES ('tx-abandoned', inet_server_port())");
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'tx-abandoned'")).isZero();
    }

    @Test
    void savepointsSetRolledBackToAndReleased() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.executeUpdate("INSERT INTO t(name, port) VALUES ('sp-a', inet_server_port())");
            Savepoint sp = c.setSavepoint("before_b");
            assertThat(sp.getSavepointName()).isEqualTo("before_b");
            s.executeUpdate("INSERT INTO t(name, port) VALUES ('sp-b', inet_server_port())");
            c.rollback(sp);
            Savepoint unnamed = c.setSavepoint();
            s.executeUpdate("INSERT INTO t(name, port) VALUES ('sp-c', inet_server_port())");
            c.releaseSavepoint(unnamed);
            assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            c.commit();
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name IN ('sp-a', 'sp-c') AND port = " + primaryPort)).isEqualTo(2);
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'sp-b'")).isZero();
        // a savepoint as the very first thing of a transaction starts it on the primary
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            Savepoint sp = c.setSavepoint();
            s.executeUpdate("INSERT INTO t(name, port) VALUES ('sp-first', inet_server_port())");
            c.rollback(sp);
            c.commit();
            assertThrows(SQLException.class, () -> c.rollback(sp), "savepoint of a finished transaction");
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'sp-first'")).isZero();
        try (Connection c = ds.getConnection()) {
            assertThrows(SQLException.class, c::setSavepoint, "savepoint with auto-commit on");
        }
    }

    @Test
    void readOnlySessionReadsFromAReplicaAndCannotWrite() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            assertThat(c.isReadOnly()).isTrue();
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.READ_ONLY);
            SQLException e = assertThrows(SQLException.class,
                    () -> s.executeUpdate("INSERT INTO t(name) VALUES ('ro')"));
            assertThat(e.getSQLState()).isEqualTo("25006");
            c.setReadOnly(false);
            assertThat(c.isReadOnly()).isFalse();
            assertThat(s.executeUpdate("INSERT INTO t(name, port) VALUES ('rw-again', inet_server_port())")).isEqualTo(1);
            c.setAutoCommit(false);
            port(c, "SELECT 1");
            assertThrows(SQLException.class, () -> c.setReadOnly(true), "read-only cannot change mid-transaction");
            c.rollback();
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'ro'")).isZero();
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'rw-again' AND port = " + primaryPort)).isEqualTo(1);
    }

    @Test
    void transactionIsolationIsAppliedOnTheServer() throws SQLException {
        // set before any physical connection is open
        try (Connection c = ds.getConnection()) {
            c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
            assertThat(c.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_SERIALIZABLE);
            c.setAutoCommit(false);
            assertThat(show(c, "SHOW transaction_isolation")).isEqualTo("serializable");
            assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            c.commit();
        }
        // set while physical connections are already held
        try (Connection c = ds.getConnection()) {
            ((ReadsplitConnection) c).setConsistency(Consistency.eventual());
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO t(name) VALUES ('iso')");
            }
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setAutoCommit(false);
            assertThat(show(c, "SHOW transaction_isolation")).isEqualTo("repeatable read");
            c.commit();
        }
        // the next borrower of those physical connections gets the default back
        for (int i = 0; i < 4; i++) {
            try (Connection c = ds.getConnection()) {
                c.setAutoCommit(false);
                assertThat(show(c, "SHOW transaction_isolation")).isEqualTo("read committed");
                c.commit();
            }
        }
    }

    @Test
    void serializableSessionReadsRunOnThePrimaryBecauseAHotStandbyRefusesThem() throws SQLException {
        try (Connection c = ds.getConnection()) {
            ((ReadsplitConnection) c).setConsistency(Consistency.eventual());
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
            c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
            // autocommit reads: a standby would fail them with "cannot use serializable mode in a hot standby"
            for (int i = 0; i < 4; i++) {
                assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
                assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.SERIALIZABLE);
            }
            // a read-only serializable transaction too, still read-only
            c.setReadOnly(true);
            c.setAutoCommit(false);
            assertThat(show(c, "SHOW transaction_isolation")).isEqualTo("serializable");
            assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            SQLException e = assertThrows(SQLException.class, () -> port(c, "INSERT INTO t(name) VALUES ('ser-ro') RETURNING 1"));
            assertThat(e.getSQLState()).isEqualTo("25006");
            c.rollback();
            c.setAutoCommit(true);
            c.setReadOnly(false);
            // back to read committed: reads go to replicas again
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
        }
    }

    @Test
    void schemaIsSetAndFollowsTheSessionToEveryNode() throws SQLException {
        try (Connection c = ds.getConnection()) {
            assertThat(c.getSchema()).isEqualTo("public");
            c.setSchema("other");
            assertThat(c.getSchema()).isEqualTo("other");
            Set<Integer> ports = new HashSet<>();
            try (Statement s = c.createStatement()) {
                for (int i = 0; i < 4; i++) {
                    try (ResultSet rs = s.executeQuery("SELECT v, inet_server_port() FROM marker")) {
                        assertThat(rs.next()).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("from other schema");
                        ports.add(rs.getInt(2));
                    }
                }
                assertThat(ports).isEqualTo(replicaPorts);
                assertThat(s.executeUpdate("INSERT INTO marker VALUES ('written via schema')")).isEqualTo(1);
            }
            assertThat(c.getSchema()).isEqualTo("other");
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM other.marker WHERE v = 'written via schema'")).isEqualTo(1);
        // the next borrower does not inherit the schema
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (int i = 0; i < 4; i++) {
                assertThrows(SQLException.class, () -> s.executeQuery("SELECT v FROM marker").close());
            }
            assertThat(c.getSchema()).isEqualTo("public");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // wrapper, warnings, validity

    @Test
    void unwrapGivesTheReadsplitConnectionOrPgjdbcsAndRefusesUnrelatedInterfaces() throws SQLException {
        try (Connection c = ds.getConnection()) {
            assertThat(c.isWrapperFor(ReadsplitConnection.class)).isTrue();
            assertThat(c.unwrap(ReadsplitConnection.class)).isSameAs(c);
            assertThat(c.isWrapperFor(Connection.class)).isTrue();
            assertThat(c.isWrapperFor(Runnable.class)).isFalse();
            assertThrows(SQLException.class, () -> c.unwrap(Runnable.class));
            // pgjdbc's own API pins the connection to the primary (issue 14; PgjdbcApiIT covers COPY, LISTEN, LOBs)
            assertThat(c.isWrapperFor(PGConnection.class)).isTrue();
            assertThat(c.unwrap(PGConnection.class)).isInstanceOf(PGConnection.class);
            assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
        }
        assertThat(ds.isWrapperFor(javax.sql.DataSource.class)).isTrue();
        assertThat(ds.unwrap(ReadsplitDataSource.class)).isSameAs(ds);
        assertThrows(SQLException.class, () -> ds.unwrap(Runnable.class));
    }

    @Test
    void serverWarningsReachTheCaller() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN RAISE WARNING 'watch out'; END $$");
            SQLWarning w = s.getWarnings();
            assertThat((Object) w).isNotNull();
            assertThat(w.getMessage()).contains("watch out");
            s.clearWarnings();
            assertThat((Object) s.getWarnings()).isNull();
            // a warning raised by a function on a replica
            try (PreparedStatement ps = c.prepareStatement("SELECT warn_and_return(?), inet_server_port()")) {
                ps.setInt(1, 5);
                try (ResultSet rs = ps.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getInt(1)).isEqualTo(5);
                    assertThat(replicaPorts).contains(rs.getInt(2));
                }
                assertThat((Object) ps.getWarnings()).isNotNull();
                assertThat(ps.getWarnings().getMessage()).contains("careful with 5");
            }
        }
    }

    @Test
    void isValidWhileOpenAndNotAfterClose() throws SQLException {
        Connection c = ds.getConnection();
        assertThat(c.isValid(2)).isTrue();
        port(c, "SELECT inet_server_port()");
        assertThat(c.isValid(2)).isTrue();
        assertThrows(SQLException.class, () -> c.isValid(-1));
        c.close();
        assertThat(c.isValid(2)).isFalse();
    }

    // ---------------------------------------------------------------------------------------------
    // close semantics

    @Test
    void closingTheConnectionClosesItsStatementsAndLaterUseFailsWith08003() throws SQLException {
        Connection c = ds.getConnection();
        Statement s = c.createStatement();
        PreparedStatement ps = c.prepareStatement("SELECT inet_server_port()");
        CallableStatement cs = c.prepareCall("{? = call port_plus(?)}");
        ResultSet rs = s.executeQuery("SELECT g FROM generate_series(1, 10) g");
        assertThat(rs.next()).isTrue();
        try (ResultSet r2 = ps.executeQuery()) {
            assertThat(r2.next()).isTrue();
        }
        c.close();
        assertThat(c.isClosed()).isTrue();
        assertThat(s.isClosed()).isTrue();
        assertThat(ps.isClosed()).isTrue();
        assertThat(cs.isClosed()).isTrue();
        assertThat(rs.isClosed()).isTrue();
        assertThrows(SQLException.class, () -> s.executeQuery("SELECT 1"));
        assertThrows(SQLException.class, ps::executeQuery);
        assertThrows(SQLException.class, () -> cs.setInt(2, 1));
        c.close(); // twice is fine
        for (ThrowingUse use : new ThrowingUse[] {
                c::createStatement,
                () -> c.prepareStatement("SELECT 1"),
                () -> c.prepareCall("{call add_row(?)}"),
                () -> c.setAutoCommit(false),
                c::getAutoCommit,
                c::commit,
                c::rollback,
                c::getMetaData,
                () -> c.setReadOnly(true),
                () -> c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE),
                c::getSchema,
                c::getWarnings,
                c::setSavepoint}) {
            SQLException e = assertThrows(SQLException.class, use::run);
            assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo("08003");
        }
    }

    @Test
    void closingAStatementClosesItsResultSetAndTheConnectionStaysUsable() throws SQLException {
        try (Connection c = ds.getConnection()) {
            Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT 1");
            s.close();
            s.close();
            assertThat(s.isClosed()).isTrue();
            assertThat(rs.isClosed()).isTrue();
            assertThrows(SQLException.class, () -> s.executeQuery("SELECT 1"));
            assertThat(c.isClosed()).isFalse();
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
        }
    }

    @Test
    void abortClosesTheConnectionAndItsStatementsAndReturnsNoPhysicalConnectionToLimbo() throws SQLException {
        Connection c = ds.getConnection();
        Statement s = c.createStatement();
        assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
        assertThat(s.executeUpdate("INSERT INTO t(name) VALUES ('before abort')")).isEqualTo(1);
        assertThat(Clusters.activeConnections(ds)).isEqualTo(2);
        c.abort(Runnable::run);
        assertThat(c.isClosed()).isTrue();
        assertThat(s.isClosed()).isTrue();
        assertThrows(SQLException.class, () -> s.executeQuery("SELECT 1"));
        c.abort(Runnable::run); // a second abort is a no-op
        c.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> Clusters.activeConnections(ds) == 0);
        // the pools still serve
        try (Connection again = ds.getConnection()) {
            assertThat(replicaPorts).contains(port(again, "SELECT inet_server_port()"));
            assertThat(port(again, "/* readsplit:primary */ SELECT inet_server_port()")).isEqualTo(primaryPort);
        }
    }

    @Test
    void manyMixedOperationsReturnEveryPhysicalConnection() throws SQLException {
        for (int round = 0; round < 30; round++) {
            Connection c = ds.getConnection();
            try {
                Statement s = c.createStatement(); // deliberately not closed: the connection closes it
                s.executeQuery("SELECT inet_server_port()");
                PreparedStatement ps = c.prepareStatement("INSERT INTO t(name, port) VALUES (?, inet_server_port())");
                ps.setString(1, "mixed");
                ps.executeUpdate();
                assertThrows(SQLException.class, () -> s.executeQuery("SELECT no_such_column FROM t"));
                assertThrows(SQLException.class, () -> s.executeQuery("SELECT 1 / 0"));
                if (round % 3 == 0) {
                    c.setAutoCommit(false);
                    s.executeUpdate("INSERT INTO t(name) VALUES ('mixed-txn')");
                    assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO no_such_table VALUES (1)"));
                    c.rollback();
                    c.setAutoCommit(true);
                } else if (round % 3 == 1) {
                    c.setReadOnly(true);
                    s.executeQuery("SELECT count(*) FROM t").close();
                    c.setAutoCommit(false); // left open: close rolls it back
                    s.executeQuery("SELECT count(*) FROM t").close();
                } else {
                    s.execute("SET application_name TO 'mixed'");
                    c.prepareCall("{call add_row(?)}").close();
                    try (CallableStatement cs = c.prepareCall("{? = call port_plus(?)}")) {
                        cs.registerOutParameter(1, Types.INTEGER);
                        cs.setInt(2, 0);
                        cs.execute();
                    }
                }
            } finally {
                c.close();
            }
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'mixed-txn'")).isZero();
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name = 'mixed'")).isEqualTo(30);
    }

    @FunctionalInterface
    private interface ThrowingUse {
        void run() throws SQLException;
    }

    @Test
    void physicalObjectsNeverEscapeThroughResultSetsOrMetadata() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1")) {
            assertThat(rs.getStatement()).isSameAs(s);
            assertThat(rs.getStatement().getConnection()).isSameAs(c);
            assertThat(c.getMetaData().getConnection()).isSameAs(c);
            try (PreparedStatement ps = c.prepareStatement("SELECT ?::int")) {
                ps.setInt(1, 7);
                try (ResultSet prs = ps.executeQuery()) {
                    assertThat(prs.getStatement()).isSameAs(ps);
                    assertThat(prs.isWrapperFor(ResultSet.class)).isTrue();
                }
            }
        }
    }

    @Test
    void closeOnCompletionClosesTheStatementWhenItsResultSetCloses() throws SQLException {
        try (Connection c = ds.getConnection()) {
            Statement s = c.createStatement();
            s.closeOnCompletion();
            ResultSet rs = s.executeQuery("SELECT 1");
            assertThat(s.isClosed()).isFalse();
            rs.close();
            assertThat(s.isClosed()).isTrue();
        }
    }

    @Test
    void describingAPreparedStatementBeforeExecutingItLeavesNothingOpenAfterClose() throws SQLException {
        try (Connection c = ds.getConnection()) {
            PreparedStatement ps = c.prepareStatement("SELECT ?::int AS n");
            assertThat(ps.getMetaData().getColumnName(1)).isEqualTo("n");
            assertThat(ps.getParameterMetaData().getParameterCount()).isEqualTo(1);
            ps.close();
            assertThat(ps.isClosed()).isTrue();
            SQLException e = assertThrows(SQLException.class, ps::getMetaData);
            assertThat(e.getMessage()).contains("statement is closed");
        }
    }

    private static String show(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}

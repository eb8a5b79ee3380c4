package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.RouteReason;
import dev.readsplit.Consistency;
import dev.readsplit.Role;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.readsplit.jdbc.Clusters.exec;
import static dev.readsplit.jdbc.Clusters.port;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Routing on a real primary and two streaming standbys. Every assertion about where a statement ran is
 * made by the server itself ({@code inet_server_port()}), never by Readsplit's own bookkeeping.
 */
class RoutingIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static int primaryPort;
    private static Set<Integer> replicaPorts;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password("Rout1ng-Pw").start();
        exec(cluster.primary(), "CREATE TABLE items (id bigserial PRIMARY KEY, name text, port int)");
        exec(cluster.primary(), "CREATE SCHEMA other");
        exec(cluster.primary(), "CREATE TABLE other.marker (v text)");
        exec(cluster.primary(), "INSERT INTO other.marker VALUES ('from other schema')");
        exec(cluster.primary(), "CREATE FUNCTION bump() RETURNS bigint VOLATILE LANGUAGE sql AS $$ INSERT INTO items(name) VALUES ('bump') RETURNING id $$");
        exec(cluster.primary(), "CREATE FUNCTION twice(x int) RETURNS int STABLE LANGUAGE sql AS $$ SELECT x * 2 $$");
        exec(cluster.primary(), "CREATE FUNCTION sneaky_write() RETURNS int VOLATILE LANGUAGE plpgsql AS $$ BEGIN INSERT INTO items(name) VALUES ('sneaky'); RETURN 1; END $$");
        exec(cluster.primary(), "CREATE VIEW innocent_looking AS SELECT sneaky_write() AS v");
        // round-robin (the default, named here because these tests place single-threaded reads one by one; AFFINITY
        // keeps a thread on one replica for a run of reads: theAffinityBalancerSpreadsThreadsOverBothReplicas)
        ds = new ReadsplitDataSource(Clusters.config(cluster).balancer(dev.readsplit.balance.BalancerKind.ROUND_ROBIN).build());
        Clusters.awaitAllUp(ds);
        primaryPort = cluster.primary().port();
        replicaPorts = Set.of(cluster.standby(0).port(), cluster.standby(1).port());
        // every standby has replayed the schema before tests read from them
        org.awaitility.Awaitility.await().until(() -> cluster.standbys().stream()
                .allMatch(s -> Clusters.queryLong(s, "SELECT count(*) FROM pg_proc WHERE proname = 'sneaky_write'") == 1
                        && Clusters.queryLong(s, "SELECT count(*) FROM pg_views WHERE viewname = 'innocent_looking'") == 1));
    }

    @AfterAll
    static void stop() {
        if (ds != null) {
            ds.close();
        }
        cluster.close();
    }

    @AfterEach
    void poolsAreBackToZeroActive() {
        assertThat(Clusters.activeConnections(ds)).as("physical connections still borrowed").isZero();
    }

    @Test
    void readsSpreadEvenlyOverBothReplicasRoundRobin() throws SQLException {
        Map<Integer, Integer> byPort = new HashMap<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT inet_server_port()")) {
            for (int i = 0; i < 10_000; i++) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    byPort.merge(rs.getInt(1), 1, Integer::sum);
                }
            }
        }
        assertThat(byPort.keySet()).isEqualTo(replicaPorts);
        for (int n : byPort.values()) {
            assertThat(n).isBetween(4_900, 5_100); // within 2 % of an even split
        }
    }

    @Test
    void theAffinityBalancerSpreadsThreadsOverBothReplicas() throws Exception {
        try (ReadsplitDataSource affinity = new ReadsplitDataSource(Clusters.config(cluster).name("affinity")
                .balancer(dev.readsplit.balance.BalancerKind.AFFINITY).build())) {
            Clusters.awaitAllUp(affinity);
            Map<Integer, Integer> byPort = new java.util.concurrent.ConcurrentHashMap<>();
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.List<Thread> threads = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread reader = new Thread(() -> {
                    try {
                        for (int i = 0; i < 200; i++) {
                            try (Connection c = affinity.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT inet_server_port()");
                                 ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                byPort.merge(rs.getInt(1), 1, Integer::sum);
                            }
                        }
                    } catch (Throwable e) {
                        failure.set(e);
                    }
                });
                threads.add(reader);
                reader.start();
            }
            for (Thread reader : threads) {
                reader.join();
            }
            assertThat(failure.get()).isNull();
            // four threads' first runs are dealt two to each replica (a pause only starts more runs): both serve,
            // as the servers themselves say; never the primary
            assertThat(byPort.keySet()).isEqualTo(replicaPorts);
            assertThat(byPort.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(800);
        }
    }

    @Test
    void writesGoOnlyToThePrimary() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (int i = 0; i < 20; i++) {
                try (ResultSet rs = s.executeQuery("INSERT INTO items(name, port) VALUES ('w', inet_server_port()) RETURNING port")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(primaryPort);
                }
            }
            assertThat(s.executeUpdate("UPDATE items SET port = inet_server_port() WHERE name = 'w'")).isGreaterThanOrEqualTo(20);
        }
        assertThat(Clusters.queryLong(cluster.primary(), "SELECT count(*) FROM items WHERE name = 'w' AND port <> " + primaryPort)).isZero();
    }

    @Test
    void aTransactionRunsWhollyOnThePrimary() throws SQLException {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO items(name) VALUES ('in-txn')");
            }
            // the uncommitted row is visible: same node, same transaction
            assertThat(port(c, "SELECT inet_server_port() FROM items WHERE name = 'in-txn'")).isEqualTo(primaryPort);
            c.rollback();
            assertThat(port(c, "SELECT count(*) FROM items WHERE name = 'in-txn'")).isZero();
            c.commit();
        }
    }

    @Test
    void springReadOnlyTransactionRunsWhollyOnOneReplica() {
        TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
        tx.setReadOnly(true);
        JdbcTemplate jdbc = new JdbcTemplate(ds);
        for (int round = 0; round < 10; round++) {
            List<Integer> ports = tx.execute(status -> List.of(
                    jdbc.queryForObject("SELECT inet_server_port()", Integer.class),
                    jdbc.queryForObject("SELECT inet_server_port()", Integer.class),
                    jdbc.queryForObject("SELECT inet_server_port() FROM (SELECT count(*) FROM items) t", Integer.class),
                    jdbc.queryForObject("SELECT CASE WHEN current_setting('transaction_read_only') = 'on' THEN inet_server_port() END", Integer.class)));
            assertThat(new HashSet<>(ports)).hasSize(1);
            assertThat(replicaPorts).contains(ports.get(0));
        }
        // and a write inside a read-only transaction fails with the replica's own error
        org.springframework.dao.DataAccessException e = assertThrows(org.springframework.dao.DataAccessException.class,
                () -> tx.execute(status -> jdbc.update("INSERT INTO items(name) VALUES ('ro')")));
        assertThat(e.getCause()).isInstanceOf(SQLException.class);
        assertThat(((SQLException) e.getCause()).getSQLState()).isEqualTo("25006");
    }

    @Test
    void searchPathSetOnTheSessionFollowsItToReplicaConnections() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            // hold a replica connection first, then change the session: both held and later connections follow
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
            s.execute("SET search_path TO other, public");
            for (int i = 0; i < 4; i++) {
                try (ResultSet rs = s.executeQuery("SELECT v, inet_server_port() FROM marker")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("from other schema");
                    assertThat(replicaPorts).contains(rs.getInt(2));
                }
            }
            assertThat(Topology.of(ds).nodes()).isNotEmpty();
        }
        // the next borrower of those physical connections does not inherit the search_path
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (int i = 0; i < 4; i++) {
                assertThrows(SQLException.class, () -> s.executeQuery("SELECT v FROM marker").close());
            }
        }
    }

    @Test
    void aTempTablePinsTheSessionToThePrimary() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
            s.execute("CREATE TEMP TABLE scratch (v int)");
            s.execute("INSERT INTO scratch VALUES (1)");
            for (int i = 0; i < 5; i++) {
                assertThat(port(c, "SELECT inet_server_port() FROM scratch")).isEqualTo(primaryPort);
            }
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.SESSION_PIN);
        }
        // DISCARD ALL on close: the temp table is gone for the next session on that physical connection
        try (Connection c = ds.getConnection(Role.PRIMARY)) {
            assertThrows(SQLException.class, () -> port(c, "SELECT count(*) FROM scratch"));
        }
    }

    @Test
    void volatileUserFunctionGoesToPrimaryAndStableOneToAReplica() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT bump(), inet_server_port()")) {
                rs.next();
                assertThat(rs.getInt(2)).isEqualTo(primaryPort);
            }
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.VOLATILE_FUNCTION);
            ((ReadsplitConnection) c).setConsistency(Consistency.eventual());
            try (ResultSet rs = s.executeQuery("SELECT twice(21), inet_server_port()")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
                assertThat(replicaPorts).contains(rs.getInt(2));
            }
        }
    }

    @Test
    void aViewOverAWritingFunctionIsMisroutedOnceThenLearned() throws SQLException {
        long misroutesBefore = ds.misroutes();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT v FROM innocent_looking")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(1);
            }
            assertThat(ds.misroutes()).isEqualTo(misroutesBefore + 1);
            try (ResultSet rs = s.executeQuery("SELECT v FROM innocent_looking")) {
                rs.next();
            }
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.LEARNED_MISROUTE);
            assertThat(ds.misroutes()).isEqualTo(misroutesBefore + 1);
        }
        assertThat(Clusters.queryLong(cluster.primary(), "SELECT count(*) FROM items WHERE name = 'sneaky'")).isEqualTo(2);
    }

    @Test
    void replicaHintedOrReadOnlyStatementsAreNeverRerunElsewhere() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class,
                    () -> s.executeQuery("/* readsplit:replica */ SELECT v FROM innocent_looking WHERE v > 0").close());
            assertThat(e.getSQLState()).isEqualTo("25006");
        }
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            c.setReadOnly(true);
            SQLException e = assertThrows(SQLException.class,
                    () -> s.executeQuery("SELECT v FROM innocent_looking WHERE v > 1").close());
            assertThat(e.getSQLState()).isEqualTo("25006");
        }
        assertThat(Clusters.queryLong(cluster.primary(), "SELECT count(*) FROM items WHERE name = 'sneaky'"))
                .as("refused statements did not run anywhere else").isLessThanOrEqualTo(2);
    }

    @Test
    void hintsExplicitRolesAndScopesWin() throws Exception {
        try (Connection c = ds.getConnection()) {
            assertThat(port(c, "/* readsplit:primary */ SELECT inet_server_port()")).isEqualTo(primaryPort);
        }
        try (Connection c = ds.acquireForWrite()) {
            assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
        }
        try (Connection c = ds.acquireForRead()) {
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
            SQLException e = assertThrows(SQLException.class, () -> c.createStatement().execute("INSERT INTO items(name) VALUES ('x')"));
            assertThat(e.getSQLState()).isEqualTo("25006");
        }
        int inScope = ds.onPrimary(() -> {
            try (Connection c = ds.getConnection()) {
                return port(c, "SELECT inet_server_port()");
            }
        });
        assertThat(inScope).isEqualTo(primaryPort);
        try (Connection c = ds.getConnection()) {
            assertThat(replicaPorts).contains(port(c, "SELECT inet_server_port()"));
        }
    }

    @Test
    void theJdbcDriverRoutesFromAUrlAlone() throws SQLException {
        String url = "jdbc:readsplit:postgresql://127.0.0.1:" + primaryPort + ",127.0.0.1:" + cluster.standby(0).port()
                + ",127.0.0.1:" + cluster.standby(1).port() + "/readsplit?consistency=eventual&healthCheckInterval=200ms"
                + "&balancer=round_robin"; // both replicas within 10 reads of one thread
        java.util.Properties info = new java.util.Properties();
        info.setProperty("user", cluster.user());
        info.setProperty("password", cluster.password());
        try (Connection c = java.sql.DriverManager.getConnection(url, info)) {
            assertThat(c).isInstanceOf(ReadsplitConnection.class);
            assertThat(port(c, "INSERT INTO items(name, port) VALUES ('driver', inet_server_port()) RETURNING port")).isEqualTo(primaryPort);
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                seen.add(port(c, "SELECT inet_server_port()"));
            }
            assertThat(seen).isEqualTo(replicaPorts);
        } finally {
            ReadsplitDriver.registered().closeAll();
        }
    }

    @Test
    void readYourWritesOnTheSameConnection() throws SQLException {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (int i = 0; i < 50; i++) {
                long id;
                try (ResultSet rs = s.executeQuery("INSERT INTO items(name) VALUES ('ryw') RETURNING id")) {
                    rs.next();
                    id = rs.getLong(1);
                }
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM items WHERE id = " + id)) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("read after own write %s", i).isEqualTo(1);
                }
            }
        }
    }
}

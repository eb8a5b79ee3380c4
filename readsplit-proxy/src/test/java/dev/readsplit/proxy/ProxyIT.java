package dev.readsplit.proxy;

import dev.readsplit.balance.BalancerKind;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Secret;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The proxy on a real primary and two standbys, driven by real clients (pgjdbc, psql, pgbench, Python's psycopg2,
 * Node's pg); every placement is asked of the server ({@code inet_server_port()}, {@code pg_stat_database}).
 */
class ProxyIT {

    static final String USER = "app";
    static final String PASSWORD = "app-pw";

    static EmbeddedCluster cluster;
    static ReadsplitDataSource ds;
    static ProxyServer proxy;
    static int primaryPort;
    static Set<Integer> standbyPorts = new HashSet<>();

    @BeforeAll
    static void start() throws Exception {
        cluster = EmbeddedCluster.builder().standbys(2).password("cluster-pw").start();
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("proxyit")
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database()).user(cluster.user()).password(cluster.password())
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000))
                .readYourWritesWait(Duration.ofMillis(500))
                // the tests below see one session's reads land on either replica, statement by statement: round-robin
                // makes that visible within a session; AFFINITY (a replica per session) has its own test,
                // concurrentClientsUnderTheAffinityBalancerEachKeepAReplicaAndSpreadOverBoth
                .balancer(BalancerKind.ROUND_ROBIN);
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(s.host(), s.port());
            standbyPorts.add(s.port());
        }
        primaryPort = cluster.primary().port();
        ds = new ReadsplitDataSource(b.build());
        await().atMost(Duration.ofSeconds(30)).until(() -> ds.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
        proxy = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0").user(USER, Secret.of(PASSWORD)).build());
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE items (id int PRIMARY KEY, v text)");
            s.execute("CREATE TABLE audit (x int)");
            s.execute("CREATE FUNCTION logit() RETURNS int LANGUAGE sql VOLATILE AS 'INSERT INTO audit VALUES (1) RETURNING 1'");
            s.execute("CREATE VIEW logged AS SELECT logit() AS r");
        }
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static Connection connect(String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.address().getPort() + "/"
                + cluster.database() + "?user=" + USER + "&password=" + PASSWORD + extra);
    }

    /**
     * Waits until both replicas are eligible for reads again (UP, not excluded for lag): a test that sees reads
     * balanced over both must not start while an earlier test's apply delay or writes still hold one back.
     */
    static void awaitBothReplicasEligible() {
        await().atMost(Duration.ofSeconds(30)).until(() -> ds.topology().replicas().stream()
                .allMatch(n -> n.state() == NodeState.UP && !n.lagExcluded()));
    }

    /** One number asked of a node directly (not through the proxy). */
    static long queryLong(dev.readsplit.embedded.EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(node + ": " + sql, e);
        }
    }

    static int port(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // pgjdbc

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "extendedForPrepared"})
    void readsGoToBothReplicasWritesAndTransactionsToThePrimary(String mode) throws SQLException {
        awaitBothReplicasEligible();
        try (Connection c = connect("&preferQueryMode=" + mode); Statement s = c.createStatement()) {
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 6; i++) {
                seen.add(port(s, "SELECT inet_server_port()"));
            }
            assertThat(seen).isEqualTo(standbyPorts);
            int id = 1000 + mode.length();
            assertThat(port(s, "INSERT INTO items VALUES (" + id + ", 'x') RETURNING inet_server_port()"))
                    .isEqualTo(primaryPort);
            c.setAutoCommit(false);
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            c.commit();
            c.setReadOnly(true); // pgjdbc sends BEGIN READ ONLY: the whole transaction on one replica
            int first = port(s, "SELECT inet_server_port()");
            assertThat(standbyPorts).contains(first);
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(first);
            c.commit();
            c.setReadOnly(false);
            c.setAutoCommit(true);
            try (Statement direct = cluster.primary().connect().createStatement()) {
                assertThat(port(direct, "SELECT count(*) FROM items WHERE id = " + id)).isEqualTo(1);
            }
        }
    }

    /**
     * Large objects through the proxy: pgjdbc's LargeObjectManager sends function-call messages (Fastpath). They run
     * in the client's transaction: one that writes on the primary, a read-only one on the replica it began on; a
     * function call outside a transaction goes to the primary.
     */
    @Test
    void largeObjectsByFunctionCallRunInTheClientsTransaction() throws Exception {
        awaitBothReplicasEligible();
        byte[] data = "a large object through the proxy".getBytes(StandardCharsets.UTF_8);
        long oid;
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            org.postgresql.largeobject.LargeObjectManager lom =
                    c.unwrap(org.postgresql.PGConnection.class).getLargeObjectAPI();
            oid = lom.createLO();
            try (org.postgresql.largeobject.LargeObject lo =
                         lom.open(oid, org.postgresql.largeobject.LargeObjectManager.WRITE)) {
                lo.write(data);
            }
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            c.commit();

            c.setReadOnly(true);
            int port = port(s, "SELECT inet_server_port()");
            assertThat(standbyPorts).contains(port);
            try (org.postgresql.largeobject.LargeObject lo =
                         lom.open(oid, org.postgresql.largeobject.LargeObjectManager.READ)) {
                assertThat(lo.read(data.length + 8)).isEqualTo(data);
            }
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(port);
            SQLException refused = assertThrows(SQLException.class, lom::createLO);
            assertThat(refused.getSQLState()).isEqualTo("25006");
            c.rollback();
            c.setReadOnly(false);
            c.setAutoCommit(true);
        }
        try (Connection direct = cluster.primary().connect(); Statement s = direct.createStatement();
             ResultSet rs = s.executeQuery("SELECT lo_get(" + oid + ")")) {
            rs.next();
            assertThat(rs.getBytes(1)).isEqualTo(data);
        }
        // autocommit: the call goes to the primary (pgjdbc refuses large objects in autocommit; the raw message)
        Msg unlink = Msg.builder('F').int32(964).int16(1).int16(1).int16(1).int32(4).int32((int) oid).int16(1).build();
        try (RawClient c = new RawClient(proxy.address().getPort())) {
            c.login(USER, PASSWORD, cluster.database());
            assertThat(transcript(c, List.of(List.of(unlink)))).containsExactly("V", "Z I");
            assertThat(transcript(c, List.of(List.of(unlink)))).containsExactly("E 42704", "Z I");
        }
        try (Connection direct = cluster.primary().connect(); Statement s = direct.createStatement()) {
            assertThat(port(s, "SELECT count(*) FROM pg_largeobject_metadata WHERE oid = " + oid)).isZero();
        }
    }

    @Test
    void namedStatementsAreRePreparedOnWhicheverReplicaRunsThem() throws SQLException {
        awaitBothReplicasEligible();
        try (Connection c = connect("&prepareThreshold=1");
             PreparedStatement ps = c.prepareStatement("SELECT inet_server_port(), ?::int * 2")) {
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 8; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    seen.add(rs.getInt(1));
                    assertThat(rs.getInt(2)).isEqualTo(i * 2);
                }
            }
            assertThat(seen).isEqualTo(standbyPorts);
        }
    }

    @Test
    void sessionSettingsFollowTheSessionToEveryNode() throws SQLException {
        awaitBothReplicasEligible();
        try (Connection c = connect("&preferQueryMode=simple"); Statement s = c.createStatement()) {
            s.execute("SET statement_timeout = '12345ms'");
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                try (ResultSet rs = s.executeQuery("SELECT current_setting('statement_timeout'), inet_server_port()")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("12345ms");
                    seen.add(rs.getInt(2));
                }
            }
            assertThat(seen).isEqualTo(standbyPorts);
        }
        // the next client on the same pooled backends starts clean
        try (Connection c = connect("&preferQueryMode=simple"); Statement s = c.createStatement()) {
            for (int i = 0; i < 4; i++) {
                try (ResultSet rs = s.executeQuery("SELECT current_setting('statement_timeout')")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("0");
                }
            }
        }
    }

    @Test
    void hintsWinAndStateThatCannotFollowPinsTheSessionToThePrimary() throws SQLException {
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            assertThat(port(s, "/* readsplit:primary */ SELECT inet_server_port()")).isEqualTo(primaryPort);
            assertThat(standbyPorts).contains(port(s, "SELECT inet_server_port()"));
            s.execute("CREATE TEMP TABLE scratch (x int)");
            for (int i = 0; i < 3; i++) {
                assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            }
            assertThat(port(s, "SELECT count(*) FROM scratch")).isZero(); // the temp table is where the session is
        }
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            assertThat(standbyPorts).contains(port(s, "SELECT inet_server_port()")); // a new client starts unpinned
        }
    }

    @Test
    void errorsResynchroniseAndFailedTransactionsStayOnTheirNode() throws SQLException {
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            SQLException e = assertThrows(SQLException.class, () -> s.executeQuery("SELECT 1/0"));
            assertThat(e.getSQLState()).isEqualTo("22012");
            assertThat(standbyPorts).contains(port(s, "SELECT inet_server_port()"));
            c.setAutoCommit(false);
            s.executeUpdate("INSERT INTO items VALUES (2001, 'a')");
            assertThat(assertThrows(SQLException.class, () -> s.executeUpdate("INSERT INTO items VALUES (2001, 'a')"))
                    .getSQLState()).isEqualTo("23505");
            assertThat(assertThrows(SQLException.class, () -> s.executeQuery("SELECT 1")).getSQLState())
                    .isEqualTo("25P02"); // the aborted transaction is still on the primary, as PostgreSQL says
            c.rollback();
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            c.commit();
        }
    }

    @Test
    void aReadAReplicaRefusesWith25006RunsAgainOnThePrimary() throws SQLException {
        long before = ds.misroutes();
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            assertThat(port(s, "SELECT inet_server_port() FROM logged")).isEqualTo(primaryPort);
        }
        assertThat(ds.misroutes()).isEqualTo(before + 1);
    }

    @Test
    void readYourWritesWithA300msReplicaDelayNeverReadsStale() throws Exception {
        cluster.standbys().forEach(s -> s.setApplyDelay(Duration.ofMillis(300)));
        try {
            ProxyStatus.ReplayChecks before = proxy.status().replayChecks();
            for (String mode : List.of("simple", "extended")) {
                try (Connection c = connect("&preferQueryMode=" + mode); Statement s = c.createStatement()) {
                    // a read first, so the session holds a standby's backend: each read after a write below then
                    // goes out with the standby's replay check in its round trip, finds it short, and runs again
                    assertThat(standbyPorts).contains(port(s, "SELECT inet_server_port()"));
                    int stale = 0;
                    int base = mode.equals("simple") ? 10_000 : 20_000;
                    for (int i = 0; i < 20; i++) {
                        s.executeUpdate("INSERT INTO items VALUES (" + (base + i) + ", 'ryw')");
                        if (port(s, "SELECT count(*) FROM items WHERE id = " + (base + i)) != 1) {
                            stale++;
                        }
                    }
                    assertThat(stale).isZero();
                }
            }
            // each of the 40 reads went out with the standby's replay check and found it short (300 ms > the 100-ms
            // readYourWritesWait): the status says so
            ProxyStatus.ReplayChecks after = proxy.status().replayChecks();
            assertThat(after.shortOfPosition() - before.shortOfPosition()).isGreaterThanOrEqualTo(40);
            assertThat(after.sent() - before.sent()).isGreaterThanOrEqualTo(after.shortOfPosition() - before.shortOfPosition());
            // the status JSON and the meters give the same figures; the last read's check is counted as its
            // exchange ends, a moment after the client has its answer, so they are compared once it has settled
            io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
                    new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
            proxy.metrics().bindTo(registry);
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                ProxyStatus.ReplayChecks now = proxy.status().replayChecks();
                assertThat(proxy.status().toJson()).contains("\"replayChecks\":{\"sent\":" + now.sent()
                        + ",\"short\":" + now.shortOfPosition() + "}");
                assertThat(ProxyStatusIT.counter(registry, "readsplit.proxy.replay.checks", "outcome", "short"))
                        .isEqualTo(now.shortOfPosition());
                assertThat(ProxyStatusIT.counter(registry, "readsplit.proxy.replay.checks", "outcome", "replayed"))
                        .isEqualTo(now.sent() - now.shortOfPosition());
            });
            // across sessions (another process in real life): the token carries the position
            String token;
            try (Connection a = connect(""); Statement s = a.createStatement()) {
                s.executeUpdate("INSERT INTO items VALUES (30000, 'token')");
                try (ResultSet rs = s.executeQuery("SHOW readsplit.token")) {
                    rs.next();
                    token = rs.getString(1);
                }
            }
            assertThat(token).isNotEmpty();
            try (Connection b = connect("&preferQueryMode=simple"); Statement s = b.createStatement()) {
                s.execute("SET readsplit.token = '" + token + "'");
                assertThat(port(s, "SELECT count(*) FROM items WHERE id = 30000")).isEqualTo(1);
            }
        } finally {
            cluster.standbys().forEach(s -> s.setApplyDelay(Duration.ZERO));
        }
    }

    /**
     * A read after a write, once both standbys have replayed it: it runs on the standby (its replay check, sent in the
     * same round trip, finds the position there), not on the primary, and sees the write.
     */
    @Test
    void aReadAfterAWriteRunsOnAStandbyThatHasReplayedIt() throws Exception {
        for (String mode : List.of("simple", "extended")) {
            try (Connection c = connect("&preferQueryMode=" + mode); Statement s = c.createStatement()) {
                assertThat(standbyPorts).contains(port(s, "SELECT inet_server_port()"));
                int id = mode.equals("simple") ? 45_000 : 45_001;
                s.executeUpdate("INSERT INTO items VALUES (" + id + ", 'replayed')");
                long written = queryLong(cluster.primary(), "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint");
                await().atMost(Duration.ofSeconds(30)).until(() -> cluster.standbys().stream().allMatch(n -> queryLong(n,
                        "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint") >= written));
                try (ResultSet rs = s.executeQuery("SELECT count(*), inet_server_port() FROM items WHERE id = " + id)) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(1);
                    assertThat(standbyPorts).as("the read after the write, once replayed").contains(rs.getInt(2));
                }
            }
        }
    }

    /**
     * A write transaction asks the primary for its WAL position once, with its commit: not also after its first
     * statement, which ran inside the transaction (a deferred BEGIN sent with it) where the position is of no use. The
     * session still reads its write right after the commit. A text that writes and commits after the BEGIN gets its
     * question in the same round trip. pg_stat_statements on the primary counts the queries.
     */
    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "autoCommitOff", "writesAndCommitsInOneText"})
    void aWriteTransactionAsksForThePrimarysPositionOnceWithItsCommit(String mode) throws Exception {
        String positions = "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements"
                + " WHERE query LIKE 'SELECT CASE WHEN pg_is_in_recovery() THEN%pg_current_wal_insert_lsn%'";
        int base = 47_000 + 100 * List.of("simple", "extended", "autoCommitOff", "writesAndCommitsInOneText")
                .indexOf(mode);
        int transactions = 10;
        try (Connection c = connect("&preferQueryMode="
                + (mode.equals("simple") || mode.equals("writesAndCommitsInOneText") ? "simple" : "extended"));
             Statement s = c.createStatement()) {
            long before = queryLong(cluster.primary(), positions);
            for (int i = 0; i < transactions; i++) {
                int id = base + i;
                if (mode.equals("autoCommitOff")) {
                    c.setAutoCommit(false);
                    s.executeUpdate("INSERT INTO items VALUES (" + id + ", 'once')");
                    s.executeUpdate("UPDATE items SET v = 'once more' WHERE id = " + id);
                    c.commit();
                    c.setAutoCommit(true);
                } else if (mode.equals("writesAndCommitsInOneText")) {
                    s.execute("BEGIN");
                    s.execute("INSERT INTO items VALUES (" + id + ", 'once'); UPDATE items SET v = 'once more' WHERE id = "
                            + id + "; COMMIT");
                } else {
                    s.execute("BEGIN");
                    s.executeUpdate("INSERT INTO items VALUES (" + id + ", 'once')");
                    s.executeUpdate("UPDATE items SET v = 'once more' WHERE id = " + id);
                    s.execute("END");
                }
                try (ResultSet rs = s.executeQuery("SELECT v FROM items WHERE id = " + id)) {
                    assertThat(rs.next()).as("the session reads its write").isTrue();
                    assertThat(rs.getString(1)).isEqualTo("once more");
                }
            }
            long after = queryLong(cluster.primary(), positions);
            assertThat(after - before).as("position queries on the primary for " + transactions + " transactions")
                    .isEqualTo(transactions);
        }
    }

    /**
     * A session whose transactions are read-only by default (SET SESSION CHARACTERISTICS, or the startup parameter
     * default_transaction_read_only) runs a plain BEGIN on a standby; SET TRANSACTION READ WRITE first, or the default
     * set back, keeps the transaction on the primary.
     */
    @Test
    void aSessionReadOnlyByDefaultRunsItsTransactionsOnAStandby() throws SQLException {
        try (Connection c = connect("&preferQueryMode=simple"); Statement s = c.createStatement()) {
            s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
            assertThat(portInTransaction(s, null)).isIn(standbyPorts);
            assertThat(portInTransaction(s, "SET TRANSACTION READ WRITE")).isEqualTo(primaryPort);
            s.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE");
            assertThat(portInTransaction(s, null)).isEqualTo(primaryPort);
            s.execute("SET default_transaction_read_only = on");
            assertThat(portInTransaction(s, null)).isIn(standbyPorts);
            s.execute("RESET default_transaction_read_only");
            assertThat(portInTransaction(s, null)).isEqualTo(primaryPort);
        }
        try (Connection c = connect("&preferQueryMode=simple&options=-c%20default_transaction_read_only=on");
             Statement s = c.createStatement()) {
            assertThat(portInTransaction(s, null)).isIn(standbyPorts);
        }
    }

    /**
     * pgjdbc with autoCommit=false sends its BEGIN as a simple query in the same write as the first statement's
     * extended-protocol pipeline: deferred there too, so a session read-only by default, or a first statement SET
     * TRANSACTION READ ONLY, runs the transaction on a standby; any other transaction runs on the primary, as one
     * transaction.
     */
    @ParameterizedTest
    @ValueSource(strings = {"extended", "extendedForPrepared"})
    void pgjdbcsBeginGoesWithTheTransactionsFirstStatementInEveryExtendedMode(String mode) throws SQLException {
        try (Connection c = connect("&preferQueryMode=" + mode + "&options=-c%20default_transaction_read_only=on");
             Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            int port = port(s, "SELECT inet_server_port()");
            assertThat(port).isIn(standbyPorts);
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(port);
            try (ResultSet rs = s.executeQuery("SELECT current_setting('transaction_read_only'), pg_is_in_recovery()")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("on");
                assertThat(rs.getBoolean(2)).isTrue();
            }
            c.commit();
        }
        int id = 46_000 + mode.length();
        try (Connection c = connect("&preferQueryMode=" + mode); Statement s = c.createStatement();
             Connection direct = cluster.primary().connect(); Statement d = direct.createStatement()) {
            c.setAutoCommit(false);
            s.execute("SET TRANSACTION READ ONLY");
            assertThat(port(s, "SELECT inet_server_port()")).isIn(standbyPorts);
            c.commit();
            assertThat(port(s, "INSERT INTO items VALUES (" + id + ", 'tx') RETURNING inet_server_port()"))
                    .isEqualTo(primaryPort);
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            assertThat(port(d, "SELECT count(*) FROM items WHERE id = " + id)).as("not committed yet").isZero();
            c.commit();
            assertThat(port(d, "SELECT count(*) FROM items WHERE id = " + id)).isEqualTo(1);
            s.executeUpdate("DELETE FROM items WHERE id = " + id);
            c.rollback();
            assertThat(port(d, "SELECT count(*) FROM items WHERE id = " + id)).as("rolled back").isEqualTo(1);
        }
    }

    /**
     * What the proxy answers for a BEGIN it defers in a pipeline is, message for message, what PostgreSQL answers:
     * the unnamed and a prepared statement, with and without a Describe, alone and ahead of a statement that fails (and
     * a simple query's START TRANSACTION, with its own tag).
     */
    @Test
    void aDeferredBeginInAPipelineIsAnsweredAsThePrimaryAnswersIt() throws Exception {
        List<List<Msg>> steps = List.of(
                List.of(Msg.query("START TRANSACTION")), // a simple query's, and its tag
                List.of(Msg.query("END")),
                List.of(LeadingBeginTest.parse("", "BEGIN"), LeadingBeginTest.bind("", ""),
                        LeadingBeginTest.describe('P', ""), LeadingBeginTest.execute(""), Msg.builder('S').build()),
                List.of(LeadingBeginTest.parse("", "SELECT 41 + 1"), LeadingBeginTest.bind("", ""),
                        LeadingBeginTest.execute(""), Msg.builder('S').build()),
                List.of(Msg.query("COMMIT")),
                List.of(LeadingBeginTest.parse("st", "START TRANSACTION"), Msg.builder('S').build()),
                List.of(LeadingBeginTest.bind("", "st"), LeadingBeginTest.describe('S', "st"),
                        LeadingBeginTest.execute(""), Msg.builder('S').build()),
                List.of(Msg.query("ROLLBACK")),
                List.of(LeadingBeginTest.bind("", "st"), LeadingBeginTest.execute(""),
                        LeadingBeginTest.parse("", "SELECT 1/0"), LeadingBeginTest.bind("", ""),
                        LeadingBeginTest.execute(""), Msg.builder('S').build()),
                List.of(Msg.query("SELECT 1")),
                List.of(Msg.query("ROLLBACK")));
        List<String> direct = answeredAsByThePrimary(steps);
        assertThat(direct).contains("C BEGIN", "Z T", "C START TRANSACTION", "E 22012", "Z E", "E 25P02");
    }

    /**
     * The client's prepared statements are what PostgreSQL would hold, whichever backend runs each pipeline (reads
     * alternate between the replicas): a second Parse of a name fails with 42P05 and keeps the first statement; a
     * failed Parse and the messages skipped after an error prepare nothing (a Bind of them fails with 26000, a new
     * Parse of the name succeeds); a closed statement is gone on every backend, also on one that still held it.
     */
    @Test
    void preparedStatementsAreWhatPostgresqlWouldHoldWhicheverBackendRunsThem() throws Exception {
        awaitBothReplicasEligible();
        Msg sync = Msg.builder('S').build();
        List<Msg> runS1 = List.of(LeadingBeginTest.bind("", "s1"), LeadingBeginTest.execute(""), sync);
        // an unknown statement's Bind ahead of a read, so the pipeline is routed as a read (to either replica)
        List<Msg> runClosedS1 = List.of(LeadingBeginTest.bind("", "s1"), LeadingBeginTest.execute(""),
                LeadingBeginTest.parse("", "SELECT 9"), LeadingBeginTest.bind("", ""), LeadingBeginTest.execute(""),
                sync);
        List<List<Msg>> steps = List.of(
                List.of(LeadingBeginTest.parse("s1", "SELECT 1"), sync),
                List.of(LeadingBeginTest.parse("s1", "SELECT 2"), sync),
                runS1, runS1, runS1,
                List.of(LeadingBeginTest.parse("s1", "SELECT 2"), LeadingBeginTest.parse("s2", "SELECT 2"), sync),
                List.of(LeadingBeginTest.bind("", "s2"), LeadingBeginTest.execute(""), sync),
                List.of(LeadingBeginTest.parse("bad", "SELEC 1"), LeadingBeginTest.parse("s3", "SELECT 3"), sync),
                List.of(LeadingBeginTest.bind("", "s3"), LeadingBeginTest.execute(""), sync),
                List.of(LeadingBeginTest.bind("", "bad"), LeadingBeginTest.execute(""), sync),
                List.of(LeadingBeginTest.parse("bad", "SELECT 4"), LeadingBeginTest.bind("", "bad"),
                        LeadingBeginTest.execute(""), sync),
                List.of(LeadingBeginTest.parse("s3", "SELECT 3"), sync),
                List.of(LeadingBeginTest.bind("", "s3"), LeadingBeginTest.execute(""), sync),
                List.of(Msg.builder('C').byte1('S').cstring("s1").build(), sync),
                runClosedS1, runClosedS1, runClosedS1,
                List.of(LeadingBeginTest.parse("s1", "SELECT 5"), sync),
                runS1, runS1);
        List<String> direct = answeredAsByThePrimary(steps);
        assertThat(direct).contains("E 42P05", "E 42601", "E 26000", "D 1", "D 4", "D 5");
        assertThat(direct).doesNotContain("D 2");
    }

    /**
     * A transaction begun with a plain BEGIN (what psycopg2 and pgbench send before each one) runs on the event loop
     * from BEGIN to COMMIT once the client holds its backend: no step goes to a worker thread (the status counts them).
     * Each BEGIN once did.
     */
    @Test
    void aPlainBeginIsAnsweredOnTheEventLoop() throws Exception {
        Msg begin = Msg.query("BEGIN");
        Msg read = Msg.query("SELECT inet_server_port()");
        Msg commit = Msg.query("COMMIT");
        // a proxy of its own: no other client's login or end counts meanwhile
        try (ProxyServer own = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0")
                .user(USER, Secret.of(PASSWORD)).build());
             RawClient c = new RawClient(own.address().getPort())) {
            c.login(USER, PASSWORD, cluster.database());
            assertThat(transcript(c, List.of(List.of(begin), List.of(read), List.of(commit))))
                    .containsExactly("C BEGIN", "Z T", "T", "D " + primaryPort, "C SELECT 1", "Z T", "C COMMIT", "Z I");
            long before = own.status().workerSteps();
            for (int i = 0; i < 5; i++) {
                assertThat(transcript(c, List.of(List.of(begin), List.of(read), List.of(commit))))
                        .containsExactly("C BEGIN", "Z T", "T", "D " + primaryPort, "C SELECT 1", "Z T", "C COMMIT",
                                "Z I");
            }
            assertThat(own.status().workerSteps()).isEqualTo(before);
            assertThat(own.status().toJson()).contains("\"workerSteps\":" + before);
        }
    }

    /**
     * The extended protocol's less common answers, message for message as the primary gives them: empty queries,
     * a Describe of a portal, a portal executed a few rows at a time across pipelines inside a transaction (suspended,
     * then completed, then closed), a named portal bound twice, and an Execute of a portal that is gone.
     */
    @Test
    void portalsAndEmptyQueriesAreAnsweredAsThePrimaryAnswersThem() throws Exception {
        Msg sync = Msg.builder('S').build();
        java.util.function.BiFunction<String, Integer, Msg> executeRows =
                (portal, rows) -> Msg.builder('E').cstring(portal).int32(rows).build();
        List<List<Msg>> steps = List.of(
                List.of(Msg.query("")),
                List.of(LeadingBeginTest.parse("", ""), LeadingBeginTest.bind("", ""), LeadingBeginTest.execute(""),
                        sync),
                List.of(LeadingBeginTest.parse("", "SELECT 41 + 1 AS answer"), LeadingBeginTest.bind("", ""),
                        LeadingBeginTest.describe('P', ""), LeadingBeginTest.execute(""), sync),
                List.of(Msg.query("BEGIN")),
                List.of(LeadingBeginTest.parse("series", "SELECT generate_series(1, 5)"),
                        LeadingBeginTest.bind("p1", "series"), executeRows.apply("p1", 2), sync),
                List.of(executeRows.apply("p1", 2), sync),
                List.of(executeRows.apply("p1", 0), sync),
                List.of(Msg.builder('C').byte1('P').cstring("p1").build(), sync),
                List.of(LeadingBeginTest.bind("p2", "series"), LeadingBeginTest.bind("p2", "series"), sync),
                List.of(Msg.query("ROLLBACK")),
                List.of(executeRows.apply("p3", 0), sync),
                List.of(Msg.query("SELECT 1; ; SELECT 2")));
        List<String> direct = answeredAsByThePrimary(steps);
        assertThat(direct).contains("I", "s", "D 5", "E 42P03", "E 34000");
    }

    /**
     * An error of the proxy's own inside a transaction fails the transaction as PostgreSQL's own error does: later
     * statements get 25P02, COMMIT rolls back (nothing of it is kept), ROLLBACK TO SAVEPOINT recovers it; before and
     * after the transaction's BEGIN was sent, in the simple and the extended protocol. The same steps with a division
     * by zero in its place, run on the primary itself, give the same answers. The proxy once answered such an error
     * with the transaction still open, and its COMMIT kept what ran around the error.
     */
    @Test
    void anErrorOfTheProxysOwnFailsTheTransactionAsPostgresqlWould() throws Exception {
        List<String> direct;
        try (RawClient c = new RawClient(cluster.primary().port())) {
            c.login(cluster.user(), cluster.password(), cluster.database());
            // (a volatile divisor: the division fails at Execute, where the proxy answers, not when planned at Bind)
            direct = transcript(c, failingTransactions("SELECT 1 / (random() * 0)::int", 81000));
        }
        List<String> proxied;
        try (RawClient c = new RawClient(proxy.address().getPort())) {
            c.login(USER, PASSWORD, cluster.database());
            proxied = transcript(c, failingTransactions("SET readsplit.consistency = 'no-such-level'", 82000));
        }
        // the division's error is 22012 where the proxy's is 22023, and in a simple query the server sends the
        // division's row description first
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < direct.size(); i++) {
            if (direct.get(i).equals("T") && i + 1 < direct.size() && direct.get(i + 1).equals("E 22012")) {
                continue;
            }
            expected.add(direct.get(i).equals("E 22012") ? "E 22023" : direct.get(i));
        }
        assertThat(proxied).isEqualTo(expected);
        assertThat(direct).contains("E 25P02", "C ROLLBACK", "Z E", "E 42P05",
                "E 3B001 savepoint \"none\" does not exist",
                "E 3B001 savepoint \"No\"ne\" does not exist");
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            for (int base : new int[] {81000, 82000}) {
                assertThat(port(s, "SELECT count(*)::int FROM items WHERE id BETWEEN " + base + " AND " + (base + 99)))
                        .as("rows kept of the transactions from %d", base).isEqualTo(2);
                assertThat(port(s, "SELECT count(*)::int FROM items WHERE id IN (" + (base + 4) + ", " + (base + 5)
                        + ")")).as("the rows of the savepoint's transaction").isEqualTo(2);
            }
        }
    }

    /** Transactions that {@code fail} fails: only the savepoint's (rows {@code base + 4} and {@code + 5}) commits. */
    private static List<List<Msg>> failingTransactions(String fail, int base) {
        Msg sync = Msg.builder('S').build();
        java.util.function.IntFunction<Msg> insert = id -> Msg.query("INSERT INTO items VALUES (" + (base + id) + ", 'tx')");
        List<Msg> extendedCommit = List.of(LeadingBeginTest.parse("", "COMMIT"), LeadingBeginTest.bind("", ""),
                LeadingBeginTest.execute(""), sync);
        return List.of(
                List.of(LeadingBeginTest.parse("done", "SELECT 'prepared outside the transactions'"), sync),
                // on its backend: the statements after the error are refused, COMMIT rolls back
                List.of(Msg.query("BEGIN")), List.of(insert.apply(1)), List.of(Msg.query(fail)),
                List.of(insert.apply(2)), List.of(Msg.query("SELECT 1")), List.of(Msg.query("COMMIT")),
                // before its BEGIN went anywhere
                List.of(Msg.query("BEGIN")), List.of(Msg.query(fail)), List.of(insert.apply(3)),
                // a statement that ends it, under a name already prepared (42P05), which leaves it failed
                List.of(LeadingBeginTest.parse("done", "COMMIT"), LeadingBeginTest.bind("", "done"),
                        LeadingBeginTest.execute(""), sync),
                List.of(Msg.query("COMMIT")),
                // there, no savepoint exists to roll back to
                List.of(Msg.query("BEGIN")), List.of(Msg.query(fail)), List.of(Msg.query("ROLLBACK TO SAVEPOINT none")),
                List.of(LeadingBeginTest.parse("", "rollback to \"No\"\"ne\""), LeadingBeginTest.bind("", ""),
                        LeadingBeginTest.describe('P', ""), LeadingBeginTest.execute(""), sync),
                List.of(Msg.query("ROLLBACK")),
                // a savepoint recovers it
                List.of(Msg.query("BEGIN")), List.of(insert.apply(4)), List.of(Msg.query("SAVEPOINT s")),
                List.of(Msg.query(fail)), List.of(Msg.query("ROLLBACK TO SAVEPOINT s")), List.of(insert.apply(5)),
                List.of(Msg.query("COMMIT")),
                // the extended protocol: the error in a pipeline, the COMMIT in one
                List.of(Msg.query("BEGIN")), List.of(insert.apply(6)),
                List.of(LeadingBeginTest.parse("", fail), LeadingBeginTest.bind("", ""), LeadingBeginTest.execute(""),
                        sync),
                List.of(LeadingBeginTest.parse("", "SELECT 2"), LeadingBeginTest.bind("", ""),
                        LeadingBeginTest.execute(""), sync),
                extendedCommit,
                List.of(Msg.query("BEGIN")), List.of(Msg.query(fail)), extendedCommit,
                List.of(Msg.query("SELECT 3")));
    }

    /** A {@code readsplit.*} statement prepared by name is refused a second Parse of that name, as any statement. */
    @Test
    void aReadsplitStatementPreparedTwiceByNameFailsAsPostgresqlWould() throws Exception {
        Msg sync = Msg.builder('S').build();
        try (RawClient c = new RawClient(proxy.address().getPort())) {
            c.login(USER, PASSWORD, cluster.database());
            List<String> seen = transcript(c, List.of(
                    List.of(LeadingBeginTest.parse("mode", "SHOW readsplit.consistency"), sync),
                    List.of(LeadingBeginTest.parse("mode", "SHOW readsplit.consistency"),
                            LeadingBeginTest.bind("", "mode"), LeadingBeginTest.execute(""), sync),
                    List.of(LeadingBeginTest.bind("", "mode"), LeadingBeginTest.execute(""), sync)));
            assertThat(seen).hasSize(8).startsWith("1", "Z I", "E 42P05", "Z I", "2").endsWith("C SHOW", "Z I");
            assertThat(seen.get(5)).startsWith("D ");
        }
    }

    /**
     * Pooling by transaction, a backend goes from client to client with the statements prepared on it; a client that
     * binds a statement it never prepared gets 26000 there, as from PostgreSQL, not another client's statement.
     */
    @Test
    void aStatementLeftOnAPooledBackendIsNotTheNextClients() throws Exception {
        try (ProxyServer tp = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0")
                .user(USER, Secret.of(PASSWORD)).poolMode(PoolMode.TRANSACTION).build());
             RawClient a = new RawClient(tp.address().getPort());
             RawClient b = new RawClient(tp.address().getPort())) {
            a.login(USER, PASSWORD, cluster.database());
            b.login(USER, PASSWORD, cluster.database());
            Msg sync = Msg.builder('S').build();
            List<Msg> run = List.of(LeadingBeginTest.bind("", "mine"), LeadingBeginTest.execute(""), sync);
            assertThat(transcript(a, List.of(List.of(LeadingBeginTest.parse("mine",
                    "/* readsplit:primary */ SELECT pg_backend_pid()"), LeadingBeginTest.parse("",
                    "/* readsplit:primary */ SELECT 7"), sync)))).containsExactly("1", "1", "Z I");
            assertThat(transcript(b, List.of(run))).containsExactly("E 26000", "Z I");
            assertThat(transcript(b, List.of(List.of(LeadingBeginTest.bind("", ""), LeadingBeginTest.execute(""),
                    sync)))).containsExactly("E 26000", "Z I");
            assertThat(transcript(a, List.of(run))).startsWith("2").contains("C SELECT 1").endsWith("Z I");
        }
    }

    /** Asserts that the proxy answers {@code steps} as the primary does, and returns the primary's transcript. */
    private static List<String> answeredAsByThePrimary(List<List<Msg>> steps) throws IOException {
        List<String> direct;
        try (RawClient c = new RawClient(cluster.primary().port())) {
            c.login(cluster.user(), cluster.password(), cluster.database());
            direct = transcript(c, steps);
        }
        try (RawClient c = new RawClient(proxy.address().getPort())) {
            c.login(USER, PASSWORD, cluster.database());
            assertThat(transcript(c, steps)).isEqualTo(direct);
        }
        return direct;
    }

    /** Each step's messages sent, then what comes back up to its ReadyForQuery: type and tag, state or SQLSTATE. */
    private static List<String> transcript(RawClient c, List<List<Msg>> steps) throws IOException {
        List<String> seen = new ArrayList<>();
        for (List<Msg> step : steps) {
            for (Msg m : step) {
                c.send(m);
            }
            Msg r;
            do {
                r = c.read();
                switch (r.type()) {
                    case 'C' -> seen.add("C " + r.cstring(0));
                    case 'Z' -> seen.add("Z " + (char) r.body()[0]);
                    // (a missing savepoint's error names it as the server spelled it: compared too)
                    case 'E' -> seen.add("E " + r.field('C') + ("3B001".equals(r.field('C')) ? " " + r.field('M') : ""));
                    case 'D' -> seen.add("D " + r.firstColumn());
                    case 't' -> seen.add("t " + r.int16(0));
                    case 'N', 'S' -> { } // notices and parameter changes may differ
                    default -> seen.add(String.valueOf((char) r.type()));
                }
            } while (r.type() != 'Z');
        }
        return seen;
    }

    /** The server's port inside a transaction begun with a plain BEGIN (then {@code first}, if not null). */
    private static int portInTransaction(Statement s, String first) throws SQLException {
        s.execute("BEGIN");
        if (first != null) {
            s.execute(first);
        }
        int port = port(s, "SELECT inet_server_port()");
        s.execute("COMMIT");
        return port;
    }

    @Test
    void consistencyIsSettablePerSessionAndAtStartup() throws SQLException {
        try (Connection c = connect("&preferQueryMode=simple"); Statement s = c.createStatement()) {
            s.execute("SET readsplit.consistency = 'strong'");
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(primaryPort);
            s.execute("RESET readsplit.consistency");
            assertThat(standbyPorts).contains(port(s, "SELECT inet_server_port()"));
            assertThat(assertThrows(SQLException.class, () -> s.execute("SET readsplit.consistency = 'sometimes'"))
                    .getMessage()).contains("sometimes");
        }
        try (Connection c = connect("&options=-c%20readsplit.consistency=strong"); Statement s = c.createStatement()) {
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(primaryPort);
        }
    }

    @Test
    void cancelReachesTheBackendRunningTheQuery() throws Exception {
        try (Connection c = connect(""); Statement s = c.createStatement()) {
            var pool = Executors.newSingleThreadExecutor();
            try {
                Future<SQLException> f = pool.submit(() -> assertThrows(SQLException.class,
                        () -> s.executeQuery("SELECT pg_sleep(60)")));
                await().atMost(Duration.ofSeconds(20)).until(() -> activeSleeps() > 0);
                s.cancel();
                assertThat(f.get(30, TimeUnit.SECONDS).getSQLState()).isEqualTo("57014");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * A client that stops reading a large result holds its own backend back (the backend waits in {@code ClientWrite},
     * the proxy buffering only a bounded part), while every other client goes on through the same event loop; read
     * later, the result arrives whole.
     */
    @Test
    void aClientThatDoesNotReadHoldsBackItsBackendNotTheProxy() throws Exception {
        awaitBothReplicasEligible();
        String big = "SELECT repeat('x', 1000) || g FROM generate_series(1, 200000) g /* slow reader */";
        try (RawClient slow = new RawClient(proxy.address().getPort())) {
            slow.socket.setReceiveBufferSize(16 * 1024);
            slow.login(USER, PASSWORD, cluster.database());
            slow.send(Msg.query(big));
            // 200 MB of rows: the backend can only be waiting to write if the proxy stopped reading it
            await().atMost(Duration.ofSeconds(30)).until(() -> waitingToWrite("%slow reader%") > 0);
            try (Connection c = connect(""); Statement s = c.createStatement()) {
                for (int i = 0; i < 20; i++) {
                    assertThat(standbyPorts).contains(port(s, "SELECT inet_server_port()"));
                }
            }
            assertThat(waitingToWrite("%slow reader%")).isEqualTo(1);
            long rows = 0;
            while (true) {
                Msg m = slow.read();
                if (m.type() == 'D') {
                    rows++;
                } else if (m.type() == 'Z') {
                    break;
                } else {
                    assertThat(m.type()).as("message %s", m).isIn((byte) 'T', (byte) 'C');
                }
            }
            assertThat(rows).isEqualTo(200_000);
        }
    }

    private static long waitingToWrite(String like) throws SQLException {
        long n = 0;
        for (EmbeddedNode node : cluster.nodes()) {
            try (Connection c = node.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE query LIKE ?"
                         + " AND state = 'active' AND wait_event = 'ClientWrite'")) {
                ps.setString(1, like);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n += rs.getLong(1);
                }
            }
        }
        return n;
    }

    private static long activeSleeps() throws SQLException {
        long n = 0;
        for (EmbeddedNode node : cluster.nodes()) {
            try (Connection c = node.connect(); Statement s = c.createStatement()) {
                n += port(s, "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'");
            }
        }
        return n;
    }

    // ---------------------------------------------------------------------------------------------
    // pipelining (transaction pooling, pipelineDepth > 1)

    /**
     * A data source of the primary and the first standby only (every read goes to that standby), with that standby
     * eligible for reads.
     */
    private static ReadsplitDataSource oneReplicaDataSource() {
        EmbeddedNode standby = cluster.standbys().get(0);
        ReadsplitDataSource one = new ReadsplitDataSource(ReadsplitConfig.builder().name("proxyit-pipelining")
                .primary(cluster.primary().host(), cluster.primary().port()).database(cluster.database())
                .user(cluster.user()).password(cluster.password()).healthCheckInterval(Duration.ofMillis(200))
                .addReplica(standby.host(), standby.port()).build());
        await().atMost(Duration.ofSeconds(30)).until(() -> one.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0 && !n.lagExcluded()));
        return one;
    }

    /** A proxy pipelining up to 8 reads per server connection, behind statements of any age (the tests' sleeps). */
    private static ProxyServer pipeliningProxy(ReadsplitDataSource one) throws IOException {
        return ProxyServer.start(one, ProxyConfig.builder().listen("127.0.0.1:0").user(USER, Secret.of(PASSWORD))
                .poolMode(PoolMode.TRANSACTION).pipelineDepth(8).pipelineMaxWait(Duration.ofMinutes(1)).build());
    }

    /** pgjdbc clients of {@code p} sending simple queries, each one's connection open (logged in) already. */
    private static List<Connection> simpleClients(ProxyServer p, int n) throws SQLException {
        List<Connection> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            clients.add(DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + p.address().getPort() + "/"
                    + cluster.database() + "?user=" + USER + "&password=" + PASSWORD + "&preferQueryMode=simple"));
        }
        return clients;
    }

    /** The server process on the first standby running {@code sql} now (asked of the standby), or 0 for none. */
    private static int runningOnTheStandby(String sql) throws SQLException {
        try (Connection c = cluster.standbys().get(0).connect();
             PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(pid), 0) FROM pg_stat_activity"
                     + " WHERE query = ? AND state = 'active'")) {
            ps.setString(1, sql);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /**
     * Each client but the first reading {@code sqlOf.apply(n)} ({@code n} its index) on a thread of {@code pool}: its
     * {@link #labelPidPort} answer, or {@code "E "} and the SQLSTATE of its error.
     */
    private static List<Future<String>> readsOnThreads(java.util.concurrent.ExecutorService pool,
                                                       List<Connection> clients,
                                                       java.util.function.IntFunction<String> sqlOf) {
        List<Future<String>> answers = new ArrayList<>();
        for (int i = 1; i < clients.size(); i++) {
            int n = i;
            answers.add(pool.submit(() -> {
                try {
                    return labelPidPort(clients.get(n), sqlOf.apply(n));
                } catch (SQLException e) {
                    return "E " + e.getSQLState();
                }
            }));
        }
        return answers;
    }

    private static void closeAll(java.util.concurrent.ExecutorService pool, List<Connection> clients)
            throws SQLException {
        pool.shutdownNow();
        for (Connection c : clients) {
            c.close();
        }
    }

    /** {@code sql}'s first column, its server process and port, as one string. */
    private static String labelPidPort(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1) + " " + rs.getInt(2) + " " + rs.getInt(3);
        }
    }

    /**
     * Pipelining: five clients' autocommit reads sent while a sixth's runs go behind it on the very same server
     * connection (asked of the server: one process answers them all), each client gets its own answer, and one
     * client's error stays its own.
     */
    @Test
    void pipelinedReadsOfManyClientsShareOneServerConnectionAndEachGetsItsOwnAnswer() throws Exception {
        int standbyPort = cluster.standbys().get(0).port();
        try (ReadsplitDataSource one = oneReplicaDataSource(); ProxyServer tp = pipeliningProxy(one)) {
            List<Connection> clients = simpleClients(tp, 6);
            var pool = Executors.newFixedThreadPool(6);
            try {
                labelPidPort(clients.get(0), "SELECT 'warm', 0, 0"); // leaves a standby connection idle in the pool
                String headSql = "SELECT 'client 0' || pg_sleep(3) /* head */, pg_backend_pid(), inet_server_port()";
                Future<String> first = pool.submit(() -> labelPidPort(clients.get(0), headSql));
                await().atMost(Duration.ofSeconds(20)).until(() -> runningOnTheStandby(headSql) != 0);
                int sleeper = runningOnTheStandby(headSql);
                List<Future<String>> rest = readsOnThreads(pool, clients, n -> n == 3 ? "SELECT 1 / 0, 0, 0"
                        : "SELECT 'client " + n + "', pg_backend_pid(), inet_server_port()");
                // all five sent behind the running read, while it still runs
                await().atMost(Duration.ofSeconds(20)).until(() -> tp.status().pipelined().sent() == 5);
                assertThat(runningOnTheStandby(headSql)).isEqualTo(sleeper);
                assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo("client 0 " + sleeper + " " + standbyPort);
                for (int i = 1; i < 6; i++) {
                    assertThat(rest.get(i - 1).get(30, TimeUnit.SECONDS))
                            .isEqualTo(i == 3 ? "E 22012" : "client " + i + " " + sleeper + " " + standbyPort);
                }
                assertThat(tp.status().pipelined().ranAgain()).isZero();
            } finally {
                closeAll(pool, clients);
            }
        }
    }

    /**
     * Transaction pooling (here with pipelining on): a read after the session's write, its session holding no backend
     * between statements, goes out with the standby's replay check in its own round trip on an idle pooled backend
     * (counted in the status), never pipelined without one, and never reads stale with a 300 ms replica delay. It
     * once waited on a worker thread each time, asking the standby separately (0 checks in the read's round trip).
     */
    @Test
    void inTransactionPoolingAReadAfterAWriteCarriesItsReplayCheck() throws Exception {
        EmbeddedNode standby = cluster.standbys().get(0);
        try (ReadsplitDataSource one = oneReplicaDataSource(); ProxyServer tp = pipeliningProxy(one);
             Connection c = simpleClients(tp, 1).get(0); Statement s = c.createStatement()) {
            assertThat(port(s, "SELECT inet_server_port()")).isEqualTo(standby.port()); // a standby backend idles
            standby.setApplyDelay(Duration.ofMillis(300));
            try {
                ProxyStatus.ReplayChecks before = tp.status().replayChecks();
                int stale = 0;
                for (int i = 0; i < 10; i++) {
                    s.executeUpdate("INSERT INTO items VALUES (" + (91_000 + i) + ", 'tx-ryw')");
                    if (port(s, "SELECT count(*)::int FROM items WHERE id = " + (91_000 + i)) != 1) {
                        stale++;
                    }
                }
                assertThat(stale).isZero();
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        tp.status().replayChecks().shortOfPosition() - before.shortOfPosition())
                        .isGreaterThanOrEqualTo(10));
                assertThat(tp.status().pipelined().sent()).isZero();
            } finally {
                standby.setApplyDelay(Duration.ZERO);
            }
        }
    }

    /**
     * Pipelining in the extended protocol: pgjdbc's parameterised reads (Parse, Bind, Describe and Execute of the
     * unnamed statement, then Sync) sent while another client's read runs go behind it on the same server connection
     * (asked of the server), each with its own parameters' answer; one's error (at Execute) stays its own.
     */
    @Test
    void pipelinedExtendedQueriesOfTheUnnamedStatementShareOneServerConnectionToo() throws Exception {
        int standbyPort = cluster.standbys().get(0).port();
        try (ReadsplitDataSource one = oneReplicaDataSource(); ProxyServer tp = pipeliningProxy(one)) {
            List<Connection> clients = simpleClients(tp, 1);
            for (int i = 1; i < 5; i++) {
                clients.add(DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + tp.address().getPort() + "/"
                        + cluster.database() + "?user=" + USER + "&password=" + PASSWORD)); // the extended protocol
            }
            var pool = Executors.newFixedThreadPool(5);
            try {
                labelPidPort(clients.get(0), "SELECT 'warm', 0, 0");
                String headSql = "SELECT 'head' || pg_sleep(3) /* extended behind */, pg_backend_pid(), inet_server_port()";
                Future<String> first = pool.submit(() -> labelPidPort(clients.get(0), headSql));
                await().atMost(Duration.ofSeconds(20)).until(() -> runningOnTheStandby(headSql) != 0);
                int sleeper = runningOnTheStandby(headSql);
                List<Future<String>> rest = new ArrayList<>();
                for (int i = 1; i < 5; i++) {
                    int n = i;
                    rest.add(pool.submit(() -> {
                        String sql = n == 2 ? "SELECT 1 / ?::int, 0, 0"
                                : "SELECT ?::text, pg_backend_pid(), inet_server_port()";
                        try (PreparedStatement ps = clients.get(n).prepareStatement(sql)) {
                            if (n == 2) {
                                ps.setInt(1, 0);
                            } else {
                                ps.setString(1, "client " + n);
                            }
                            try (ResultSet rs = ps.executeQuery()) {
                                rs.next();
                                return rs.getString(1) + " " + rs.getInt(2) + " " + rs.getInt(3);
                            }
                        } catch (SQLException e) {
                            return "E " + e.getSQLState();
                        }
                    }));
                }
                await().atMost(Duration.ofSeconds(20)).until(() -> tp.status().pipelined().sent() == 4);
                assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo("head " + sleeper + " " + standbyPort);
                for (int i = 1; i < 5; i++) {
                    assertThat(rest.get(i - 1).get(30, TimeUnit.SECONDS))
                            .isEqualTo(i == 2 ? "E 22012" : "client " + i + " " + sleeper + " " + standbyPort);
                }
                // each client goes on as usual on that connection, its unnamed statement parsed again each time
                assertThat(labelPidPort(clients.get(1), "SELECT 'after', pg_backend_pid(), inet_server_port()"))
                        .isEqualTo("after " + sleeper + " " + standbyPort);
            } finally {
                closeAll(pool, clients);
            }
        }
    }

    /**
     * A client that parses the unnamed statement in one round trip and binds it in the next, its Parse pipelined on a
     * server connection where another client's simple query ran after it (and so destroyed it), gets its statement
     * executed all the same when the connection comes back to it: the proxy prepares it there again. The proxy once
     * recorded the statement as the connection's still (its confirmation came after the simple query was sent), and
     * the Bind failed with 26000.
     */
    @Test
    void anUnnamedStatementParsedInAPipelineIsParsedAgainWhereAnotherClientsQueryReplacedIt() throws Exception {
        Msg sync = Msg.builder('S').build();
        // three clients of the same (empty) startup settings, so that they may share a server connection
        try (ReadsplitDataSource one = oneReplicaDataSource(); ProxyServer tp = pipeliningProxy(one);
             RawClient head = new RawClient(tp.address().getPort());
             RawClient parser = new RawClient(tp.address().getPort());
             RawClient other = new RawClient(tp.address().getPort())) {
            for (RawClient c : List.of(head, parser, other)) {
                c.login(USER, PASSWORD, cluster.database());
            }
            var pool = Executors.newFixedThreadPool(3);
            try {
                // the standby's one server connection, idle in the pool with these settings
                assertThat(transcript(head, List.of(List.of(Msg.query("SELECT 'warm'"))))).endsWith("Z I");
                String headSql = "SELECT pg_sleep(2) /* parse behind */";
                Future<List<String>> first = pool.submit(() -> transcript(head, List.of(List.of(Msg.query(headSql)))));
                await().atMost(Duration.ofSeconds(20)).until(() -> runningOnTheStandby(headSql) != 0);
                int sleeper = runningOnTheStandby(headSql);
                Future<List<String>> parsed = pool.submit(() -> transcript(parser,
                        List.of(List.of(LeadingBeginTest.parse("", "SELECT pg_backend_pid()"), sync))));
                await().atMost(Duration.ofSeconds(20)).until(() -> tp.status().pipelined().sent() == 1);
                Future<List<String>> simple = pool.submit(() -> transcript(other,
                        List.of(List.of(Msg.query("SELECT pg_backend_pid()")))));
                await().atMost(Duration.ofSeconds(20)).until(() -> tp.status().pipelined().sent() == 2);
                assertThat(first.get(30, TimeUnit.SECONDS)).endsWith("C SELECT 1", "Z I");
                assertThat(parsed.get(30, TimeUnit.SECONDS)).containsExactly("1", "Z I");
                assertThat(simple.get(30, TimeUnit.SECONDS)).containsExactly("T", "D " + sleeper, "C SELECT 1", "Z I");
                // the Bind of the statement parsed before, on that same server connection (the standby's only one)
                assertThat(transcript(parser, List.of(List.of(LeadingBeginTest.bind("", ""),
                        LeadingBeginTest.execute(""), sync)))).containsExactly("2", "D " + sleeper, "C SELECT 1", "Z I");
                assertThat(tp.status().pipelined().ranAgain()).isZero();
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * A cancel of a pipelined read with other clients' reads behind it: the client gets 57014, the server stops the
     * statement (asked of the server), the reads behind it run again on another server connection and get their
     * answers, and the node is not taken for failed.
     */
    @Test
    void aCancelledPipelinedReadAnswers57014AndTheReadsBehindItRunElsewhere() throws Exception {
        try (ReadsplitDataSource one = oneReplicaDataSource(); ProxyServer tp = pipeliningProxy(one)) {
            List<Connection> clients = simpleClients(tp, 3);
            var pool = Executors.newFixedThreadPool(3);
            try {
                labelPidPort(clients.get(0), "SELECT 'warm', 0, 0");
                String head = "SELECT pg_sleep(60) /* cancelled with others behind */";
                Statement cancelled = clients.get(0).createStatement();
                Future<String> first = pool.submit(() -> assertThrows(SQLException.class,
                        () -> cancelled.executeQuery(head)).getSQLState());
                await().atMost(Duration.ofSeconds(20)).until(() -> runningOnTheStandby(head) != 0);
                int sleeper = runningOnTheStandby(head);
                List<Future<String>> rest = readsOnThreads(pool, clients,
                        n -> "SELECT 'client " + n + "', pg_backend_pid(), 0");
                await().atMost(Duration.ofSeconds(20)).until(() -> tp.status().pipelined().sent() == 2);
                cancelled.cancel();
                assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo("57014");
                for (int i = 1; i < 3; i++) {
                    String answer = rest.get(i - 1).get(30, TimeUnit.SECONDS);
                    assertThat(answer).startsWith("client " + i + " ").doesNotContain(" " + sleeper + " ");
                }
                assertThat(tp.status().pipelined().ranAgain()).isEqualTo(2);
                await().atMost(Duration.ofSeconds(20)).until(() -> runningOnTheStandby(head) == 0);
                assertThat(tp.status().backendFailures()).isZero();
                assertThat(one.topology().replicas()).allMatch(n -> n.state() == NodeState.UP);
                // the cancelled client goes on as any other
                assertThat(labelPidPort(clients.get(0), "SELECT 'again', 0, inet_server_port()"))
                        .isEqualTo("again 0 " + cluster.standbys().get(0).port());
            } finally {
                closeAll(pool, clients);
            }
        }
    }

    /**
     * A cancel of a pipelined read that runs with nothing behind it is the server's own (57014 from PostgreSQL), and
     * the connection it ran on is not used again (a late cancel could otherwise reach another client's statement).
     */
    @Test
    void aCancelledPipelinedReadWithNoneBehindIsStoppedByTheServerAndItsConnectionNotReused() throws Exception {
        try (ReadsplitDataSource one = oneReplicaDataSource(); ProxyServer tp = pipeliningProxy(one)) {
            List<Connection> clients = simpleClients(tp, 1);
            var pool = Executors.newSingleThreadExecutor();
            try {
                labelPidPort(clients.get(0), "SELECT 'warm', 0, 0");
                String head = "SELECT pg_sleep(60) /* cancelled alone */";
                Statement cancelled = clients.get(0).createStatement();
                Future<SQLException> first = pool.submit(() -> assertThrows(SQLException.class,
                        () -> cancelled.executeQuery(head)));
                await().atMost(Duration.ofSeconds(20)).until(() -> runningOnTheStandby(head) != 0);
                int sleeper = runningOnTheStandby(head);
                cancelled.cancel();
                SQLException e = first.get(30, TimeUnit.SECONDS);
                assertThat(e.getSQLState()).isEqualTo("57014");
                assertThat(e.getMessage()).contains("canceling statement due to user request");
                assertThat(labelPidPort(clients.get(0), "SELECT 'next', pg_backend_pid(), 0"))
                        .startsWith("next ").isNotEqualTo("next " + sleeper + " 0");
                assertThat(tp.status().pipelined().ranAgain()).isZero();
                assertThat(tp.status().backendFailures()).isZero();
            } finally {
                pool.shutdownNow();
                clients.get(0).close();
            }
        }
    }

    @Test
    void wrongPasswordsUnknownUsersAndDatabasesAreRefused() {
        String base = "jdbc:postgresql://127.0.0.1:" + proxy.address().getPort() + "/";
        assertThat(assertThrows(SQLException.class, () -> DriverManager.getConnection(base + cluster.database(), USER,
                "wrong")).getSQLState()).isEqualTo("28P01");
        assertThat(assertThrows(SQLException.class, () -> DriverManager.getConnection(base + cluster.database(),
                "nobody", PASSWORD)).getSQLState()).isEqualTo("28P01");
        assertThat(assertThrows(SQLException.class, () -> DriverManager.getConnection(base + "otherdb", USER,
                PASSWORD)).getSQLState()).isEqualTo("3D000");
    }

    @Test
    void clientConnectionsAreBounded() throws Exception {
        try (ProxyServer small = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0").maxClients(1)
                .user(USER, Secret.of(PASSWORD)).build());
             Connection first = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + small.address().getPort()
                     + "/" + cluster.database(), USER, PASSWORD)) {
            SQLException e = assertThrows(SQLException.class, () -> DriverManager.getConnection(
                    "jdbc:postgresql://127.0.0.1:" + small.address().getPort() + "/" + cluster.database(), USER, PASSWORD));
            assertThat(e.getMessage()).contains("too many clients");
            assertThat(first.isValid(5)).isTrue();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // the protocol, message by message

    @Test
    void sslAndGssEncryptionRequestsAreAnsweredNoAndTheLoginGoesOn() throws Exception {
        try (RawClient c = new RawClient(proxy.address().getPort())) {
            c.startupPacket(80877104, new byte[0]); // GSSENCRequest
            assertThat(c.in.read()).isEqualTo('N');
            c.startupPacket(80877103, new byte[0]); // SSLRequest
            assertThat(c.in.read()).isEqualTo('N');
            c.login(USER, PASSWORD, cluster.database());
            c.send(Msg.query("SELECT inet_server_port()"));
            Msg m;
            int port = -1;
            while ((m = c.read()).type() != 'Z') {
                if (m.type() == 'D') {
                    port = Integer.parseInt(new String(m.body(), 6, m.int32(2), StandardCharsets.UTF_8));
                }
            }
            assertThat(standbyPorts).contains(port);
        }
    }

    @Test
    void flushAnswersWhatWasSentAndTheSyncEndsThePipelineOnTheSameNode() throws Exception {
        try (RawClient c = new RawClient(proxy.address().getPort())) {
            c.login(USER, PASSWORD, cluster.database());
            c.send(Msg.builder('P').cstring("").cstring("SELECT inet_server_port()").int16(0).build());
            c.send(Msg.builder('B').cstring("").cstring("").int16(0).int16(0).int16(0).build());
            c.send(Msg.builder('E').cstring("").int32(0).build());
            c.send(Msg.builder('H').build());
            assertThat((char) c.read().type()).isEqualTo('1');
            assertThat((char) c.read().type()).isEqualTo('2');
            Msg row = c.read();
            assertThat((char) row.type()).isEqualTo('D');
            int port = Integer.parseInt(new String(row.body(), 6, row.int32(2), StandardCharsets.UTF_8));
            assertThat(standbyPorts).contains(port);
            assertThat((char) c.read().type()).isEqualTo('C');
            // the same unnamed statement again before the Sync: same backend (the pipeline never splits)
            c.send(Msg.builder('B').cstring("").cstring("").int16(0).int16(0).int16(0).build());
            c.send(Msg.builder('E').cstring("").int32(0).build());
            c.send(Msg.builder('S').build());
            assertThat((char) c.read().type()).isEqualTo('2');
            Msg again = c.read();
            assertThat(Integer.parseInt(new String(again.body(), 6, again.int32(2), StandardCharsets.UTF_8)))
                    .isEqualTo(port);
            assertThat((char) c.read().type()).isEqualTo('C');
            Msg z = c.read();
            assertThat((char) z.type()).isEqualTo('Z');
            assertThat((char) z.body()[0]).isEqualTo('I');
        }
    }

    @Test
    void aPipelineThatRunsNoSqlIsNotCountedAsAWrite() throws Exception {
        try (RawClient c = new RawClient(proxy.address().getPort())) {
            c.login(USER, PASSWORD, cluster.database());
            c.send(Msg.builder('C').byte1('S').cstring("never_prepared").build());
            c.send(Msg.builder('S').build());
            assertThat((char) c.read().type()).isEqualTo('3');
            assertThat((char) c.read().type()).isEqualTo('Z');
            c.send(Msg.query("SHOW readsplit.token"));
            String token = null;
            Msg m;
            while ((m = c.read()).type() != 'Z') {
                if (m.type() == 'D') {
                    token = new String(m.body(), 6, m.int32(2), StandardCharsets.UTF_8);
                }
            }
            assertThat(token).isEmpty(); // no write: its reads need not wait for any position
        }
    }

    @Test
    void anOversizedMessageClosesTheConnection() throws Exception {
        try (RawClient c = new RawClient(proxy.address().getPort())) {
            c.login(USER, PASSWORD, cluster.database());
            c.out.write(new byte[] {'Q', 0x7f, 0, 0, 0});
            c.out.flush();
            assertThat(c.in.read()).isEqualTo(-1);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // other clients

    static String run(List<String> command, Map<String, String> env, Path dir) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", PASSWORD);
        pb.environment().putAll(env);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        Process p = pb.start();
        byte[] out;
        try {
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(command + " did not finish in 180 s");
            }
        } finally {
            out = p.getInputStream().readAllBytes();
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(command + " output:\n" + text).isZero();
        return text;
    }

    /**
     * pgbench's extended and prepared modes send BEGIN in the extended protocol (Parse, Bind, Describe, Execute, Sync;
     * Bind of a prepared statement): deferred as the simple query's is, so the transaction's first statement picks
     * its node. Each script divides by pg_is_in_recovery(), so a transaction run on the primary fails and aborts its
     * client.
     */
    @Test
    void pgbenchsExtendedBeginGoesWithTheTransactionsFirstStatement(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        Files.writeString(dir.resolve("readonly-by-default.sql"),
                "BEGIN;\nSELECT 1 / pg_is_in_recovery()::int;\nSELECT 2 / pg_is_in_recovery()::int;\nEND;\n");
        Files.writeString(dir.resolve("set-transaction.sql"),
                "BEGIN;\nSET TRANSACTION READ ONLY;\nSELECT 1 / pg_is_in_recovery()::int;\nCOMMIT;\n");
        for (String mode : List.of("simple", "extended", "prepared")) {
            for (String script : List.of("readonly-by-default.sql", "set-transaction.sql")) {
                List<String> cmd = List.of("/usr/bin/pgbench", "-h", "127.0.0.1", "-p",
                        String.valueOf(proxy.address().getPort()), "-U", USER, "-n", "-c", "2", "-t", "20",
                        "-M", mode, "-f", dir.resolve(script).toString(), cluster.database());
                Map<String, String> env = script.startsWith("readonly")
                        ? Map.of("PGOPTIONS", "-c default_transaction_read_only=on") : Map.of();
                String out = run(cmd, env, null);
                assertThat(out).as(mode + " " + script + ":\n" + out)
                        .contains("number of transactions actually processed: 40/40");
            }
        }
    }

    static List<String> psql(String... args) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1",
                "host=127.0.0.1 port=" + proxy.address().getPort() + " dbname=" + cluster.database() + " user=" + USER));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void psqlCommandAndScript(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String out = run(psql("-c", "SELECT inet_server_port()"), Map.of(), null).trim();
        assertThat(standbyPorts).contains(Integer.parseInt(out));
        // TLS is not offered yet: a client that requires it is told so by its own library
        ProcessBuilder tls = new ProcessBuilder("/usr/bin/psql", "-X", "-At", "-c", "SELECT 1", "host=127.0.0.1 port="
                + proxy.address().getPort() + " dbname=" + cluster.database() + " user=" + USER + " sslmode=require")
                .redirectErrorStream(true);
        tls.environment().put("PGPASSWORD", PASSWORD);
        Process p = tls.start();
        String tlsOut = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isNotZero();
        assertThat(tlsOut).contains("server does not support SSL");
        Path script = dir.resolve("script.sql");
        Files.writeString(script, String.join("\n",
                "INSERT INTO items VALUES (40000, 'psql') RETURNING inet_server_port();",
                "BEGIN;",
                "SELECT inet_server_port();",
                "COMMIT;",
                "BEGIN READ ONLY;",
                "SELECT inet_server_port();",
                "SELECT inet_server_port();",
                "COMMIT;",
                "SELECT count(*) FROM items WHERE id = 40000;",
                "SET readsplit.consistency = strong;",
                "SELECT inet_server_port();", ""));
        List<String> lines = run(psql("-f", script.toString()), Map.of(), null).lines()
                .filter(l -> l.matches("\\d+")).toList();
        assertThat(lines).hasSize(6);
        assertThat(Integer.parseInt(lines.get(0))).isEqualTo(primaryPort);
        assertThat(Integer.parseInt(lines.get(1))).isEqualTo(primaryPort);
        assertThat(standbyPorts).contains(Integer.parseInt(lines.get(2)));
        assertThat(lines.get(3)).isEqualTo(lines.get(2));
        assertThat(lines.get(4)).isEqualTo("1");
        assertThat(Integer.parseInt(lines.get(5))).isEqualTo(primaryPort);
    }

    @Test
    void tlsWhenConfigured(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path cert = dir.resolve("proxy.crt");
        Path key = dir.resolve("proxy.key");
        run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-keyout", key.toString(), "-out", cert.toString()), Map.of(), null);
        try (ProxyServer tls = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0")
                .user(USER, Secret.of(PASSWORD)).tls(cert, key).build())) {
            String out = run(List.of("/usr/bin/psql", "-X", "-At", "-c", "SELECT inet_server_port()", "host=127.0.0.1 port="
                    + tls.address().getPort() + " dbname=" + cluster.database() + " user=" + USER + " sslmode=verify-ca"
                    + " sslrootcert=" + cert), Map.of(), null).trim();
            assertThat(standbyPorts).contains(Integer.parseInt(out));
        }
    }

    static long commits(EmbeddedNode node) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            return port(s, "SELECT sum(xact_commit)::int FROM pg_stat_database");
        }
    }

    @Test
    void pgbenchSelectOnlyAndMixInEveryQueryMode() throws Exception {
        awaitBothReplicasEligible();
        String conn = "host=127.0.0.1 port=" + proxy.address().getPort() + " user=" + USER;
        List<String> base = List.of("/usr/bin/pgbench", "-h", "127.0.0.1", "-p",
                String.valueOf(proxy.address().getPort()), "-U", USER);
        // -I dtgvp: client-side generation, 100,000 rows by COPY pgbench_accounts FROM STDIN through the proxy
        List<String> init = new ArrayList<>(base);
        init.addAll(List.of("-i", "-I", "dtgvp", "-s", "1", cluster.database()));
        run(init, Map.of(), null);
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            assertThat(port(s, "SELECT count(*)::int FROM pgbench_accounts")).isEqualTo(100_000);
        }
        for (String mode : List.of("simple", "extended", "prepared")) {
            for (List<String> workload : List.of(List.of("-S"), List.of("-b", "select-only@9", "-b", "simple-update@1"))) {
                long[] before = new long[2];
                for (int i = 0; i < 2; i++) {
                    before[i] = commits(cluster.standby(i));
                }
                List<String> cmd = new ArrayList<>(base);
                cmd.addAll(List.of("-c", "4", "-j", "2", "-t", "50", "-M", mode));
                cmd.addAll(workload);
                cmd.add(cluster.database());
                String out = run(cmd, Map.of(), null);
                assertThat(out).as(conn + " " + cmd).contains("number of transactions actually processed: 200/200");
                assertThat(out).contains("number of failed transactions: 0");
                for (int i = 0; i < 2; i++) {
                    int idx = i;
                    await().atMost(Duration.ofSeconds(15)).until(() -> commits(cluster.standby(idx)) > before[idx] + 10);
                }
            }
        }
    }

    @Test
    void pythonPsycopg2(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        awaitBothReplicasEligible();
        Path script = dir.resolve("client.py");
        Files.writeString(script, String.join("\n",
                "import os, psycopg2",
                "c = psycopg2.connect(host='127.0.0.1', port=int(os.environ['PORT']), dbname=os.environ['DB'],",
                "                     user=os.environ['PGUSER'], password=os.environ['PGPASSWORD'])",
                "cur = c.cursor()",
                "cur.execute('SELECT inet_server_port()')  # psycopg2 opens a transaction: the primary",
                "print('tx', cur.fetchone()[0])",
                "c.commit()",
                "# meanwhile another client writes (straight to the primary): the WAL moves past what the proxy last",
                "# saw the replicas replay. A transaction that only read writes nothing: the reads below need not wait",
                "w = psycopg2.connect(host='127.0.0.1', port=int(os.environ['PRIMARY']), dbname=os.environ['DB'],",
                "                     user=os.environ['PRIMARY_USER'], password=os.environ['PRIMARY_PASSWORD'])",
                "w.cursor().execute('INSERT INTO audit VALUES (2)')",
                "w.commit()",
                "c.autocommit = True",
                "for i in range(4):",
                "    cur.execute('SELECT inet_server_port()')",
                "    print('read', cur.fetchone()[0])",
                "stale = 0",
                "for i in range(10):",
                "    cur.execute('INSERT INTO items VALUES (%s, %s)', (50000 + i, 'py'))",
                "    cur.execute('SELECT count(*) FROM items WHERE id = %s', (50000 + i,))",
                "    stale += 1 - cur.fetchone()[0]",
                "print('stale', stale)",
                "c.autocommit = False",
                "c.set_session(readonly=True)  # BEGIN READ ONLY: the whole transaction on one replica",
                "cur.execute('SELECT inet_server_port()')",
                "print('rotx', cur.fetchone()[0])",
                "cur.execute('SELECT inet_server_port()')",
                "print('rotx', cur.fetchone()[0])",
                "c.commit()",
                "c.set_session(readonly=False)",
                "c.autocommit = True",
                "cur.execute('SHOW readsplit.token')",
                "print('token', cur.fetchone()[0])", ""));
        String out = run(List.of("/usr/bin/python3", script.toString()), Map.of("PORT",
                String.valueOf(proxy.address().getPort()), "DB", cluster.database(), "PGUSER", USER,
                "PRIMARY", String.valueOf(primaryPort), "PRIMARY_USER", cluster.user(),
                "PRIMARY_PASSWORD", cluster.password()), null);
        Set<Integer> reads = new HashSet<>();
        Set<Integer> readOnlyTx = new HashSet<>();
        for (String line : out.lines().toList()) {
            String[] w = line.split(" ");
            switch (w[0]) {
                case "tx" -> assertThat(Integer.parseInt(w[1])).isEqualTo(primaryPort);
                case "read" -> reads.add(Integer.parseInt(w[1]));
                case "rotx" -> readOnlyTx.add(Integer.parseInt(w[1]));
                case "stale" -> assertThat(w[1]).isEqualTo("0");
                case "token" -> assertThat(w[1]).isNotEmpty();
                default -> throw new AssertionError("unexpected output: " + out);
            }
        }
        // one session's four autocommit reads, round-robin (named in this class's configuration): both standbys. (A
        // transaction of reads once counted as a write, and the reads then waited for the one replica asked)
        assertThat(reads).isEqualTo(standbyPorts);
        assertThat(readOnlyTx).hasSize(1);
        assertThat(standbyPorts).containsAll(readOnlyTx);
    }

    /** Runs a psycopg2 script with the proxy's port and database in its environment; returns its output. */
    static String python(Path dir, String... lines) throws Exception {
        Path script = dir.resolve("client.py");
        List<String> all = new ArrayList<>(List.of("import io, os, select, psycopg2",
                "def connect():",
                "    c = psycopg2.connect(host='127.0.0.1', port=int(os.environ['PORT']), dbname=os.environ['DB'],",
                "                         user=os.environ['PGUSER'], password=os.environ['PGPASSWORD'])",
                "    c.autocommit = True",
                "    return c",
                "def one(cur, sql, args=None):",
                "    cur.execute(sql, args)",
                "    return cur.fetchone()[0]"));
        all.addAll(List.of(lines));
        all.add("");
        Files.writeString(script, String.join("\n", all));
        return run(List.of("/usr/bin/python3", script.toString()), Map.of("PORT",
                String.valueOf(proxy.address().getPort()), "DB", cluster.database(), "PGUSER", USER), null);
    }

    /**
     * Every SQL form of a read-only transaction runs on one replica, asked of the server: BEGIN/START TRANSACTION ...
     * READ ONLY, with an isolation level, and a plain BEGIN whose first statement is SET TRANSACTION READ ONLY
     * (separately, or in the same text). A write inside gets the replica's own 25006, and the session goes on. A plain
     * BEGIN followed by anything else is a transaction on the primary; BEGIN then COMMIT with nothing between is fine.
     */
    @Test
    void readOnlyTransactionsInEverySqlFormRunOnOneReplica(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        awaitBothReplicasEligible();
        String out = python(dir,
                "c = connect()",
                "cur = c.cursor()",
                "forms = [('BEGIN READ ONLY', None), ('START TRANSACTION READ ONLY', None),",
                "         ('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', None),",
                "         ('START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY', None),",
                "         ('BEGIN', 'SET TRANSACTION READ ONLY'), ('START TRANSACTION', 'SET TRANSACTION READ ONLY'),",
                "         ('BEGIN ISOLATION LEVEL REPEATABLE READ', 'SET TRANSACTION READ ONLY'),",
                "         ('BEGIN; SET TRANSACTION READ ONLY', None)]",
                "for i, (begin, first) in enumerate(forms):",
                "    cur.execute(begin)",
                "    if first: cur.execute(first)",
                "    a = one(cur, 'SELECT inet_server_port()')",
                "    rec = one(cur, 'SELECT pg_is_in_recovery()')",
                "    ro = one(cur, 'SHOW transaction_read_only')",
                "    b = one(cur, 'SELECT inet_server_port()')",
                "    try:",
                "        cur.execute('INSERT INTO items VALUES (%s, %s)', (71000 + i, 'ro'))",
                "        code = 'none'",
                "    except psycopg2.Error as e:",
                "        code = e.pgcode",
                "    cur.execute('ROLLBACK')",
                "    print('rotx', i, a, b, rec, ro, code)",
                "    print('after', i, one(cur, 'SELECT 1'))",
                "cur.execute('BEGIN')",
                "a = one(cur, 'SELECT inet_server_port()')",
                "cur.execute('INSERT INTO items VALUES (71100, %s)', ('rw',))",
                "b = one(cur, 'SELECT inet_server_port()')",
                "cur.execute('COMMIT')",
                "print('rwtx', a, b)",
                "cur.execute('BEGIN')",
                "cur.execute('COMMIT')",
                "print('empty', c.get_transaction_status(), one(cur, 'SELECT count(*) FROM items WHERE id = 71100'))");
        int forms = 0;
        for (String line : out.lines().toList()) {
            String[] w = line.split(" ");
            switch (w[0]) {
                case "rotx" -> {
                    forms++;
                    assertThat(standbyPorts).as(line).contains(Integer.parseInt(w[2]));
                    assertThat(w[3]).as(line).isEqualTo(w[2]); // one replica for the whole transaction
                    assertThat(w[4]).as(line).isEqualTo("True");
                    assertThat(w[5]).as(line).isEqualTo("on");
                    assertThat(w[6]).as(line).isEqualTo("25006");
                }
                case "after" -> assertThat(w[2]).isEqualTo("1");
                case "rwtx" -> {
                    assertThat(Integer.parseInt(w[1])).isEqualTo(primaryPort);
                    assertThat(Integer.parseInt(w[2])).isEqualTo(primaryPort);
                }
                case "empty" -> {
                    assertThat(w[1]).isEqualTo("0"); // TRANSACTION_STATUS_IDLE
                    assertThat(w[2]).isEqualTo("1"); // the committed row, read back (read-your-writes)
                }
                default -> throw new AssertionError("unexpected output: " + out);
            }
        }
        assertThat(forms).as(out).isEqualTo(8);
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            assertThat(port(s, "SELECT count(*)::int FROM items WHERE v = 'ro'")).isZero();
            assertThat(port(s, "SELECT count(*)::int FROM items WHERE id = 71100 AND v = 'rw'")).isEqualTo(1);
        }
    }

    /**
     * psycopg2's large objects (libpq's lo_* functions, which send function-call messages): written in a transaction
     * on the primary, read back in a read-only transaction on a replica, unlinked.
     */
    @Test
    void pythonLargeObjectsRunInTheClientsTransaction(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        awaitBothReplicasEligible();
        String out = python(dir,
                "c = connect()",
                "c.autocommit = False",
                "cur = c.cursor()",
                "lo = c.lobject(0, 'wb')",
                "lo.write(b'psycopg2 large object')",
                "lo.close()",
                "print('rw', one(cur, 'SELECT inet_server_port()'), lo.oid)",
                "c.commit()",
                "c.set_session(readonly=True)",
                "a = one(cur, 'SELECT inet_server_port()')",
                "r = c.lobject(lo.oid, 'rb')",
                "data = r.read().decode()",
                "r.close()",
                "print('ro', a, one(cur, 'SELECT inet_server_port()'), data.replace(' ', '_'))",
                "c.rollback()",
                "c.set_session(readonly=False)",
                "c.lobject(lo.oid).unlink()",
                "c.commit()");
        List<String[]> lines = out.lines().map(l -> l.split(" ")).toList();
        assertThat(lines).as(out).hasSize(2);
        assertThat(lines.get(0)[0]).isEqualTo("rw");
        assertThat(Integer.parseInt(lines.get(0)[1])).isEqualTo(primaryPort);
        String[] ro = lines.get(1);
        assertThat(ro[0]).isEqualTo("ro");
        assertThat(standbyPorts).contains(Integer.parseInt(ro[1]));
        assertThat(ro[2]).isEqualTo(ro[1]);
        assertThat(ro[3]).isEqualTo("psycopg2_large_object");
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            assertThat(port(s, "SELECT count(*)::int FROM pg_largeobject_metadata WHERE oid = "
                    + lines.get(0)[2])).isZero();
        }
    }

    /**
     * COPY FROM STDIN through the proxy with psycopg2's copy_expert (simple protocol): the rows arrive on the primary,
     * asked of it; a COPY the client aborts (CopyFail) leaves nothing and the session usable; COPY TO STDOUT still
     * works; and psql's \copy.
     */
    @Test
    void copyFromStdinReachesThePrimaryAndCopyFailLeavesTheSessionUsable(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        awaitBothReplicasEligible();
        String out = python(dir,
                "c = connect()",
                "cur = c.cursor()",
                "rows = ''.join('%d\\tcopied\\n' % (72000 + i) for i in range(5000))",
                "cur.copy_expert('COPY items FROM STDIN', io.StringIO(rows))",
                "print('copied', cur.rowcount)",
                "class Broken(io.StringIO):",
                "    def read(self, *a):",
                "        raise IOError('the source broke')",
                "try:",
                "    cur.copy_expert('COPY items FROM STDIN', Broken())",
                "    print('copyfail none')",
                "except Exception as e:",
                "    print('copyfail', type(e).__name__)",
                "print('status', c.get_transaction_status())",
                "print('count', one(cur, \"SELECT count(*) FROM items WHERE v = 'copied'\"))",
                "print('read', one(cur, 'SELECT inet_server_port()'))",
                "o = io.StringIO()",
                "cur.copy_expert(\"COPY (SELECT id FROM items WHERE v = 'copied' ORDER BY id LIMIT 3) TO STDOUT\", o)",
                "print('copyout', ','.join(o.getvalue().split()))");
        assertThat(out).contains("copied 5000").contains("status 0").contains("count 5000")
                .contains("copyout 72000,72001,72002");
        assertThat(out).doesNotContain("copyfail none");
        assertThat(out).containsPattern("read \\d+"); // the session reads on after the aborted COPY
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            assertThat(port(s, "SELECT count(*)::int FROM items WHERE v = 'copied'")).isEqualTo(5000);
        }
        Path data = dir.resolve("rows.tsv");
        Files.writeString(data, "78000\tpsql\n78001\tpsql\n");
        run(psql("-c", "\\copy items from '" + data + "'"), Map.of(), null);
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            assertThat(port(s, "SELECT count(*)::int FROM items WHERE v = 'psql'")).isEqualTo(2);
        }
    }

    /** COPY FROM STDIN in the extended protocol, message by message: CopyData, CopyDone, then the client's Sync. */
    @Test
    void copyFromStdinInTheExtendedProtocolAndCopyFailThere() throws Exception {
        try (RawClient c = new RawClient(proxy.address().getPort())) {
            c.login(USER, PASSWORD, cluster.database());
            for (boolean fail : new boolean[] {false, true}) {
                c.send(Msg.builder('P').cstring("").cstring("COPY items FROM STDIN").int16(0).build());
                c.send(Msg.builder('B').cstring("").cstring("").int16(0).int16(0).int16(0).build());
                c.send(Msg.builder('E').cstring("").int32(0).build());
                c.send(Msg.builder('S').build()); // ignored by the server in copy-in mode, as libpq sends it
                assertThat((char) c.read().type()).isEqualTo('1');
                assertThat((char) c.read().type()).isEqualTo('2');
                assertThat((char) c.read().type()).isEqualTo('G');
                int id = fail ? 78200 : 78100;
                c.send(Msg.builder('d').bytes((id + "\textended\n" + (id + 1) + "\textended\n")
                        .getBytes(StandardCharsets.UTF_8)).build());
                c.send(fail ? Msg.builder('f').cstring("given up").build() : Msg.builder('c').build());
                c.send(Msg.builder('S').build());
                Msg m = c.read();
                if (fail) {
                    assertThat((char) m.type()).isEqualTo('E');
                    assertThat(m.field('M')).contains("given up");
                } else {
                    assertThat((char) m.type()).isEqualTo('C');
                    assertThat(new String(m.body(), StandardCharsets.UTF_8)).startsWith("COPY 2");
                }
                Msg z = c.read();
                assertThat((char) z.type()).isEqualTo('Z');
                assertThat((char) z.body()[0]).isEqualTo('I');
            }
            // the session goes on
            c.send(Msg.query("SELECT pg_is_in_recovery()"));
            Msg m;
            while ((m = c.read()).type() != 'Z') {
                assertThat((char) m.type()).isNotEqualTo('E');
            }
        }
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            assertThat(port(s, "SELECT count(*)::int FROM items WHERE v = 'extended'")).isEqualTo(2);
        }
    }

    /**
     * A client that ran LISTEN (pinned to the primary, asked of the server) gets the NotificationResponse of a NOTIFY
     * sent by another connection while it is idle, without sending anything: psycopg2 waits on its socket with
     * select(), then poll() reads what arrived. Bounded: select gives up after 30 s (a failure, not a timing check).
     */
    @Test
    void aListeningClientGetsNotificationsWhileIdle(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String out = python(dir,
                "c = connect()",
                "cur = c.cursor()",
                "cur.execute('LISTEN readsplit_channel')",
                "print('pinned', one(cur, 'SELECT inet_server_port()'))",
                "other = connect()",
                "other.cursor().execute(\"NOTIFY readsplit_channel, 'hello'\")",
                "got = []",
                "for _ in range(2):",
                "    if not select.select([c], [], [], 30)[0]:",
                "        break",
                "    c.poll()",
                "    got += [n.payload for n in c.notifies]",
                "    del c.notifies[:]",
                "    if got:",
                "        break",
                "print('notified', ','.join(got) or 'nothing')",
                "other.cursor().execute(\"NOTIFY readsplit_channel, 'again'\")",
                "got = []",
                "if select.select([c], [], [], 30)[0]:",
                "    c.poll()",
                "    got = [n.payload for n in c.notifies]",
                "print('again', ','.join(got) or 'nothing')",
                "print('still', one(cur, 'SELECT inet_server_port()'))");
        assertThat(out).contains("pinned " + primaryPort).contains("notified hello").contains("again again")
                .contains("still " + primaryPort);
    }

    /**
     * A listening client that writes: each of its writes is followed, on its backend, by the proxy's own question of
     * the primary's WAL position (read-your-writes), and notifications another connection sends meanwhile may arrive
     * during that question. Every one of them reaches the client, none is swallowed with the proxy's answer.
     */
    @Test
    void aListeningClientThatWritesGetsEveryNotification() throws Exception {
        int count = 300;
        try (Connection listener = connect("&preferQueryMode=simple"); Statement s = listener.createStatement()) {
            s.execute("LISTEN writer_channel");
            var notifier = Executors.newSingleThreadExecutor();
            try {
                Future<?> sent = notifier.submit(() -> {
                    try (Connection other = connect(""); Statement n = other.createStatement()) {
                        for (int i = 0; i < count; i++) {
                            n.execute("NOTIFY writer_channel, '" + i + "'");
                        }
                    }
                    return null;
                });
                Set<String> got = new HashSet<>();
                int id = 900_000;
                while (!sent.isDone()) {
                    s.executeUpdate("INSERT INTO items VALUES (" + id++ + ", 'listener')");
                    collect(listener, got);
                }
                sent.get();
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    s.execute("SELECT 1");
                    collect(listener, got);
                    return got.size() >= count;
                });
                assertThat(got).hasSize(count);
            } finally {
                notifier.shutdownNow();
            }
        }
    }

    /**
     * A notification that reaches a backend while the proxy runs a query of its own there (a session setting asked,
     * a deferred BEGIN) is kept for the client, in order, not dropped with the query's answer. PostgreSQL sends a
     * notification committed while its listener is idle before that listener's next ReadyForQuery at the latest, so
     * the proxy's next query on the backend sees it.
     */
    @Test
    void aNotificationThatArrivesDuringTheProxysOwnQueryIsKeptForTheClient() throws Exception {
        try (BackendConnection b = proxy.pool().open(proxy.topology().primary(), null)) {
            assertThat(b.queryValue("LISTEN kept_channel")).isNull();
            assertThat(b.hasKept()).isFalse();
            try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
                s.execute("NOTIFY kept_channel, 'first'");
                s.execute("NOTIFY kept_channel, 'second'");
            }
            assertThat(b.queryValue("SELECT 40 + 2")).isEqualTo("42");
            assertThat(b.hasKept()).isTrue();
            List<String> payloads = new ArrayList<>();
            for (Msg m = b.takeKept(); m != null; m = b.takeKept()) {
                assertThat((char) m.type()).isEqualTo('A');
                assertThat(m.cstring(4)).isEqualTo("kept_channel");
                payloads.add(m.cstring(m.end(4)));
            }
            assertThat(payloads).containsExactly("first", "second");
            assertThat(b.hasKept()).isFalse();
        }
    }

    private static void collect(Connection c, Set<String> into) throws SQLException {
        org.postgresql.PGNotification[] n = c.unwrap(org.postgresql.PGConnection.class).getNotifications();
        if (n != null) {
            for (org.postgresql.PGNotification x : n) {
                into.add(x.getParameter());
            }
        }
    }

    static int backendPid(Statement s) throws SQLException {
        return port(s, "/* readsplit:primary */ SELECT pg_backend_pid()");
    }

    static String show(Statement s, String setting) throws SQLException {
        try (ResultSet rs = s.executeQuery("/* readsplit:primary */ SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * Transaction pooling (poolMode=transaction): a client's primary backend, asked of the server (pg_backend_pid()),
     * serves the next client once the first one's statement or transaction ended, while the first stays connected;
     * settings follow each client, not the backend; protocol-level prepared statements move; a transaction keeps its
     * backend until it ends; LISTEN (state that cannot move) keeps the client on its backend as in session mode.
     */
    @Test
    void transactionPoolingHandsABackendToTheNextClientAtTransactionEnd() throws Exception {
        try (ProxyServer tp = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0")
                .user(USER, Secret.of(PASSWORD)).poolMode(PoolMode.TRANSACTION).build())) {
            String url = "jdbc:postgresql://127.0.0.1:" + tp.address().getPort() + "/" + cluster.database() + "?user="
                    + USER + "&password=" + PASSWORD + "&prepareThreshold=1&ApplicationName=";
            try (Connection a = DriverManager.getConnection(url + "client-a");
                 Connection b = DriverManager.getConnection(url + "client-b");
                 Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
                int pid = backendPid(sa);
                assertThat(backendPid(sb)).as("b gets the backend a gave back").isEqualTo(pid);
                assertThat(port(sa, "/* readsplit:primary */ SELECT inet_server_port()")).isEqualTo(primaryPort);
                assertThat(show(sa, "application_name")).isEqualTo("client-a");
                assertThat(show(sb, "application_name")).isEqualTo("client-b");
                sa.execute("SET work_mem = '7MB'");
                assertThat(show(sb, "work_mem")).isNotEqualTo("7MB");
                assertThat(show(sa, "work_mem")).isEqualTo("7MB");
                assertThat(backendPid(sb)).isEqualTo(backendPid(sa)); // still one backend for both
                // server-side prepared statements (prepareThreshold=1) survive the move between backends
                try (PreparedStatement ps = a.prepareStatement("/* readsplit:primary */ SELECT ?::int + 1")) {
                    for (int i = 0; i < 4; i++) {
                        ps.setInt(1, i);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            assertThat(rs.getInt(1)).isEqualTo(i + 1);
                        }
                        backendPid(sb); // b runs on that backend between a's executions
                    }
                }
                // a transaction keeps its backend: b gets another one meanwhile
                a.setAutoCommit(false);
                int inTx = backendPid(sa);
                assertThat(backendPid(sb)).isNotEqualTo(inTx);
                assertThat(backendPid(sa)).isEqualTo(inTx);
                a.commit();
                a.setAutoCommit(true);
                // LISTEN cannot move: a keeps its backend for good
                sa.execute("LISTEN pooled_channel");
                int pinned = backendPid(sa);
                assertThat(backendPid(sb)).isNotEqualTo(pinned);
                assertThat(backendPid(sa)).isEqualTo(pinned);
            }
        }
    }

    @Test
    void nodePg(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        awaitBothReplicasEligible();
        Path modules = Path.of("src/test/node/node_modules/pg").toAbsolutePath();
        assertThat(modules).as("Node's pg is installed by .ci/run (npm ci --prefix readsplit-proxy/src/test/node)")
                .isDirectory();
        Path script = Path.of("src/test/node").toAbsolutePath().resolve("client-" + ProcessHandle.current().pid() + ".js");
        Files.writeString(script, String.join("\n",
                "const { Client } = require('pg');",
                "(async () => {",
                "  const c = new Client({ host: '127.0.0.1', port: +process.env.PORT, database: process.env.DB,",
                "                         user: process.env.PGUSER, password: process.env.PGPASSWORD });",
                "  await c.connect();",
                "  for (let i = 0; i < 4; i++) {",
                "    console.log('simple', (await c.query('SELECT inet_server_port() AS p')).rows[0].p);",
                "    console.log('params', (await c.query('SELECT inet_server_port() AS p, $1::int AS v', [i])).rows[0].p);",
                "    const r = await c.query({ name: 'named', text: 'SELECT inet_server_port() AS p, $1::int + 1 AS v', values: [i] });",
                "    if (r.rows[0].v !== i + 1) throw new Error('wrong value ' + r.rows[0].v);",
                "    console.log('named', r.rows[0].p);",
                "  }",
                "  let stale = 0;",
                "  for (let i = 0; i < 10; i++) {",
                "    await c.query('INSERT INTO items VALUES ($1, $2)', [60000 + i, 'node']);",
                "    stale += 1 - +(await c.query('SELECT count(*) AS n FROM items WHERE id = $1', [60000 + i])).rows[0].n;",
                "  }",
                "  console.log('stale', stale);",
                "  await c.query('BEGIN');",
                "  console.log('tx', (await c.query('SELECT inet_server_port() AS p')).rows[0].p);",
                "  await c.query('COMMIT');",
                "  // a plain BEGIN (simple protocol), then extended-protocol statements: the primary, or with SET",
                "  // TRANSACTION READ ONLY first, one replica",
                "  await c.query('BEGIN');",
                "  console.log('txparams', (await c.query('SELECT inet_server_port() AS p, $1::int AS v', [1])).rows[0].p);",
                "  await c.query('COMMIT');",
                "  await c.query('BEGIN');",
                "  await c.query('SET TRANSACTION READ ONLY');",
                "  const first = (await c.query('SELECT inet_server_port() AS p, $1::int AS v', [1])).rows[0].p;",
                "  const again = (await c.query({ name: 'ro', text: 'SELECT inet_server_port() AS p, $1::int AS v', values: [2] })).rows[0].p;",
                "  if (first !== again) throw new Error('a read-only transaction on two nodes: ' + first + ', ' + again);",
                "  console.log('rotxparams', first);",
                "  await c.query('COMMIT');",
                "  await c.end();",
                "})().catch(e => { console.error(e); process.exit(1); });", ""));
        try {
            String out = run(List.of("node", script.toString()), Map.of("PORT", String.valueOf(proxy.address().getPort()),
                    "DB", cluster.database(), "PGUSER", USER), script.getParent());
            Map<String, Set<Integer>> ports = new java.util.HashMap<>();
            for (String line : out.lines().toList()) {
                String[] w = line.split(" ");
                if (w[0].equals("stale")) {
                    assertThat(w[1]).isEqualTo("0");
                } else {
                    ports.computeIfAbsent(w[0], k -> new HashSet<>()).add(Integer.parseInt(w[1]));
                }
            }
            assertThat(ports.get("simple")).isEqualTo(standbyPorts);
            assertThat(ports.get("params")).isEqualTo(standbyPorts);
            assertThat(ports.get("named")).isEqualTo(standbyPorts);
            assertThat(ports.get("tx")).containsExactly(primaryPort);
            assertThat(ports.get("txparams")).containsExactly(primaryPort);
            assertThat(standbyPorts).containsAll(ports.get("rotxparams"));
            assertThat(ports.get("rotxparams")).hasSize(1);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    /** Sequential scans of {@code table} on {@code node} (counted by that server for the queries it ran itself). */
    static long seqScans(EmbeddedNode node, String table) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT coalesce(sum(seq_scan), 0)::bigint FROM pg_stat_user_tables"
                     + " WHERE relname = '" + table + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * The affinity balancer (AFFINITY) keeps a replica per unit of work; the proxy serves every client on one event-loop
     * thread, so each client session has its own affinity slot (ClientSession, SessionState.ownAffinity): concurrent
     * pgbench clients are dealt replicas in turn and their reads spread over both, counted by the standbys themselves.
     * With the event-loop thread's single slot instead, the clients' back-to-back reads would stay on one replica.
     */
    @Test
    void concurrentClientsUnderTheAffinityBalancerEachKeepAReplicaAndSpreadOverBoth(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("proxyit-affinity")
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database()).user(cluster.user()).password(cluster.password())
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000))
                .balancer(BalancerKind.AFFINITY);
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(s.host(), s.port());
        }
        ReadsplitConfig config = b.build();
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE spread_probe (x int)");
            s.execute("INSERT INTO spread_probe VALUES (1)");
        }
        try (ReadsplitDataSource affinity = new ReadsplitDataSource(config)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> affinity.topology().replicas().stream()
                    .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0 && !n.lagExcluded()));
            for (EmbeddedNode s : cluster.standbys()) {
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try (Connection c = s.connect(); Statement st = c.createStatement()) {
                        return port(st, "SELECT count(*)::int FROM pg_class WHERE relname = 'spread_probe'") == 1;
                    }
                });
            }
            try (ProxyServer p = ProxyServer.start(affinity, ProxyConfig.builder().listen("127.0.0.1:0")
                    .user(USER, Secret.of(PASSWORD)).build())) {
                long[] before = {seqScans(cluster.standby(0), "spread_probe"), seqScans(cluster.standby(1), "spread_probe")};
                Path script = dir.resolve("probe.sql");
                Files.writeString(script, "SELECT x FROM spread_probe;\n");
                int clients = 4;
                int perClient = 300;
                String out = run(List.of("/usr/bin/pgbench", "-h", "127.0.0.1", "-p", String.valueOf(p.address().getPort()),
                        "-U", USER, "-n", "-c", String.valueOf(clients), "-j", "2", "-t", String.valueOf(perClient),
                        "-f", script.toString(), cluster.database()), Map.of(), null);
                int total = clients * perClient;
                assertThat(out).contains("number of transactions actually processed: " + total + "/" + total);
                long[] delta = new long[2];
                // a server publishes a backend's counts within about a second of its last query (pooled, still open)
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    for (int i = 0; i < 2; i++) {
                        delta[i] = seqScans(cluster.standby(i), "spread_probe") - before[i];
                    }
                    assertThat(delta[0] + delta[1]).isGreaterThanOrEqualTo(total);
                });
                // dealt in turn, two of the four clients keep each replica: far from all on one
                assertThat(delta[0]).as("reads on %s and %s", cluster.standby(0).port(), cluster.standby(1).port())
                        .isGreaterThanOrEqualTo(total / 4);
                assertThat(delta[1]).as("reads on %s and %s", cluster.standby(0).port(), cluster.standby(1).port())
                        .isGreaterThanOrEqualTo(total / 4);
            }
        } finally {
            try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS spread_probe");
            }
        }
    }
}

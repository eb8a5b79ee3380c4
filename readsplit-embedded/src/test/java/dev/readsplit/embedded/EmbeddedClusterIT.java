package dev.readsplit.embedded;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** One cluster (password authentication) for the whole class; each test leaves it as it found it. */
class EmbeddedClusterIT {

    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password("pw-Embedded-1").start();
        exec(cluster.primary(), "CREATE TABLE items (id text PRIMARY KEY, v int)");
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    @Test
    void rowWrittenOnPrimaryBecomesVisibleOnEveryStandby() {
        String id = UUID.randomUUID().toString();
        exec(cluster.primary(), "INSERT INTO items VALUES ('" + id + "', 1)");
        for (EmbeddedNode standby : cluster.standbys()) {
            await().atMost(Duration.ofSeconds(20)).until(() -> count(standby, id) == 1);
        }
    }

    @Test
    void standbyRefusesWritesWithReadOnlySqlState() {
        SQLException e = assertThrows(SQLException.class,
                () -> execChecked(cluster.standby(0), "INSERT INTO items VALUES ('x', 1)"));
        assertThat(e.getSQLState()).isEqualTo("25006");
        assertThat(cluster.standby(0).role()).isEqualTo(NodeRole.STANDBY);
        assertThat(cluster.primary().role()).isEqualTo(NodeRole.PRIMARY);
    }

    @Test
    void primaryListsEveryStandbyAsStreaming() throws SQLException {
        List<String> streaming = new ArrayList<>();
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1")) {
            while (rs.next()) {
                streaming.add(rs.getString(1));
            }
        }
        assertThat(streaming).containsExactly("standby1", "standby2");
    }

    @Test
    void injectedApplyDelayMakesStandbyBehindAndRemovingItLetsItCatchUp() {
        EmbeddedNode standby = cluster.standby(1);
        standby.setApplyDelay(Duration.ofSeconds(3));
        try {
            String id = UUID.randomUUID().toString();
            exec(cluster.primary(), "INSERT INTO items VALUES ('" + id + "', 2)");
            // the other standby has it long before the delayed one would
            await().atMost(Duration.ofSeconds(20)).until(() -> count(cluster.standby(0), id) == 1);
            assertThat(count(standby, id)).isZero();
            long behind = queryLong(standby, "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())");
            assertThat(behind).isPositive();
            standby.setApplyDelay(Duration.ZERO);
            await().atMost(Duration.ofSeconds(20)).until(() -> count(standby, id) == 1);
        } finally {
            standby.setApplyDelay(Duration.ZERO);
        }
    }

    @Test
    void killedStandbyRestartsAndStreamsAgain() {
        EmbeddedNode standby = cluster.standby(0);
        long oldPid = standby.pid();
        standby.kill();
        assertThat(standby.isRunning()).isFalse();
        assertThat(ProcessHandle.of(oldPid)).isEmpty();
        assertThrows(SQLException.class, standby::connect);
        standby.start();
        cluster.awaitStreaming(cluster.primary(), standby);
        String id = UUID.randomUUID().toString();
        exec(cluster.primary(), "INSERT INTO items VALUES ('" + id + "', 3)");
        await().atMost(Duration.ofSeconds(20)).until(() -> count(standby, id) == 1);
    }

    @Test
    void pausedStandbyIsUnresponsiveAndResumeBringsItBack() throws Exception {
        EmbeddedNode standby = cluster.standby(1);
        standby.pause();
        try {
            java.util.Properties p = cluster.credentials();
            p.setProperty("connectTimeout", "1");
            p.setProperty("loginTimeout", "1");
            p.setProperty("socketTimeout", "1");
            assertThrows(SQLException.class, () -> {
                try (Connection c = java.sql.DriverManager.getConnection(standby.jdbcUrl(), p)) {
                    c.createStatement().execute("SELECT 1");
                }
            });
        } finally {
            standby.resume();
        }
        assertThat(queryLong(standby, "SELECT 1")).isEqualTo(1);
    }

    @Test
    void standbyAddedAtRunTimeStreamsAndCanBeRemoved() {
        EmbeddedNode added = cluster.addStandby();
        try {
            assertThat(added.role()).isEqualTo(NodeRole.STANDBY);
            String id = UUID.randomUUID().toString();
            exec(cluster.primary(), "INSERT INTO items VALUES ('" + id + "', 4)");
            await().atMost(Duration.ofSeconds(20)).until(() -> count(added, id) == 1);
        } finally {
            cluster.removeStandby(added);
        }
        assertThat(cluster.standbys()).hasSize(2);
        assertThat(added.dataDirectory()).doesNotExist();
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'readsplit_" + added.name() + "'")).isZero();
    }

    @Test
    void nodesExposeTypedAccessorsWithoutCredentialsInTheUrl() {
        EmbeddedNode p = cluster.primary();
        assertThat(p.host()).isEqualTo("127.0.0.1");
        assertThat(p.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + p.port() + "/readsplit");
        assertThat(p.jdbcUrl()).doesNotContain("pw-Embedded-1");
        assertThat(p.dataDirectory()).isDirectory();
        assertThat(cluster.nodes()).extracting(EmbeddedNode::name).containsExactly("primary", "standby1", "standby2");
        assertThat(cluster.nodes()).extracting(EmbeddedNode::port).doesNotHaveDuplicates();
    }

    static void exec(EmbeddedNode node, String sql) {
        try {
            execChecked(node, sql);
        } catch (SQLException e) {
            throw new AssertionError(sql + " failed on " + node + ": " + e.getMessage(), e);
        }
    }

    static void execChecked(EmbeddedNode node, String sql) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static long count(EmbeddedNode node, String id) {
        return queryLong(node, "SELECT count(*) FROM items WHERE id = '" + id + "'");
    }

    static long queryLong(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new AssertionError(sql + " failed on " + node + ": " + e.getMessage(), e);
        }
    }
}

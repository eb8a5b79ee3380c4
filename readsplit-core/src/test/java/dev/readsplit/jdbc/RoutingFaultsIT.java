package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.RouteReason;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import static dev.readsplit.jdbc.Clusters.exec;
import static dev.readsplit.jdbc.Clusters.port;
import static dev.readsplit.jdbc.Clusters.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Routing when replicas fail: a replica SIGKILLed under concurrent reads, every replica stopped (fallback on
 * and off), and a read-only session that fell back to the primary. Node placement is asserted by the
 * server ({@code inet_server_port()}).
 */
class RoutingFaultsIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private static EmbeddedCluster cluster;
    /** Fallback to the primary on (the default). */
    private static ReadsplitDataSource ds;
    /** Fallback to the primary off. */
    private static ReadsplitDataSource strict;
    private static int primaryPort;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password("Fau1ts-Pw").start();
        exec(cluster.primary(), "CREATE TABLE t (id bigserial PRIMARY KEY, name text)");
        ds = new ReadsplitDataSource(Clusters.config(cluster).name("faults").build());
        strict = new ReadsplitDataSource(Clusters.config(cluster).name("strict-reads").fallbackToPrimary(false).build());
        primaryPort = cluster.primary().port();
        await().atMost(WAIT).until(() -> cluster.standbys().stream()
                .allMatch(s -> queryLong(s, "SELECT count(*) FROM pg_class WHERE relname = 't'") == 1));
    }

    @AfterAll
    static void stop() {
        for (ReadsplitDataSource d : new ReadsplitDataSource[] {ds, strict}) {
            if (d != null) {
                d.close();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @BeforeEach
    void everyNodeIsUp() {
        for (EmbeddedNode s : cluster.standbys()) {
            s.start(); // no-op when running
        }
        Clusters.awaitAllUp(ds);
        Clusters.awaitAllUp(strict);
    }

    @AfterEach
    void poolsAreBackToZeroActive() {
        assertThat(Clusters.activeConnections(ds)).as("physical connections still borrowed").isZero();
        assertThat(Clusters.activeConnections(strict)).as("physical connections still borrowed (strict)").isZero();
    }

    private static Node nodeOf(ReadsplitDataSource d, EmbeddedNode n) {
        return Topology.of(d).nodes().stream().filter(x -> x.config().port() == n.port()).findFirst().orElseThrow();
    }

    // ---------------------------------------------------------------------------------------------
    // (a) a replica SIGKILLed under concurrent reads

    @Test
    void aReplicaKilledUnderConcurrentReadsCostsNoReadAndRejoinsAfterRestart() throws Exception {
        EmbeddedNode victim = cluster.standby(0);
        EmbeddedNode survivor = cluster.standby(1);
        Map<Integer, LongAdder> readsByPort = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicLong reads = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            boolean longLived = i % 2 == 0;
            Thread t = new Thread(() -> {
                try {
                    if (longLived) {
                        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT inet_server_port()")) {
                            while (!stop.get()) {
                                readOnce(ps, readsByPort, reads);
                            }
                        }
                    } else {
                        while (!stop.get()) {
                            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement("SELECT inet_server_port()")) {
                                for (int n = 0; n < 20 && !stop.get(); n++) {
                                    readOnce(ps, readsByPort, reads);
                                }
                            }
                        }
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "reader-" + i + (longLived ? "-long" : "-short"));
            t.setDaemon(true);
            readers.add(t);
        }
        try {
            readers.forEach(Thread::start);
            // both replicas serve before the kill
            await().atMost(WAIT).until(() -> served(readsByPort, victim) > 100 && served(readsByPort, survivor) > 100);

            victim.kill();
            long readsAtKill = reads.get();
            await().atMost(WAIT).until(() -> nodeOf(ds, victim).state() != NodeState.UP);
            assertThat(nodeOf(ds, victim).state()).isIn(NodeState.SUSPECT, NodeState.DOWN);
            await().atMost(WAIT).until(() -> nodeOf(ds, victim).state() == NodeState.DOWN);
            // reads go on, on the survivor only
            long victimServedWhileDown = served(readsByPort, victim);
            await().atMost(WAIT).until(() -> reads.get() > readsAtKill + 2_000 || !errors.isEmpty());
            assertThat(errors).as("errors seen by readers while a replica was killed").isEmpty();
            assertThat(served(readsByPort, victim)).as("reads served by the killed replica while DOWN").isEqualTo(victimServedWhileDown);
            assertThat(readsByPort.keySet()).doesNotContain(primaryPort);

            // restarted, it rejoins and serves reads again
            victim.start();
            await().atMost(WAIT).until(() -> nodeOf(ds, victim).state() == NodeState.UP);
            await().atMost(WAIT).until(() -> served(readsByPort, victim) > victimServedWhileDown + 100 || !errors.isEmpty());
        } finally {
            stop.set(true);
            for (Thread t : readers) {
                t.join(WAIT.toMillis());
                assertThat(t.isAlive()).as(t.getName() + " finished").isFalse();
            }
        }
        assertThat(errors).as("errors seen by readers").isEmpty();
        assertThat(served(readsByPort, victim)).isGreaterThan(0);
        assertThat(ds.readRetries()).as("reads retried after the kill").isPositive();
    }

    private static void readOnce(PreparedStatement ps, Map<Integer, LongAdder> readsByPort, AtomicLong reads) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            readsByPort.computeIfAbsent(rs.getInt(1), k -> new LongAdder()).increment();
            reads.incrementAndGet();
        }
    }

    private static long served(Map<Integer, LongAdder> readsByPort, EmbeddedNode n) {
        LongAdder a = readsByPort.get(n.port());
        return a == null ? 0 : a.sum();
    }

    // ---------------------------------------------------------------------------------------------
    // (b) every replica stopped; (c) a read-only session on the primary still refuses writes

    @Test
    void withEveryReplicaStoppedReadsFallBackToThePrimaryOrFailClearlyWhenFallbackIsOff() throws SQLException {
        try {
            stopBothStandbys();
            try (Connection c = ds.getConnection()) {
                for (int i = 0; i < 5; i++) {
                    assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
                    assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.NO_REPLICA_FALLBACK);
                }
            }
            try (Connection c = strict.getConnection()) {
                SQLException e = assertThrows(SQLException.class, () -> port(c, "SELECT inet_server_port()"));
                assertThat(e.getMessage())
                        .startsWith("strict-reads: ")
                        .contains("no eligible replica for a read and fallback to the primary is off")
                        .contains("no replica is healthy")
                        .contains(nodeOf(strict, cluster.standby(0)).name() + " is DOWN")
                        .contains(nodeOf(strict, cluster.standby(1)).name() + " is DOWN")
                        .doesNotContain("Fau1ts-Pw");
                assertThat(e.getSQLState()).isEqualTo(dev.readsplit.ReadsplitException.NO_ELIGIBLE_NODE);
                // writes still work on a strict data source
                try (Statement s = c.createStatement()) {
                    assertThat(s.executeUpdate("INSERT INTO t(name) VALUES ('strict write')")).isEqualTo(1);
                }
            }
        } finally {
            startBothStandbys();
        }
        // back: reads go to the replicas again on both data sources
        for (ReadsplitDataSource d : new ReadsplitDataSource[] {ds, strict}) {
            try (Connection c = d.getConnection()) {
                int p = port(c, "SELECT inet_server_port()");
                assertThat(p).isIn(cluster.standby(0).port(), cluster.standby(1).port());
                assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.READ);
            }
        }
    }

    @Test
    void aReadOnlySessionThatFellBackToThePrimaryStillRefusesWrites() throws SQLException {
        try {
            stopBothStandbys();
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                c.setReadOnly(true);
                assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
                assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.NO_REPLICA_FALLBACK);
                SQLException e = assertThrows(SQLException.class,
                        () -> s.executeUpdate("INSERT INTO t(name) VALUES ('ro fallback autocommit')"));
                assertThat(e.getSQLState()).isEqualTo("25006");
                // and inside a read-only transaction
                c.setAutoCommit(false);
                assertThat(port(c, "SELECT inet_server_port()")).isEqualTo(primaryPort);
                SQLException inTxn = assertThrows(SQLException.class,
                        () -> s.executeUpdate("INSERT INTO t(name) VALUES ('ro fallback txn')"));
                assertThat(inTxn.getSQLState()).isEqualTo("25006");
                c.rollback();
                // the refused statement was not learned as a misroute to be sent to the primary
                c.setAutoCommit(true);
                SQLException again = assertThrows(SQLException.class,
                        () -> s.executeUpdate("INSERT INTO t(name) VALUES ('ro fallback autocommit')"));
                assertThat(again.getSQLState()).isEqualTo("25006");
            }
        } finally {
            startBothStandbys();
        }
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM t WHERE name LIKE 'ro fallback%'")).isZero();
    }

    private static void stopBothStandbys() {
        cluster.standby(0).stop();
        cluster.standby(1).stop();
        for (ReadsplitDataSource d : new ReadsplitDataSource[] {ds, strict}) {
            await().atMost(WAIT).until(() -> nodeOf(d, cluster.standby(0)).state() == NodeState.DOWN
                    && nodeOf(d, cluster.standby(1)).state() == NodeState.DOWN);
        }
    }

    private static void startBothStandbys() {
        cluster.standby(0).start();
        cluster.standby(1).start();
        Clusters.awaitAllUp(ds);
        Clusters.awaitAllUp(strict);
    }
}

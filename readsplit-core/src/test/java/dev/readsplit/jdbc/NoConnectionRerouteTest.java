package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.Consistency;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A read whose node cannot even give a connection had nothing sent: it is routed again (docs/routing.md, "What is
 * retried"), not failed, and this is not its one retry. The two paths a loaded {@code PatroniTopologyIT} showed: a read
 * falling back to a primary that is DOWN in a failover, and a retried read whose only node's pool wait ran out. Writes
 * that get no connection still fail as before. On stub servers: fast, no PostgreSQL.
 */
class NoConnectionRerouteTest {

    private static ReadsplitDataSource ds;
    private static int serial;

    @BeforeAll
    static void start() {
        StubDriver.register();
        ds = new ReadsplitDataSource(ReadsplitConfig.builder().name("noconn")
                .primary(NodeConfig.builder().name("primary").url("jdbc:stub:noconn-primary").build())
                .addReplica(NodeConfig.builder().name("r1").url("jdbc:stub:noconn-r1").build())
                .addReplica(NodeConfig.builder().name("r2").url("jdbc:stub:noconn-r2").build())
                .primaryPoolSize(2).replicaPoolSize(2).minIdle(0)
                .consistency(Consistency.eventual()).causalScope(CausalScope.CONNECTION).fallbackToPrimary(true)
                .connectionTimeout(Duration.ofSeconds(3))
                // the periodic checks do not run during a test (a traffic error's re-check may: dead stubs fail it)
                .healthCheckInterval(Duration.ofHours(1)).healthCheckTimeout(Duration.ofSeconds(5))
                .build());
    }

    @AfterAll
    static void stop() {
        ds.close();
    }

    @BeforeEach
    @AfterEach
    void healed() {
        StubClusters.awaitChecks(ds);
        for (String n : new String[] {"primary", "r1", "r2"}) {
            StubDriver.server("noconn-" + n).dead = false;
        }
        for (Node n : Topology.of(ds).nodes()) {
            if (n.state() != NodeState.UP) {
                Topology.of(ds).transition(n, NodeState.UP, "set by the test");
            }
        }
        StubClusters.clear(ds);
    }

    @Test
    void aReadFallingBackToAPrimaryThatIsDownIsRoutedAgainWhenAReplicaIsBack() throws Exception {
        Node primary = Topology.of(ds).primary();
        StubDriver.server("noconn-primary").dead = true;
        Topology.of(ds).transition(primary, NodeState.DOWN, "set by the test: the old primary in a switchover");
        StubClusters.replicas(ds, NodeState.DOWN);
        long retries = ds.readRetries();
        // once the read has been turned away by the DOWN primary, a replica is readmitted
        Thread t = helper(() -> ds.readRetries() > retries,
                () -> Topology.of(ds).transition(Topology.of(ds).node("r1"), NodeState.UP, "readmitted by the test"));
        String sql = "SELECT 1 FROM after_primary_down_" + (++serial);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeQuery(sql).close();
        } finally {
            t.join(10_000);
        }
        assertThat(StubClusters.ranOn(ds, sql)).isEqualTo("r1");
        assertThat(ds.readRetries()).as("one retry counted, however often it was routed again").isEqualTo(retries + 1);
    }

    @Test
    void aRetriedReadWhosePoolWaitRanOutIsRoutedAgainInsteadOfFailing() throws Exception {
        StubClusters.replicas(ds, NodeState.DOWN);
        Node primary = Topology.of(ds).primary();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.executeQuery("SELECT 1 FROM warm_" + (++serial)).close(); // falls back to the primary, holds a connection
            // the primary's postgres is killed: the held connection fails the read (a retry), and the pool can open no
            // other one, so the retry's borrow waits out its budget; meanwhile a replica is readmitted
            StubDriver.server("noconn-primary").dead = true;
            Thread t = helper(() -> primary.pool().getHikariPoolMXBean().getThreadsAwaitingConnection() > 0
                            || primary.state() == NodeState.DOWN,
                    () -> Topology.of(ds).transition(Topology.of(ds).node("r2"), NodeState.UP, "readmitted by the test"));
            String sql = "SELECT 1 FROM after_primary_killed_" + (++serial);
            try {
                s.executeQuery(sql).close();
            } finally {
                t.join(10_000);
            }
            assertThat(StubClusters.ranOn(ds, sql)).isEqualTo("r2");
        }
    }

    @Test
    void aReadWithNowhereToGoFailsWithAConnectionLevelErrorOnceItsBudgetIsSpent() {
        StubDriver.server("noconn-primary").dead = true;
        Topology.of(ds).transition(Topology.of(ds).primary(), NodeState.DOWN, "set by the test");
        StubClusters.replicas(ds, NodeState.DOWN);
        String sql = "SELECT 1 FROM nowhere_" + (++serial);
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.executeQuery(sql);
            }
        });
        assertThat(e.getSQLState()).isEqualTo("08001");
        assertThat(e.getMessage()).contains("cannot get a connection to primary").contains("DOWN");
        assertThat(StubClusters.ranOn(ds, sql)).isEmpty();
    }

    @Test
    void aWriteThatGetsNoConnectionIsNeverRoutedAgain() {
        Topology.of(ds).transition(Topology.of(ds).primary(), NodeState.DOWN, "set by the test");
        long retries = ds.readRetries();
        String sql = "INSERT INTO t VALUES (" + (++serial) + ")";
        SQLException e = assertThrows(SQLException.class, () -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.executeUpdate(sql);
            }
        });
        assertThat(e.getSQLState()).isEqualTo("08001");
        assertThat(StubClusters.ranOn(ds, sql)).isEmpty();
        assertThat(ds.readRetries()).isEqualTo(retries);
    }

    /** Runs {@code action} on another thread once {@code when} holds (polled; gives up after 10 s). */
    private static Thread helper(BooleanSupplier when, Runnable action) {
        Thread t = new Thread(() -> {
            long until = System.nanoTime() + 10_000_000_000L;
            try {
                while (!when.getAsBoolean() && System.nanoTime() < until) {
                    Thread.sleep(2);
                }
                action.run();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }, "noconn-helper");
        t.setDaemon(true);
        t.start();
        return t;
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.Consistency;
import dev.readsplit.RouteReason;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules of hedged reads (docs/failover.md, "Hedged reads") on stub servers that hang a statement as a SIGSTOPped
 * server does: a read past its budget is run on another replica and the first answer wins, the loser's connection is
 * aborted and never pooled again, the slow node turns SUSPECT; nothing is hedged in a transaction, on a write, or once
 * the execution returned its rows; hedges stay within their share. Time is the test's own ticker and the scans are the
 * test's calls, so nothing here depends on how fast the machine is (waits are for conditions, bounded generously).
 */
class HedgedReadTest {

    private static final long MS = 1_000_000L;
    private static int serial;

    private final AtomicLong ticker = new AtomicLong(1_000_000 * MS);
    private final ExecutorService callers = Executors.newCachedThreadPool();
    private ReadsplitDataSource ds;
    private String name;

    private void open(HedgeSettings hedging) {
        StubDriver.register();
        name = "hedge" + (++serial);
        ReadsplitConfig config = ReadsplitConfig.builder().name(name)
                .primary(NodeConfig.builder().name("primary").url("jdbc:stub:" + name + "-primary").build())
                .addReplica(NodeConfig.builder().name("r1").url("jdbc:stub:" + name + "-r1").build())
                .addReplica(NodeConfig.builder().name("r2").url("jdbc:stub:" + name + "-r2").build())
                .primaryPoolSize(4).replicaPoolSize(4).minIdle(0)
                .consistency(Consistency.eventual()).causalScope(CausalScope.CONNECTION).fallbackToPrimary(true)
                // the periodic checks do not run during a test (an urgent re-check may: the stubs answer it)
                .healthCheckInterval(Duration.ofHours(1)).healthCheckTimeout(Duration.ofSeconds(5))
                .build();
        ds = new ReadsplitDataSource(config, Clock.systemUTC(), hedging, ticker::get, false);
        ds.hedger().scan(); // the first look: every node's window starts now
    }

    @BeforeEach
    void defaults() {
        open(HedgeSettings.defaults());
    }

    @AfterEach
    void close() {
        for (String n : List.of("primary", "r1", "r2")) {
            StubDriver.server(name + "-" + n).heal();
        }
        callers.shutdownNow();
        ds.close();
    }

    private StubDriver.Server server(String node) {
        return StubDriver.server(name + "-" + node);
    }

    /** Hangs the first {@code n} executions of {@code sql}, on whichever servers they land. */
    private void hangFirst(String sql, int n) {
        AtomicInteger left = new AtomicInteger(n);
        for (String node : List.of("primary", "r1", "r2")) {
            server(node).hangOn = t -> t.equals(sql) && left.getAndDecrement() > 0;
        }
    }

    /** The replica where a statement hangs now (waits for one). */
    private String hangingReplica() throws InterruptedException {
        await(() -> server("r1").hanging.get() + server("r2").hanging.get() > 0);
        return server("r1").hanging.get() > 0 ? "r1" : "r2";
    }

    private static String other(String replica) {
        return replica.equals("r1") ? "r2" : "r1";
    }

    /** Past any budget (the cap), then one scan. */
    private void pastBudgetAndScan() {
        ticker.addAndGet(HedgeSettings.defaults().maxBudgetNanos() + 10 * MS);
        ds.hedger().scan();
    }

    /** A read on its own connection and thread: which server answered, and where the connection says it ran. */
    private Future<String[]> read(String sql) {
        return callers.submit(() -> {
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                dev.readsplit.jdbc.RouteDecision last = ((dev.readsplit.jdbc.ReadsplitConnection) c).lastRoute();
                return new String[] {rs.getString("server"), last.nodeName(), last.reason().name()};
            }
        });
    }

    @Test
    void aReadPastItsBudgetIsAnsweredByItsHedgeAndTheSlowNodeIsSuspect() throws Exception {
        String sql = "SELECT hedged_" + serial;
        hangFirst(sql, 1);
        Future<String[]> answer = read(sql);
        String slow = hangingReplica();
        String fast = other(slow);

        pastBudgetAndScan();

        String[] got = answer.get(30, TimeUnit.SECONDS);
        assertThat(got[0]).as("the hedge's answer").isEqualTo(name + "-" + fast);
        assertThat(got[1]).as("lastRoute names the node that answered").isEqualTo(fast);
        assertThat(got[2]).isEqualTo(RouteReason.HEDGE.name());
        assertThat(server(fast).ranByAnyone(sql)).isEqualTo(1);
        assertThat(server(slow).aborts.get()).as("the loser's connection is aborted").isEqualTo(1);
        assertThat(ds.hedgesStarted()).isEqualTo(1);
        assertThat(ds.hedgesWon()).isEqualTo(1);
        Node slowNode = Topology.of(ds).node(slow);
        // a hedge that wins is a failure signal: SUSPECT and a check at once (which the stub then passes)
        assertThat(Topology.of(ds).recentEvents()).anySatisfy(e -> {
            assertThat(e.node()).isEqualTo(slow);
            assertThat(e.to()).isEqualTo(NodeState.SUSPECT.name());
            assertThat(e.message()).contains("hedged read").contains("answered first");
        });
        // the aborted connection went out of its pool (evicted), not back into it; the hedge's went back
        await(() -> slowNode.poolStats().active() == 0 && Topology.of(ds).node(fast).poolStats().active() == 0);
        assertThat(slowNode.poolStats().idle()).as("no aborted connection left in the pool").isZero();
    }

    @Test
    void aHedgeThatBeatsANodeStillFinishingStatementsDoesNotMakeItSuspect() throws Exception {
        String sql = "SELECT spike_" + serial;
        hangFirst(sql, 1);
        Future<String[]> answer = read(sql);
        String slow = hangingReplica();
        String fast = other(slow);
        Node slowNode = Topology.of(ds).node(slow);
        long finished = slowNode.readsServed();
        for (int i = 0; slowNode.readsServed() == finished; i++) { // other reads still finish there: a latency spike
            read("SELECT other_" + serial + "_" + i).get(30, TimeUnit.SECONDS);
        }

        pastBudgetAndScan();

        assertThat(answer.get(30, TimeUnit.SECONDS)[0]).isEqualTo(name + "-" + fast);
        assertThat(ds.hedgesWon()).isEqualTo(1);
        assertThat(slowNode.stalled()).isFalse();
        assertThat(Topology.of(ds).recentEvents()).noneSatisfy(e -> assertThat(e.node()).isEqualTo(slow));
        assertThat(slowNode.state()).isEqualTo(NodeState.UP);
    }

    @Test
    void theReadThatAnswersFirstWinsAndItsHedgeIsAborted() throws Exception {
        String sql = "SELECT caller_wins_" + serial;
        hangFirst(sql, 2); // the read, then its hedge
        Future<String[]> answer = read(sql);
        String slow = hangingReplica();
        String fast = other(slow);

        pastBudgetAndScan();
        await(() -> server(fast).hanging.get() == 1); // the hedge runs (and hangs) on the other replica
        server(slow).release();

        String[] got = answer.get(30, TimeUnit.SECONDS);
        assertThat(got[0]).as("the read's own answer").isEqualTo(name + "-" + slow);
        await(() -> server(fast).aborts.get() == 1 && server(fast).hanging.get() == 0);
        assertThat(ds.hedgesLost()).isEqualTo(1);
        assertThat(ds.hedgesWon()).isZero();
        assertThat(Topology.of(ds).node(slow).state()).isEqualTo(NodeState.UP);
        Node fastNode = Topology.of(ds).node(fast);
        await(() -> fastNode.poolStats().active() == 0);
        assertThat(fastNode.poolStats().idle()).as("the aborted hedge connection was evicted").isZero();
    }

    @Test
    void nothingIsHedgedInATransaction() throws Exception {
        String sql = "SELECT in_txn_" + serial;
        hangFirst(sql, 1);
        Future<String> done = callers.submit(() -> {
            try (Connection c = ds.getConnection()) {
                c.setReadOnly(true); // a read-only transaction runs on a replica
                c.setAutoCommit(false);
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                    rs.next();
                    String who = rs.getString("server");
                    c.commit();
                    return who;
                }
            }
        });
        String slow = hangingReplica();

        pastBudgetAndScan();
        pastBudgetAndScan();

        assertThat(ds.hedgesStarted()).isZero();
        assertThat(server(other(slow)).ranByAnyone(sql) + server("primary").ranByAnyone(sql)).isZero();
        Node slowNode = Topology.of(ds).node(slow);
        assertThat(slowNode.stalled()).as("a statement stuck past its budget on a node that finishes nothing")
                .isTrue();
        // new reads avoid the stalled replica while the other can take them
        for (int i = 0; i < 4; i++) {
            assertThat(read("SELECT elsewhere_" + serial + "_" + i).get(30, TimeUnit.SECONDS)[0])
                    .isEqualTo(name + "-" + other(slow));
        }
        server(slow).release();
        assertThat(done.get(30, TimeUnit.SECONDS)).isEqualTo(name + "-" + slow);
        ds.hedger().scan();
        assertThat(slowNode.stalled()).isFalse();
    }

    @Test
    void aWriteIsNeverHedged() throws Exception {
        String sql = "INSERT INTO t VALUES (" + serial + ")";
        hangFirst(sql, 1);
        Future<Integer> done = callers.submit(() -> {
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                return s.executeUpdate(sql);
            }
        });
        await(() -> server("primary").hanging.get() == 1);

        pastBudgetAndScan();

        assertThat(ds.hedgesStarted()).isZero();
        server("primary").release();
        assertThat(done.get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(server("primary").ranByAnyone(sql)).isEqualTo(1);
    }

    @Test
    void aReadWhoseRowsTheCallerHasIsNotHedged() throws Exception {
        String sql = "SELECT rows_returned_" + serial;
        for (String node : List.of("r1", "r2")) {
            server(node).hangOnNext = t -> t.equals(sql); // the execution returns; reading its rows hangs
        }
        Future<String[]> answer = read(sql);
        String slow = hangingReplica();

        pastBudgetAndScan();

        assertThat(ds.hedgesStarted()).isZero();
        assertThat(server(other(slow)).ranByAnyone(sql)).isZero();
        server(slow).release();
        assertThat(answer.get(30, TimeUnit.SECONDS)[0]).isEqualTo(name + "-" + slow);
    }

    @Test
    void aStreamParameterIsNeverReadTwice() throws Exception {
        String sql = "SELECT with_stream_" + serial;
        hangFirst(sql, 1);
        Future<String> done = callers.submit(() -> {
            try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
                ps.setBinaryStream(1, new java.io.ByteArrayInputStream(new byte[] {1, 2, 3}));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getString("server");
                }
            }
        });
        String slow = hangingReplica();

        pastBudgetAndScan();

        assertThat(ds.hedgesStarted()).isZero();
        server(slow).release();
        assertThat(done.get(30, TimeUnit.SECONDS)).isEqualTo(name + "-" + slow);
    }

    @Test
    void hedgesStayWithinTheirShare() throws Exception {
        ds.close();
        HedgeSettings d = HedgeSettings.defaults();
        open(new HedgeSettings(true, d.latencyMultiplier(), d.minBudgetNanos(), d.maxBudgetNanos(), 0.05, 1));
        String sql = "SELECT share_" + serial;
        hangFirst(sql, 4); // two reads and, for the one hedged, its hedge (which hangs too)
        List<Future<String[]>> answers = new ArrayList<>();
        answers.add(read(sql));
        answers.add(read(sql));
        await(() -> server("r1").hanging.get() + server("r2").hanging.get() == 2);

        pastBudgetAndScan();

        assertThat(ds.hedgesStarted()).as("one token: one hedge").isEqualTo(1);
        assertThat(ds.hedgesDenied()).as("the other read past its budget had no token").isEqualTo(1);
        await(() -> server("r1").hanging.get() + server("r2").hanging.get() + server("primary").hanging.get() == 3);
        pastBudgetAndScan();
        assertThat(ds.hedgesStarted()).as("each execution is looked at once").isEqualTo(1);
        for (String node : List.of("primary", "r1", "r2")) {
            server(node).release();
        }
        for (Future<String[]> a : answers) {
            assertThat(a.get(30, TimeUnit.SECONDS)[0]).startsWith(name + "-");
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as("condition not met within 30 s").isNegative();
            Thread.sleep(2);
        }
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.Role;
import dev.readsplit.config.FailoverPolicy;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import static dev.readsplit.jdbc.Clusters.exec;
import static dev.readsplit.jdbc.Clusters.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The fault-injection suite of issue 9: one embedded cluster (primary + 2 streaming standbys) for the class,
 * a concurrent mixed workload (4 readers, 2 writers that read their own writes back) running through a
 * fresh {@link ReadsplitDataSource} during each fault, each scenario bounded by its waits. For every scenario
 * it records client-visible errors by kind (read/write, SQLSTATE), acknowledged writes missing from the
 * database (counted against the current primary), pool connections still borrowed afterwards and readsplit
 * threads alive after {@code close()}, and prints one table row (used by docs/reliability.md).
 *
 * <p>Asserted: no failed read in the replica scenarios and the connection storm; no acknowledged write lost
 * anywhere; writes fail only in the primary-loss scenario and the short primary pause; pools back to 0 active; no
 * thread left behind. The replica pause, the connection storm and a primary paused for less than the detection time run
 * under {@code failoverPolicy=SUPERVISED} and assert 0 promotions (issue 17: rapid re-checks must not turn a suspicion
 * into a failover). The scenarios run in order: the last two promote a standby and bring the old primary back.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class FaultSuiteIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String PASSWORD = "Fault-Suite-Pw-7Q";

    private static EmbeddedCluster cluster;
    private static final List<Row> rows = new ArrayList<>();
    private static final Map<String, String> errorSamples = new TreeMap<>();
    /** Kept open from the promotion to the fencing scenario. */
    private static ReadsplitDataSource failoverDs;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password(PASSWORD).start();
        exec(cluster.primary(), "CREATE TABLE acked (id bigserial PRIMARY KEY, writer int NOT NULL, at timestamptz DEFAULT now())");
        await().atMost(WAIT).until(() -> cluster.standbys().stream()
                .allMatch(s -> queryLong(s, "SELECT count(*) FROM pg_class WHERE relname = 'acked'") == 1));
    }

    @AfterAll
    static void stop() {
        if (failoverDs != null) {
            failoverDs.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        System.out.println();
        System.out.println("FaultSuiteIT: a mixed workload (4 readers, 2 writers reading their own writes) through each fault");
        System.out.println("| scenario | s | reads ok | failed reads | writes acked | failed writes | acked writes lost"
                + " | RYW violations | pool active after | threads left after close |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        rows.forEach(r -> System.out.println(r.markdown()));
        errorSamples.forEach((k, v) -> System.out.println("  " + k + ": " + v));
        // after every data source is closed, no readsplit thread at all is left in the JVM
        assertThat(readsplitThreads("")).as("readsplit threads left in the JVM").isEmpty();
    }

    // ---------------------------------------------------------------------------------------------
    // replica scenarios: no read may fail

    @Test
    @Order(1)
    void replicaSigkill() throws Exception {
        replicaScenario("replica SIGKILL + restart", "fs-kill", (ds, load) -> {
            EmbeddedNode victim = cluster.standby(0);
            Node n = nodeOf(ds, victim);
            victim.kill();
            await().atMost(WAIT).until(() -> n.state() == NodeState.DOWN);
            load.awaitProgress();
            victim.start();
            await().atMost(WAIT).until(() -> n.state() == NodeState.UP);
            await().atMost(WAIT).until(() -> n.readsServed() > 50);
        });
    }

    @Test
    @Order(2)
    void replicaSigstopLongerThanTheHealthTimeout() throws Exception {
        replicaScenario("replica SIGSTOP past health timeout, SIGCONT (SUPERVISED)", "fs-pause", true, (ds, load) -> {
            EmbeddedNode victim = cluster.standby(1);
            Node n = nodeOf(ds, victim);
            victim.pause();
            try {
                await().atMost(WAIT).until(() -> n.state() == NodeState.DOWN);
                assertThat(n.lastError()).contains("no answer within");
                load.awaitProgress();
            } finally {
                victim.resume();
            }
            await().atMost(WAIT).until(() -> n.state() == NodeState.UP);
            long served = n.readsServed();
            await().atMost(WAIT).until(() -> n.readsServed() > served + 50);
        });
    }

    @Test
    @Order(3)
    void replicaRestart() throws Exception {
        replicaScenario("replica restart (fast stop, start)", "fs-restart", (ds, load) -> {
            EmbeddedNode victim = cluster.standby(0);
            Node n = nodeOf(ds, victim);
            victim.restart();
            load.awaitProgress();
            await().atMost(WAIT).until(() -> n.state() == NodeState.UP);
            long served = n.readsServed();
            await().atMost(WAIT).until(() -> n.readsServed() > served + 50);
        });
    }

    @Test
    @Order(4)
    void replicaLagSpikeBeyondMaxLag() throws Exception {
        replicaScenario("replica lag spike past maxLag (apply delay 3 s)", "fs-lag", (ds, load) -> {
            EmbeddedNode lagging = cluster.standby(1);
            Node n = nodeOf(ds, lagging);
            lagging.setApplyDelay(Duration.ofSeconds(3));
            try {
                await().atMost(WAIT).until(n::lagExcluded);
                long served = n.readsServed();
                load.awaitProgress();
                assertThat(n.readsServed()).as("reads sent to the excluded replica").isLessThanOrEqualTo(served + 8);
            } finally {
                lagging.setApplyDelay(Duration.ZERO);
            }
            await().atMost(WAIT).until(() -> !n.lagExcluded());
            long served = n.readsServed();
            await().atMost(WAIT).until(() -> n.readsServed() > served + 50);
        });
    }

    @Test
    @Order(5)
    void allReplicasDownAtOnce() throws Exception {
        replicaScenario("all replicas SIGKILLed at once (fallback)", "fs-alldown", (ds, load) -> {
            Node primary = Topology.of(ds).primary();
            cluster.standby(0).kill();
            cluster.standby(1).kill();
            await().atMost(WAIT).until(() -> Topology.of(ds).replicas().stream().allMatch(r -> r.state() == NodeState.DOWN));
            long onPrimary = primary.readsServed();
            load.awaitProgress();
            assertThat(primary.readsServed()).as("reads served by the primary while no replica is up").isGreaterThan(onPrimary);
            cluster.standby(0).start();
            cluster.standby(1).start();
            await().atMost(WAIT).until(() -> Topology.of(ds).replicas().stream().allMatch(r -> r.state() == NodeState.UP));
            load.awaitProgress();
        });
    }

    @Test
    @Order(6)
    void connectionStormGetsAClearTransientErrorNeverAHang() throws Exception {
        List<Throwable> stormErrors = new ArrayList<>();
        int[] stormOk = new int[1];
        replicaScenario("connection storm (12 callers, 2 primary slots) beside the workload (SUPERVISED)", "fs-stormload",
                true, (ds, load) -> {
            ReadsplitConfig stormConfig = config("fs-storm").primaryPoolSize(2).replicaPoolSize(2)
                    .connectionTimeout(Duration.ofMillis(1000)).failoverPolicy(FailoverPolicy.SUPERVISED).build();
            try (ReadsplitDataSource storm = new ReadsplitDataSource(stormConfig)) {
                List<TopologyEvent> stormEvents = new CopyOnWriteArrayList<>();
                Topology.of(storm).addListener(stormEvents::add);
                Clusters.awaitAllUp(storm);
                ExecutorService pool = Executors.newFixedThreadPool(12);
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Long>> calls = new ArrayList<>();
                try {
                    for (int i = 0; i < 12; i++) {
                        calls.add(pool.submit(() -> {
                            go.await();
                            // a write transaction that keeps its primary slot for 2.5 s, longer than connectionTimeout
                            try (Connection c = storm.getConnection(Role.PRIMARY)) {
                                c.setAutoCommit(false);
                                try (PreparedStatement ps = c.prepareStatement(
                                        "INSERT INTO acked(writer) VALUES (99) RETURNING id, pg_sleep(2.5)")) {
                                    try (ResultSet rs = ps.executeQuery()) {
                                        rs.next();
                                        long id = rs.getLong(1);
                                        c.commit();
                                        return id;
                                    }
                                }
                            }
                        }));
                    }
                    go.countDown();
                    for (Future<Long> f : calls) {
                        try {
                            f.get(20, TimeUnit.SECONDS); // bounded: a hang fails here
                            stormOk[0]++;
                        } catch (java.util.concurrent.ExecutionException e) {
                            stormErrors.add(e.getCause());
                        }
                    }
                } finally {
                    pool.shutdownNow();
                }
                await().atMost(WAIT).until(() -> Clusters.activeConnections(storm) == 0);
                Node p = Topology.of(storm).primary();
                // a busy pool is not a sick node: no state change, no WARN, no event
                assertThat(storm.recentEvents()).as("events of the stormed data source")
                        .noneMatch(e -> e.kind() == dev.readsplit.topology.TopologyEvent.Kind.STATE_CHANGE);
                assertNoFailover("the stormed data source (SUPERVISED)", stormEvents);
                assertThat(stormErrors).as("storm callers that got no slot").isNotEmpty();
                for (Throwable t : stormErrors) {
                    assertThat(t).isInstanceOf(SQLTransientConnectionException.class);
                    assertThat(t.getMessage()).startsWith("fs-storm: ").contains(p.name())
                            .contains("total=2").contains("active=2").contains("idle=0").contains("waiting=")
                            .doesNotContain(PASSWORD);
                }
                errorSamples.put("storm caller", stormErrors.get(0).getMessage());
            }
            assertThat(awaitNoThreads("fs-storm")).as("threads of the storm data source after close()").isEmpty();
        });
        assertThat(stormOk[0]).as("storm callers that got a slot").isGreaterThanOrEqualTo(2);
        rows.get(rows.size() - 1).note = stormOk[0] + " storm calls served, " + stormErrors.size()
                + " got SQLTransientConnectionException after connectionTimeout (1 s)";
    }

    /**
     * Issue 17: a primary that is paused (SIGSTOP) for longer than one {@code healthCheckTimeout} but shorter than
     * {@code failureThreshold} of them is a suspicion, not a loss: a SUPERVISED data source (rapid re-checks on) must
     * not promote. The pause is 1.5 timeouts: at least one check times out (the primary turns SUSPECT), at most two.
     * Writes that wait on the paused primary may fail (counted in the row); none acknowledged may be lost, no read fails.
     */
    @Test
    @Order(7)
    void primaryPausedShorterThanDetectionIsNotPromotedUnderSupervised() throws Exception {
        String scenario = "primary SIGSTOP for 1.5 x healthCheckTimeout, SIGCONT (SUPERVISED)";
        ReadsplitConfig cfg = config("fs-ppause").failoverPolicy(FailoverPolicy.SUPERVISED).build();
        long pauseMillis = cfg.health().timeout().toMillis() * 3 / 2;
        assertThat(pauseMillis).as("the pause is shorter than detection")
                .isLessThan(cfg.health().timeout().toMillis() * cfg.health().failureThreshold());
        ReadsplitDataSource ds = new ReadsplitDataSource(cfg);
        List<TopologyEvent> events = new CopyOnWriteArrayList<>();
        Topology.of(ds).addListener(events::add);
        Row row;
        try {
            Clusters.awaitAllUp(ds);
            Node primary = nodeOf(ds, cluster.primary());
            Load load = new Load(ds, scenario);
            load.awaitProgress();
            cluster.primary().pause();
            try {
                Thread.sleep(pauseMillis);
            } finally {
                cluster.primary().resume();
            }
            await().atMost(WAIT).until(() -> primary.state() == NodeState.UP);
            load.awaitProgress();
            load.awaitProgress();
            row = load.finish(cluster.primary());
            assertThat(events).as("the paused primary was suspected (a check timed out)")
                    .anyMatch(e -> e.kind() == TopologyEvent.Kind.STATE_CHANGE && primary.name().equals(e.node())
                            && NodeState.SUSPECT.name().equals(e.to()));
            assertThat(Topology.of(ds).primary()).isSameAs(primary);
        } finally {
            ds.close();
        }
        row.threadsLeft = awaitNoThreads("fs-ppause");
        row.note = pauseMillis + " ms pause; primary SUSPECT, never DOWN; 0 promotions (events and pg_is_in_recovery())";
        rows.add(row);
        assertNoFailover(scenario, events);
        assertThat(row.readFailures()).as(scenario + ": failed reads " + row.readErrors).isZero();
        assertThat(row.lost).as(scenario + ": acknowledged writes lost").isZero();
        assertThat(row.rywViolations).isZero();
        assertThat(row.poolActive).isZero();
        assertThat(row.threadsLeft).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------
    // primary loss: writes may fail (counted), none acknowledged may be lost

    @Test
    @Order(8)
    void primaryStoppedThenAStandbyPromoted() throws Exception {
        EmbeddedNode oldPrimary = cluster.primary();
        EmbeddedNode promoted = cluster.standby(0);
        failoverDs = new ReadsplitDataSource(config("fs-failover").build());
        Clusters.awaitAllUp(failoverDs);
        Load load = new Load(failoverDs, "primary stopped, standby promoted (writes follow)");
        load.awaitProgress();
        oldPrimary.stop();
        await().atMost(WAIT).until(() -> nodeOf(failoverDs, oldPrimary).state() == NodeState.DOWN);
        promoted.promote();
        await().atMost(WAIT).until(() -> Topology.of(failoverDs).primary() == nodeOf(failoverDs, promoted));
        long written = load.writesOk.sum();
        await().atMost(WAIT).until(() -> load.writesOk.sum() > written + 50);
        load.awaitProgress();
        Row row = load.finish(promoted);
        row.note = "writes failed until the promoted standby was observed as primary";
        rows.add(row);
        assertThat(row.lost).as("acknowledged writes missing on the new primary").isZero();
        assertThat(row.rywViolations).isZero();
    }

    @Test
    @Order(9)
    void oldPrimaryReturningAsAPrimaryIsFenced() throws Exception {
        EmbeddedNode oldPrimary = cluster.primary();
        EmbeddedNode promoted = cluster.standby(0);
        assertThat(failoverDs).as("runs after the promotion scenario").isNotNull();
        Node old = nodeOf(failoverDs, oldPrimary);
        Load load = new Load(failoverDs, "old primary back as a primary (fenced)");
        load.awaitProgress();
        oldPrimary.start();
        await().atMost(WAIT).until(() -> old.state() == NodeState.FENCED);
        long rowsOnOld = queryLong(oldPrimary, "SELECT count(*) FROM acked");
        load.awaitProgress();
        load.awaitProgress();
        Row row = load.finish(promoted);
        assertThat(queryLong(oldPrimary, "SELECT count(*) FROM acked")).as("rows written to the fenced node")
                .isEqualTo(rowsOnOld);
        assertThat(Topology.of(failoverDs).primary()).isSameAs(nodeOf(failoverDs, promoted));
        assertThat(old.readsServed() + old.writesServed()).as("statements served by the fenced node after fencing")
                .isEqualTo(load.oldNodeServedAtStart(old));
        failoverDs.close();
        row.threadsLeft = awaitNoThreads("fs-failover");
        failoverDs = null;
        row.note = "fenced " + old.name() + "; no statement reached it";
        rows.add(row);
        assertThat(row.lost).isZero();
        assertThat(row.readFailures()).as("failed reads while the old primary returned").isZero();
        assertThat(row.writeFailures()).as("failed writes while the old primary returned").isZero();
        assertThat(row.poolActive).isZero();
        assertThat(row.threadsLeft).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------
    // machinery

    @FunctionalInterface
    interface Fault {
        void inject(ReadsplitDataSource ds, Load load) throws Exception;
    }

    /** A fresh data source, the workload, the fault; then the checks every replica scenario shares. */
    private static void replicaScenario(String scenario, String dsName, Fault fault) throws Exception {
        replicaScenario(scenario, dsName, false, fault);
    }

    /**
     * With {@code supervised}, the data source runs {@code failoverPolicy=SUPERVISED} (rapid re-checks of the primary
     * included) and the scenario also asserts that nothing was promoted: no failover event, and on the servers the
     * primary is still the only node out of recovery.
     */
    private static void replicaScenario(String scenario, String dsName, boolean supervised, Fault fault) throws Exception {
        ReadsplitConfig.Builder cfg = config(dsName);
        if (supervised) {
            cfg.failoverPolicy(FailoverPolicy.SUPERVISED);
        }
        ReadsplitDataSource ds = new ReadsplitDataSource(cfg.build());
        List<TopologyEvent> events = new CopyOnWriteArrayList<>();
        Topology.of(ds).addListener(events::add);
        Row row;
        try {
            Clusters.awaitAllUp(ds);
            Load load = new Load(ds, scenario);
            load.awaitProgress();
            try {
                fault.inject(ds, load);
            } finally {
                row = load.finish(cluster.primary());
            }
        } finally {
            ds.close();
        }
        row.threadsLeft = awaitNoThreads(dsName);
        rows.add(row);
        if (supervised) {
            assertNoFailover(scenario, events);
        }
        assertThat(row.readFailures()).as(scenario + ": failed reads " + row.readErrors).isZero();
        assertThat(row.writeFailures()).as(scenario + ": failed writes " + row.writeErrors).isZero();
        assertThat(row.lost).as(scenario + ": acknowledged writes lost").isZero();
        assertThat(row.rywViolations).as(scenario + ": read-your-writes violations").isZero();
        assertThat(row.poolActive).as(scenario + ": physical connections still borrowed").isZero();
        assertThat(row.threadsLeft).as(scenario + ": threads left after close()").isEmpty();
    }

    /** No failover was started or promoted anything: by the data source's events, and by asking every server. */
    private static void assertNoFailover(String scenario, List<TopologyEvent> events) {
        assertThat(events).as(scenario + ": failover events (false promotions)")
                .noneMatch(e -> e.kind() == TopologyEvent.Kind.FAILOVER_STARTED || e.kind() == TopologyEvent.Kind.PROMOTED
                        || e.kind() == TopologyEvent.Kind.PROMOTION_SKIPPED);
        assertThat(queryLong(cluster.primary(), "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END"))
                .as(scenario + ": the primary is still out of recovery").isZero();
        for (EmbeddedNode s : cluster.standbys()) {
            if (s.isRunning()) {
                assertThat(queryLong(s, "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END"))
                        .as(scenario + ": " + s.name() + " is still a standby").isEqualTo(1);
            }
        }
    }

    static ReadsplitConfig.Builder config(String name) {
        return Clusters.config(cluster).name(name)
                .connectionTimeout(Duration.ofMillis(1000))
                .maxLag(Duration.ofSeconds(1))
                .primaryPoolSize(6)
                .replicaPoolSize(6);
    }

    private static Node nodeOf(ReadsplitDataSource d, EmbeddedNode n) {
        return Topology.of(d).nodes().stream().filter(x -> x.config().port() == n.port()).findFirst().orElseThrow();
    }

    /**
     * Live threads of data source {@code dsName} (any data source when empty): readsplit's own
     * ({@code readsplit-health-<name>-N}, {@code readsplit-check-<name>-N}) and its HikariCP pools'
     * ({@code <name>-<node> housekeeper} ...).
     */
    static List<String> readsplitThreads(String dsName) {
        List<String> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            String n = t.getName();
            if (!t.isAlive() || n.startsWith("readsplit-embedded")) {
                continue;
            }
            boolean ours = dsName.isEmpty()
                    ? n.startsWith("readsplit-") || n.startsWith("fs-")
                    : (n.startsWith("readsplit-") && n.contains("-" + dsName + "-")) || n.startsWith(dsName + "-");
            if (ours) {
                out.add(n);
            }
        }
        return out;
    }

    private static List<String> awaitNoThreads(String dsName) {
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> readsplitThreads(dsName).isEmpty());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // reported (and asserted) by the caller
        }
        return readsplitThreads(dsName);
    }

    /** One scenario's outcome. */
    static final class Row {
        final String scenario;
        long seconds;
        long readsOk;
        long writesOk;
        Map<String, Long> readErrors = new TreeMap<>();
        Map<String, Long> writeErrors = new TreeMap<>();
        long lost;
        long rywViolations;
        int poolActive;
        List<String> threadsLeft = List.of();
        String note = "";

        Row(String scenario) {
            this.scenario = scenario;
        }

        long readFailures() {
            return readErrors.values().stream().mapToLong(Long::longValue).sum();
        }

        long writeFailures() {
            return writeErrors.values().stream().mapToLong(Long::longValue).sum();
        }

        String markdown() {
            return String.format(Locale.ROOT, "| %s | %d | %d | %s | %d | %s | %d | %d | %d | %s |%s",
                    scenario, seconds, readsOk, kinds(readErrors), writesOk, kinds(writeErrors), lost, rywViolations,
                    poolActive, threadsLeft.isEmpty() ? "0" : threadsLeft.toString(),
                    note.isEmpty() ? "" : "\n  " + scenario + ": " + note);
        }

        private static String kinds(Map<String, Long> m) {
            long total = m.values().stream().mapToLong(Long::longValue).sum();
            return total == 0 ? "0" : total + " " + m;
        }
    }

    /**
     * The mixed workload: 4 readers (autocommit reads, 20 per logical connection) and 2 writers (autocommit
     * inserts, each acknowledged id kept, then read back on the same logical connection: read-your-writes).
     */
    static final class Load {
        private final ReadsplitDataSource ds;
        private final String scenario;
        private final long startNanos = System.nanoTime();
        final LongAdder readsOk = new LongAdder();
        final LongAdder writesOk = new LongAdder();
        final LongAdder ryw = new LongAdder();
        final Map<String, LongAdder> readErrors = new ConcurrentHashMap<>();
        final Map<String, LongAdder> writeErrors = new ConcurrentHashMap<>();
        final ConcurrentLinkedQueue<Long> acked = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();
        private final Map<Node, Long> servedAtStart = new ConcurrentHashMap<>();

        Load(ReadsplitDataSource ds, String scenario) {
            this.ds = ds;
            this.scenario = scenario;
            for (Node n : Topology.of(ds).nodes()) {
                servedAtStart.put(n, n.readsServed() + n.writesServed());
            }
            for (int i = 0; i < 4; i++) {
                threads.add(thread("fs-reader-" + ds.name() + "-" + i, this::read));
            }
            for (int i = 0; i < 2; i++) {
                int w = i;
                threads.add(thread("fs-writer-" + ds.name() + "-" + i, () -> write(w)));
            }
        }

        long oldNodeServedAtStart(Node n) {
            return servedAtStart.getOrDefault(n, 0L);
        }

        private static Thread thread(String name, Runnable r) {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            t.start();
            return t;
        }

        private void read() {
            while (running.get()) {
                try (Connection c = ds.getConnection();
                     PreparedStatement ps = c.prepareStatement("SELECT max(id), inet_server_port() FROM acked WHERE id > ?")) {
                    for (int i = 0; i < 20 && running.get(); i++) {
                        ps.setLong(1, i);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                        }
                        readsOk.increment();
                    }
                } catch (SQLException e) {
                    count(readErrors, "read", e);
                    pause(5);
                }
            }
        }

        private void write(int writer) {
            while (running.get()) {
                try (Connection c = ds.getConnection();
                     PreparedStatement ins = c.prepareStatement("INSERT INTO acked(writer) VALUES (?) RETURNING id");
                     PreparedStatement back = c.prepareStatement("SELECT count(*) FROM acked WHERE id = ?")) {
                    for (int i = 0; i < 20 && running.get(); i++) {
                        long id;
                        ins.setInt(1, writer);
                        try (ResultSet rs = ins.executeQuery()) {
                            rs.next();
                            id = rs.getLong(1);
                        }
                        acked.add(id);
                        writesOk.increment();
                        back.setLong(1, id);
                        try (ResultSet rs = back.executeQuery()) {
                            rs.next();
                            if (rs.getLong(1) != 1) {
                                ryw.increment();
                            }
                        } catch (SQLException e) {
                            count(readErrors, "read", e);
                            break;
                        }
                        readsOk.increment();
                        pause(3);
                    }
                } catch (SQLException e) {
                    count(writeErrors, "write", e);
                    pause(20);
                }
            }
        }

        private static void pause(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void count(Map<String, LongAdder> m, String kind, SQLException e) {
            String state = String.valueOf(e.getSQLState());
            m.computeIfAbsent(state, k -> new LongAdder()).increment();
            synchronized (errorSamples) {
                errorSamples.putIfAbsent(scenario + " / " + kind + " " + state, e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }

        /** Waits until the workload has made some progress (reads, and writes unless the primary is lost). */
        void awaitProgress() {
            long r = readsOk.sum();
            long w = writesOk.sum();
            await().atMost(WAIT).until(() -> readsOk.sum() > r + 200 && writesOk.sum() > w + 20);
        }

        /** Stops the workload and collects the outcome; {@code primary} is the node to count writes against. */
        Row finish(EmbeddedNode primary) throws Exception {
            running.set(false);
            for (Thread t : threads) {
                t.join(WAIT.toMillis());
                assertThat(t.isAlive()).as(t.getName() + " stopped").isFalse();
            }
            Row row = new Row(scenario);
            row.seconds = (System.nanoTime() - startNanos) / 1_000_000_000L;
            row.readsOk = readsOk.sum();
            row.writesOk = writesOk.sum();
            readErrors.forEach((k, v) -> row.readErrors.put(k, v.sum()));
            writeErrors.forEach((k, v) -> row.writeErrors.put(k, v.sum()));
            row.rywViolations = ryw.sum();
            Long[] ids = acked.toArray(new Long[0]);
            try (Connection c = primary.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM acked WHERE id = ANY(?)")) {
                Array a = c.createArrayOf("bigint", ids);
                ps.setArray(1, a);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    row.lost = ids.length - rs.getLong(1);
                }
            }
            try {
                await().atMost(Duration.ofSeconds(10)).until(() -> Clusters.activeConnections(ds) == 0);
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // reported by the row and asserted by the caller
            }
            row.poolActive = Clusters.activeConnections(ds);
            return row;
        }
    }

    @SuppressWarnings("unused")
    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}

package dev.readsplit.failover;

import dev.readsplit.cluster.Topology;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.readsplit.config.FailoverPolicy;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Supervised failover on a real cluster with synchronous replication ({@code ANY 1 (standby1, standby2)},
 * {@code remote_apply}) and two {@code SUPERVISED} data sources on it, one cluster for the class. In order: the
 * primary is killed under a write workload (exactly one promotion between the two instances, no acknowledged
 * write lost, the other standby repointed); the old primary comes back and gets no traffic until it is rebuilt
 * and rejoined; then a planned switchover moves the primary to the rebuilt node under writes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SupervisedFailoverIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource a;
    private static ReadsplitDataSource b;
    private static final List<TopologyEvent> eventsA = new CopyOnWriteArrayList<>();
    private static final List<TopologyEvent> eventsB = new CopyOnWriteArrayList<>();
    private static final AtomicLong nextId = new AtomicLong();

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).synchronousStandbyNames("ANY 1 (standby1, standby2)")
                .setting("synchronous_commit", "remote_apply").start();
        exec(cluster.primary(), "CREATE TABLE acks (id bigint PRIMARY KEY, at timestamptz DEFAULT now())");
        a = new ReadsplitDataSource(config("a").build());
        b = new ReadsplitDataSource(config("b").build());
        Topology.of(a).addListener(eventsA::add);
        Topology.of(b).addListener(eventsB::add);
        awaitAllUp(a);
        awaitAllUp(b);
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {a, b, cluster}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // best effort
                }
            }
        }
    }

    static ReadsplitConfig.Builder config(String name) {
        ReadsplitConfig.Builder cfg = ReadsplitConfig.builder().name(name)
                .primary(named(cluster.primary()))
                .database(cluster.database()).user(cluster.user())
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000))
                .connectionTimeout(Duration.ofMillis(1000))
                .primaryPoolSize(4).replicaPoolSize(4)
                .failoverPolicy(FailoverPolicy.SUPERVISED).minHealthyReplicas(1)
                .failoverStepTimeout(Duration.ofSeconds(10));
        for (EmbeddedNode s : cluster.standbys()) {
            cfg.addReplica(named(s));
        }
        return cfg;
    }

    private static NodeConfig named(EmbeddedNode n) {
        return NodeConfig.builder().name(n.name()).host(n.host()).port(n.port()).build();
    }

    @Test
    @Order(1)
    void primaryKilledUnderWritesTwoInstancesPromoteOnceAndNoAcknowledgedWriteIsLost() throws Exception {
        Writer writer = new Writer(a);
        writer.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> writer.acked.size() >= 100);
        long ackedBeforeKill = writer.acked.size();
        cluster.primary().kill();

        await().atMost(Duration.ofSeconds(45)).until(() -> !Topology.of(a).primary().name().equals("primary")
                && !Topology.of(b).primary().name().equals("primary") && writer.acked.size() > ackedBeforeKill + 50);
        writer.stop();

        String newPrimary = Topology.of(a).primary().name();
        assertThat(Topology.of(b).primary().name()).isEqualTo(newPrimary);
        // exactly one promotion, by one of the two instances
        long promotions = count(eventsA, TopologyEvent.Kind.PROMOTED) + count(eventsB, TopologyEvent.Kind.PROMOTED);
        assertThat(promotions).isEqualTo(1);
        // and on the servers: exactly one running node out of recovery
        List<String> primaries = new ArrayList<>();
        for (EmbeddedNode n : cluster.standbys()) {
            if (!queryBoolean(n, "SELECT pg_is_in_recovery()")) {
                primaries.add(n.name());
            }
        }
        assertThat(primaries).containsExactly(newPrimary);

        // no acknowledged write lost: every id the client saw committed is on the new primary
        EmbeddedNode np = cluster.node(newPrimary);
        assertThat(missing(np, writer.acked)).isEmpty();

        // the promoting instance reported the data loss (in bytes of WAL) and fenced the old primary
        List<TopologyEvent> completed = new ArrayList<>(eventsA);
        completed.addAll(eventsB);
        assertThat(completed).filteredOn(e -> e.kind() == TopologyEvent.Kind.PROMOTED).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("data-loss report", "bytes past " + newPrimary)
                        .contains("with asynchronous replication, writes primary acknowledged may be lost"));
        // the other standby streams from the new primary (repointed; verified by the server)
        String other = newPrimary.equals("standby1") ? "standby2" : "standby1";
        await().atMost(Duration.ofSeconds(30)).until(() -> queryLong(np,
                "SELECT count(*) FROM pg_stat_replication WHERE application_name = '" + other
                        + "' AND state = 'streaming'") == 1);
        assertThat(completed).anySatisfy(e -> {
            assertThat(e.kind()).isEqualTo(TopologyEvent.Kind.REPOINTED);
            assertThat(e.node()).isEqualTo(other);
        });
    }

    @Test
    @Order(2)
    void oldPrimaryReturnsFencedAndRejoinsAfterARebuild() throws Exception {
        EmbeddedNode old = cluster.primary();
        EmbeddedNode np = cluster.node(Topology.of(a).primary().name());
        old.start(); // back as a primary on the old timeline
        for (ReadsplitDataSource ds : List.of(a, b)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> Topology.of(ds).node("primary").state() == NodeState.FENCED
                    && Topology.of(ds).node("primary").lastCheckMillis() > 0);
            assertThat(Topology.of(ds).node("primary").lastError()).contains("needs a rebuild as a standby of " + np.name());
            assertThat(Topology.of(ds).primary().name()).isEqualTo(np.name());
        }
        // the promoting instance asked it where its WAL ended: the exact WAL past the promotion point (issue 17)
        ReadsplitDataSource promoter = count(eventsA, TopologyEvent.Kind.PROMOTED) == 1 ? a : b;
        List<TopologyEvent> promoterEvents = promoter == a ? eventsA : eventsB;
        await().atMost(Duration.ofSeconds(20)).until(() -> promoter.operations().lastFailover().returnedWithLsn() >= 0);
        FailoverReport measured = promoter.operations().lastFailover();
        assertThat(measured.oldPrimary()).isEqualTo("primary");
        assertThat(measured.exactWalBytesPastPromotion()).isEqualTo(Math.max(0, measured.returnedWithLsn() - measured.promotedLsn()));
        assertThat(promoterEvents).filteredOn(e -> e.kind() == TopologyEvent.Kind.DATA_LOSS_MEASURED).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("measured on primary",
                        measured.exactWalBytesPastPromotion() + " bytes past the promotion point"));
        // checked against the servers: rows the old primary has and the new one lacks live in WAL past the promotion
        // point, so there are such rows only if the measured figure is positive (with synchronous replication none of
        // them was acknowledged); and the old primary's WAL now reaches at least the measured end
        List<Long> onOld = ids(old);
        List<Long> onlyOnOld = missing(np, onOld);
        if (!onlyOnOld.isEmpty()) {
            assertThat(measured.exactWalBytesPastPromotion()).as("WAL past the promotion point with rows " + onlyOnOld
                    + " only on the old primary").isPositive();
        }
        assertThat(queryLong(old, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"))
                .isGreaterThanOrEqualTo(measured.returnedWithLsn());
        // no traffic to it: writes and reads all run elsewhere
        for (int i = 0; i < 20; i++) {
            try (Connection c = a.getConnection(); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO acks (id) VALUES (" + nextId.incrementAndGet() + ")");
                try (ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                    rs.next();
                    assertThat(rs.getInt(1)).isNotEqualTo(old.port());
                }
            }
        }
        cluster.rebuildAsStandby(old, np);
        a.operations().rejoinAsStandby("primary", Duration.ofSeconds(30));
        b.operations().rejoinAsStandby("primary", Duration.ofSeconds(30));
        for (ReadsplitDataSource ds : List.of(a, b)) {
            await().atMost(Duration.ofSeconds(20)).until(() -> Topology.of(ds).node("primary").state() == NodeState.UP
                    && Topology.of(ds).replicas().contains(Topology.of(ds).node("primary")));
        }
        assertThat(count(eventsA, TopologyEvent.Kind.REJOINED)).isEqualTo(1);
        assertThat(queryBoolean(old, "SELECT pg_is_in_recovery()")).isTrue();
    }

    @Test
    @Order(3)
    void switchoverUnderWritesMovesThePrimaryAndLosesNoWrite() throws Exception {
        EmbeddedNode oldPrimary = cluster.node(Topology.of(a).primary().name());
        EmbeddedNode target = cluster.primary(); // the node rebuilt in the previous test
        Writer writer = new Writer(a);
        writer.start();
        await().atMost(Duration.ofSeconds(20)).until(() -> writer.acked.size() >= 50);

        SwitchoverReport report = a.operations().switchover("primary", Duration.ofSeconds(30));
        long ackedAtSwitch = writer.acked.size();
        await().atMost(Duration.ofSeconds(20)).until(() -> writer.acked.size() > ackedAtSwitch + 50);
        writer.stop();

        assertThat(report.oldPrimary()).isEqualTo(oldPrimary.name());
        assertThat(report.newPrimary()).isEqualTo("primary");
        assertThat(report.steps()).extracting(StepTiming::step)
                .containsExactly(FailoverStep.DRAIN, FailoverStep.CATCH_UP, FailoverStep.DEMOTE, FailoverStep.PROMOTE,
                        FailoverStep.ROUTE, FailoverStep.REPOINT);
        assertThat(report.total()).isPositive();
        assertThat(writer.failed.sum()).as("autocommit writes failed during the switchover: " + writer.errors)
                .isZero();
        assertThat(Topology.of(a).primary().name()).isEqualTo("primary");
        assertThat(queryBoolean(target, "SELECT pg_is_in_recovery()")).isFalse();
        assertThat(missing(target, writer.acked)).isEmpty();
        // the other instance follows the node on the newer timeline and fences the old one (still up, read-only)
        await().atMost(Duration.ofSeconds(20)).until(() -> Topology.of(b).primary().name().equals("primary")
                && Topology.of(b).node(oldPrimary.name()).state() == NodeState.FENCED);
        assertThat(queryBoolean(oldPrimary, "SHOW default_transaction_read_only")).isTrue();

        // the operator's part: shut the old primary down and rebuild it
        cluster.rebuildAsStandby(oldPrimary, target);
        // on every data source (docs/failover.md): an instance that still has it fenced neither surveys nor locks it
        a.operations().rejoinAsStandby(oldPrimary.name(), Duration.ofSeconds(30));
        b.operations().rejoinAsStandby(oldPrimary.name(), Duration.ofSeconds(30));
        int outOfRecovery = 0;
        for (EmbeddedNode n : cluster.nodes()) {
            outOfRecovery += queryBoolean(n, "SELECT pg_is_in_recovery()") ? 0 : 1;
        }
        assertThat(outOfRecovery).isEqualTo(1);
        assertThat(count(eventsA, TopologyEvent.Kind.PROMOTED) + count(eventsB, TopologyEvent.Kind.PROMOTED))
                .isEqualTo(2);
    }

    /**
     * A failed primary that is rebuilt as a standby before it ever answers again cannot say where its WAL ended (its
     * data directory is the new primary's base backup): the report keeps its lower bound and no figure is invented
     * from the backup's checkpoint.
     */
    @Test
    @Order(4)
    void aFailedPrimaryRebuiltBeforeItAnswersIsNotMeasured() throws Exception {
        Logger managerLog = (Logger) LoggerFactory.getLogger(FailoverManager.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        managerLog.addAppender(logs);
        try {
            EmbeddedNode victim = cluster.node(Topology.of(a).primary().name());
            long measuredBefore = count(eventsA, TopologyEvent.Kind.DATA_LOSS_MEASURED)
                    + count(eventsB, TopologyEvent.Kind.DATA_LOSS_MEASURED);
            long promotedByA = count(eventsA, TopologyEvent.Kind.PROMOTED);
            long promotedBefore = promotedByA + count(eventsB, TopologyEvent.Kind.PROMOTED);
            // the premise of the last assertion, asked of the server: the victim's commits wait for a standby (the
            // setting outlived two promotions; when it did not, this test lost an acknowledged write)
            await().atMost(Duration.ofSeconds(20)).until(() -> queryLong(victim,
                    "SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')") >= 1);
            Writer writer = new Writer(a);
            writer.start();
            await().atMost(Duration.ofSeconds(20)).until(() -> writer.acked.size() >= 50);
            victim.kill();
            await().atMost(Duration.ofSeconds(45)).until(() -> !Topology.of(a).primary().name().equals(victim.name())
                    && !Topology.of(b).primary().name().equals(victim.name()));
            writer.stop();
            await().atMost(Duration.ofSeconds(20)).until(() -> count(eventsA, TopologyEvent.Kind.PROMOTED)
                    + count(eventsB, TopologyEvent.Kind.PROMOTED) == promotedBefore + 1);
            ReadsplitDataSource promoter = count(eventsA, TopologyEvent.Kind.PROMOTED) > promotedByA ? a : b;
            EmbeddedNode np = cluster.node(Topology.of(promoter).primary().name());
            cluster.rebuildAsStandby(victim, np); // never started as a primary again
            await().atMost(Duration.ofSeconds(30)).until(() -> logs.list.stream().anyMatch(e ->
                    e.getFormattedMessage().contains("could not ask " + victim.name() + " where its WAL ended")));
            assertThat(logs.list).filteredOn(e -> e.getFormattedMessage().contains("where its WAL ended")).first()
                    .satisfies(e -> assertThat(e.getFormattedMessage()).contains("answers as a standby (rebuilt or rewound)"));
            FailoverReport r = promoter.operations().lastFailover();
            assertThat(r.oldPrimary()).isEqualTo(victim.name());
            assertThat(r.returnedWithLsn()).isEqualTo(-1);
            assertThat(r.exactWalBytesPastPromotion()).isEqualTo(-1);
            assertThat(count(eventsA, TopologyEvent.Kind.DATA_LOSS_MEASURED)
                    + count(eventsB, TopologyEvent.Kind.DATA_LOSS_MEASURED)).isEqualTo(measuredBefore);
            assertThat(missing(np, writer.acked)).as("acknowledged writes (synchronous replication)").isEmpty();
        } finally {
            managerLog.detachAppender(logs);
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** Autocommit inserts through a data source, one at a time; an id counts as acknowledged once the insert returned. */
    static final class Writer {
        final ConcurrentLinkedQueue<Long> acked = new ConcurrentLinkedQueue<>();
        final LongAdder failed = new LongAdder();
        final List<String> errors = new CopyOnWriteArrayList<>();
        private final ReadsplitDataSource ds;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Writer(ReadsplitDataSource ds) {
            this.ds = ds;
            this.thread = new Thread(this::run, "it-writer");
        }

        void start() {
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }

        private void run() {
            while (running.get()) {
                long id = nextId.incrementAndGet();
                try (Connection c = ds.getConnection();
                     PreparedStatement ps = c.prepareStatement("INSERT INTO acks (id) VALUES (?)")) {
                    ps.setLong(1, id);
                    ps.executeUpdate();
                    acked.add(id);
                } catch (SQLException e) {
                    failed.increment();
                    if (errors.size() < 5) {
                        errors.add(e.getSQLState() + " " + e.getMessage());
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }
    }

    static long count(List<TopologyEvent> events, TopologyEvent.Kind kind) {
        return events.stream().filter(e -> e.kind() == kind).count();
    }

    static List<Long> ids(EmbeddedNode node) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (Connection c = node.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM acks")) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    static List<Long> missing(EmbeddedNode node, java.util.Collection<Long> ids) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (Connection c = node.connect();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT x FROM unnest(?::bigint[]) AS x WHERE NOT EXISTS (SELECT 1 FROM acks WHERE id = x)")) {
            Array arr = c.createArrayOf("bigint", ids.toArray());
            ps.setArray(1, arr);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getLong(1));
                }
            }
        }
        return out;
    }

    static void awaitAllUp(ReadsplitDataSource ds) {
        await().atMost(Duration.ofSeconds(30)).until(() -> Topology.of(ds).nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
    }

    static void exec(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new AssertionError(sql + " on " + node + ": " + e.getMessage(), e);
        }
    }

    static long queryLong(EmbeddedNode node, String sql) {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    static boolean queryBoolean(EmbeddedNode node, String sql) throws SQLException {
        try (Connection c = node.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}

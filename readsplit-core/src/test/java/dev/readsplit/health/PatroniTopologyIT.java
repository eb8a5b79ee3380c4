package dev.readsplit.health;

import dev.readsplit.cluster.Topology;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.TopologySource;
import dev.readsplit.embedded.PatroniCluster;
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
import org.junit.jupiter.api.Timeout;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Patroni as the topology source (issue 17), on a real etcd + 3 Patroni nodes ({@link PatroniCluster}, synchronous
 * mode, pg3 tagged {@code noloadbalance}) under a mixed load (3 readers, 2 writers remembering every acknowledged id),
 * through one {@code ReadsplitDataSource} with {@code topologySource=patroni} at the default check interval. In order:
 * the noloadbalance member takes no reads; Patroni's REST switchover; SIGKILL of the leader's postgres; SIGKILL of the
 * leader's Patroni (its postgres keeps running, unmanaged, until the leader key expires; asynchronous, see there). Each
 * scenario asserts 0 failed reads and, with synchronous replication, 0 lost acknowledged writes, and prints the failed
 * writes and the time from
 * Patroni's leader change (as its {@code /cluster} shows it, polled every 50 ms) to the first write on the new leader:
 * reported, not asserted (timing).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PatroniTopologyIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static PatroniCluster cluster;
    private static ReadsplitDataSource ds;
    private static final List<TopologyEvent> events = new CopyOnWriteArrayList<>();
    private static final List<String> rows = new ArrayList<>();

    @BeforeAll
    static void start() throws SQLException {
        cluster = PatroniCluster.builder().synchronous(true).noloadbalance("pg3").start();
        try (Connection c = cluster.member("pg1").connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE acked (id bigint PRIMARY KEY, writer int NOT NULL)");
        }
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name("patroni")
                .database(cluster.database()).user(cluster.user())
                .topologySource(TopologySource.PATRONI)
                .patroniUrls(cluster.restUrls().stream().map(Object::toString).toList())
                .connectionTimeout(Duration.ofSeconds(2)).primaryPoolSize(6).replicaPoolSize(6);
        for (PatroniCluster.Member m : cluster.members()) {
            NodeConfig n = NodeConfig.builder().name(m.name()).host(m.host()).port(m.port()).build();
            if (m.name().equals("pg1")) {
                b.primary(n);
            } else {
                b.addReplica(n);
            }
        }
        ds = new ReadsplitDataSource(b.build());
        Topology.of(ds).addListener(events::add);
        await().atMost(WAIT).until(() -> Topology.of(ds).nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0 && n.patroniView() != null));
    }

    @AfterAll
    static void stop() {
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        System.out.println();
        System.out.println("PatroniTopologyIT: 3 readers, 2 writers through topologySource=patroni (healthCheckInterval 1 s)");
        System.out.println("| scenario | reads ok | failed reads | writes acked | failed writes | acked writes lost"
                + " | Patroni leader change -> first write on the new leader (ms) |");
        System.out.println("|---|---|---|---|---|---|---|");
        rows.forEach(System.out::println);
    }

    private static Node node(String name) {
        return Topology.of(ds).node(name);
    }

    @Test
    @Order(1)
    void theNoloadbalanceMemberTakesNoReadsAndSaysWhy() throws Exception {
        Node pg3 = node("pg3");
        await().atMost(WAIT).until(pg3::lagExcluded);
        assertThat(pg3.exclusionReason()).contains("noloadbalance");
        assertThat(pg3.state()).isEqualTo(NodeState.UP);
        long served = pg3.readsServed();
        try (Load load = new Load()) {
            load.awaitProgress();
            load.awaitProgress();
            Row row = load.finish("noloadbalance member (pg3)", null);
            assertThat(pg3.readsServed()).as("reads served by the noloadbalance member").isEqualTo(served);
            assertThat(node("pg2").readsServed()).isPositive();
            assertThat(row.failedReads).isZero();
            assertThat(row.lost).isZero();
        }
    }

    @Test
    @Order(2)
    void restSwitchover() throws Exception {
        cluster.awaitHealthy(WAIT);
        String from = cluster.leader().name();
        String to = cluster.switchoverCandidate().name();
        scenario("REST switchover " + from + " -> " + to, () -> cluster.switchover(from, to));
        assertThat(Topology.of(ds).primary().name()).isEqualTo(to);
    }

    @Test
    @Order(3)
    void sigkillOfTheLeadersPostgres() throws Exception {
        scenario("SIGKILL of the leader's postgres", () -> cluster.leader().killPostgres());
    }

    /**
     * Asynchronous for this one: Patroni 3.0.2 (Debian 12) in synchronous mode elects no new leader after its leader's
     * Patroni is SIGKILLed under write load (its synchronous standby defers to an asynchronous one that received a few
     * more bytes, which may not promote: "not the healthiest node", forever). Lost acknowledged writes are counted and
     * printed, not asserted, here.
     */
    @Test
    @Order(4)
    void sigkillOfTheLeadersPatroni() throws Exception {
        cluster.synchronousMode(false);
        await().atMost(WAIT).until(() -> !cluster.clusterJson().contains("sync_standby"));
        PatroniCluster.Member old = cluster.leader();
        scenario("SIGKILL of the leader's Patroni (" + old.name() + ")", () -> {
            old.killPatroni();
            // its postgres runs on, unmanaged; another member takes the leader key once it expires (ttl 10 s)
            await().atMost(WAIT).until(() -> {
                PatroniCluster.Member l = cluster.leader();
                return l != null && l != old;
            });
        }, old, false);
        Node oldNode = node(old.name());
        assertThat(Topology.of(ds).primary().name()).isNotEqualTo(old.name());
        // the old leader's postgres still answers as a primary (older timeline): fenced, no traffic
        await().atMost(WAIT).until(() -> oldNode.state() == NodeState.FENCED);
        old.restartPatroni(); // Patroni rewinds it into a replica of the new leader; Readsplit lifts the fence then
        await().atMost(Duration.ofSeconds(120)).until(() -> oldNode.state() == NodeState.UP);
    }

    /** Runs the fault under the load; waits for a leader change (when expected) and Patroni's cluster to heal. */
    private void scenario(String name, Fault fault) throws Exception {
        scenario(name, fault, null, true);
    }

    private void scenario(String name, Fault fault, PatroniCluster.Member mustNotLead, boolean synchronous) throws Exception {
        cluster.awaitHealthy(WAIT);
        PatroniCluster.Member before = cluster.leader();
        try (Load load = new Load(); LeaderWatch watch = new LeaderWatch(before.name())) {
            load.awaitProgress();
            fault.run();
            await().atMost(Duration.ofSeconds(120)).until(() -> {
                PatroniCluster.Member now = cluster.leader();
                return now != null && now != mustNotLead && Topology.of(ds).primary().name().equals(now.name())
                        && node(now.name()).state() == NodeState.UP;
            });
            load.awaitProgress();
            load.awaitProgress();
            Row row = load.finish(name, watch);
            assertThat(row.failedReads).as(name + ": failed reads " + load.readErrors).isZero();
            if (synchronous) {
                assertThat(row.lost).as(name + ": acknowledged writes lost (synchronous replication)").isZero();
            }
        }
        if (mustNotLead == null) {
            cluster.awaitHealthy(Duration.ofSeconds(120));
        }
    }

    @FunctionalInterface
    interface Fault {
        void run() throws Exception;
    }

    /** Polls Patroni's /cluster every 50 ms and records when it first names a leader other than {@code before}. */
    static final class LeaderWatch implements AutoCloseable {
        final AtomicLong changedAt = new AtomicLong();
        volatile String newLeader;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        LeaderWatch(String before) {
            thread = new Thread(() -> {
                while (running.get() && changedAt.get() == 0) {
                    try {
                        PatroniCluster.Member l = cluster.leader();
                        if (l != null && !l.name().equals(before)) {
                            newLeader = l.name();
                            changedAt.set(System.nanoTime());
                        }
                    } catch (RuntimeException notAnswering) {
                        // a member is down: the next poll asks again
                    }
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "patroni-leader-watch");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            thread.join(5_000);
        }
    }

    record Row(long failedReads, long lost) {
    }

    /** 3 readers (autocommit reads) and 2 writers (autocommit inserts, each acknowledged id kept with its port). */
    static final class Load implements AutoCloseable {
        final LongAdder reads = new LongAdder();
        final LongAdder failedReads = new LongAdder();
        final LongAdder failedWrites = new LongAdder();
        final ConcurrentLinkedQueue<Long> acked = new ConcurrentLinkedQueue<>();
        final Map<String, String> readErrors = new ConcurrentHashMap<>();
        final Map<Integer, AtomicLong> firstWriteOnPort = new ConcurrentHashMap<>();
        private static final AtomicLong ids = new AtomicLong();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final List<Thread> threads = new ArrayList<>();

        Load() {
            for (int i = 0; i < 3; i++) {
                threads.add(start("pt-reader-" + i, this::read));
            }
            for (int i = 0; i < 2; i++) {
                int w = i;
                threads.add(start("pt-writer-" + i, () -> write(w)));
            }
        }

        private static Thread start(String name, Runnable r) {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            t.start();
            return t;
        }

        private void read() {
            while (running.get()) {
                try (Connection c = ds.getConnection();
                     PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM acked WHERE id > ?")) {
                    for (int i = 0; i < 20 && running.get(); i++) {
                        ps.setLong(1, i);
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                        }
                        reads.increment();
                    }
                } catch (SQLException e) {
                    failedReads.increment();
                    readErrors.merge(String.valueOf(e.getSQLState()), e.getMessage(), (a, b) -> a);
                    pause(5);
                }
            }
        }

        private void write(int writer) {
            while (running.get()) {
                long id = ids.incrementAndGet();
                try (Connection c = ds.getConnection();
                     PreparedStatement ins = c.prepareStatement(
                             "INSERT INTO acked(id, writer) VALUES (?, ?) RETURNING inet_server_port()")) {
                    ins.setLong(1, id);
                    ins.setInt(2, writer);
                    try (ResultSet rs = ins.executeQuery()) {
                        rs.next();
                        acked.add(id);
                        firstWriteOnPort.computeIfAbsent(rs.getInt(1), p -> new AtomicLong(System.nanoTime()));
                    }
                    pause(2);
                } catch (SQLException e) {
                    failedWrites.increment();
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

        void awaitProgress() {
            long r = reads.sum();
            int w = acked.size();
            await().atMost(WAIT).until(() -> reads.sum() > r + 100 && acked.size() > w + 10);
        }

        Row finish(String scenario, LeaderWatch watch) throws Exception {
            running.set(false);
            for (Thread t : threads) {
                t.join(WAIT.toMillis());
            }
            PatroniCluster.Member leader = cluster.leader();
            long lost;
            Long[] ackedIds = acked.toArray(new Long[0]);
            try (Connection c = leader.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM acked WHERE id = ANY(?)")) {
                Array a = c.createArrayOf("bigint", ackedIds);
                ps.setArray(1, a);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    lost = ackedIds.length - rs.getLong(1);
                }
            }
            String change = "-";
            if (watch != null && watch.changedAt.get() != 0) {
                AtomicLong first = firstWriteOnPort.get(cluster.member(watch.newLeader).port());
                change = first == null ? "no write on " + watch.newLeader
                        : String.format(Locale.ROOT, "%.0f (to %s)", (first.get() - watch.changedAt.get()) / 1e6, watch.newLeader);
            } else if (watch != null) {
                change = "no leader change (Patroni restarted the same leader)";
            }
            String row = String.format(Locale.ROOT, "| %s | %d | %d | %d | %d | %d | %s |", scenario, reads.sum(),
                    failedReads.sum(), ackedIds.length, failedWrites.sum(), lost, change);
            rows.add(row);
            System.out.println("PatroniTopologyIT " + row + (readErrors.isEmpty() ? "" : " read errors: " + readErrors));
            return new Row(failedReads.sum(), lost);
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) {
                t.join(WAIT.toMillis());
            }
        }
    }
}

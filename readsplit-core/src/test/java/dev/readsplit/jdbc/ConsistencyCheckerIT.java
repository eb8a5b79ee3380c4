package dev.readsplit.jdbc;

import dev.readsplit.RouteReason;
import dev.readsplit.Consistency;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static dev.readsplit.jdbc.Clusters.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The consistency checker of issue 5: replicas 200 ms behind (injected apply delay); many threads each
 * write a unique row and read it back at once through Readsplit, then hand the session's causal token to
 * a second, independent data source (as another process would get it from a cookie) which reads the row
 * too. Under READ_YOUR_WRITES no read may miss its own write; under EVENTUAL the same checker must see
 * stale reads, which proves it can fail.
 */
class ConsistencyCheckerIT {

    private static final int THREADS = 32;
    private static final int PAIRS = 5_120;

    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).start();
        exec(cluster.primary(), "CREATE TABLE checks (id bigserial PRIMARY KEY, owner text NOT NULL)");
        for (EmbeddedNode s : cluster.standbys()) {
            s.setApplyDelay(Duration.ofMillis(200));
        }
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private static ReadsplitDataSource dataSource(String name, Duration rywWait) {
        ReadsplitDataSource ds = new ReadsplitDataSource(Clusters.config(cluster).name(name)
                .primaryPoolSize(THREADS + 2).replicaPoolSize(THREADS + 2)
                .readYourWritesWait(rywWait).build());
        Clusters.awaitAllUp(ds);
        return ds;
    }

    /** Outcome of one run of the checker. */
    record Outcome(long pairs, long missingFirstRead, long missingSecondRead, Map<RouteReason, Long> firstRoutes,
                   Map<RouteReason, Long> secondRoutes, long waits, long waitMillis) {
        long violations() {
            return missingFirstRead + missingSecondRead;
        }
    }

    private static Outcome check(Consistency consistency, int pairs) throws Exception {
        try (ReadsplitDataSource writer = dataSource("writer", Duration.ofMillis(400));
             ReadsplitDataSource other = dataSource("other-process", Duration.ofMillis(100))) {
            AtomicLong missingFirst = new AtomicLong();
            AtomicLong missingSecond = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<?>> futures = new ArrayList<>();
            int perThread = pairs / THREADS;
            for (int t = 0; t < THREADS; t++) {
                String owner = consistency.level() + "-" + t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        long id;
                        String token;
                        try (ReadsplitConnection c = writer.getConnection()) {
                            c.setConsistency(consistency);
                            try (PreparedStatement ins = c.prepareStatement("INSERT INTO checks(owner) VALUES (?) RETURNING id")) {
                                ins.setString(1, owner);
                                try (ResultSet rs = ins.executeQuery()) {
                                    rs.next();
                                    id = rs.getLong(1);
                                }
                            }
                            if (!exists(c, id)) {
                                missingFirst.incrementAndGet();
                            }
                            CausalToken mine = c.causalToken();
                            token = mine == null ? null : mine.export();
                        }
                        try (ReadsplitConnection c = other.getConnection()) {
                            c.setConsistency(consistency);
                            if (token != null) {
                                c.observe(CausalToken.parse(token));
                            }
                            if (!exists(c, id)) {
                                missingSecond.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(5, TimeUnit.MINUTES);
            }
            pool.shutdown();
            assertThat(Clusters.activeConnections(writer)).isZero();
            assertThat(Clusters.activeConnections(other)).isZero();
            return new Outcome((long) perThread * THREADS, missingFirst.get(), missingSecond.get(),
                    writer.routeCounts(), other.routeCounts(), writer.consistencyWaits() + other.consistencyWaits(),
                    (writer.consistencyWaitNanos() + other.consistencyWaitNanos()) / 1_000_000);
        }
    }

    private static boolean exists(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM checks WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) == 1;
            }
        }
    }

    private static long replicaReads(Map<RouteReason, Long> routes) {
        return routes.getOrDefault(RouteReason.READ, 0L);
    }

    private static long primaryReads(Map<RouteReason, Long> routes) {
        return routes.getOrDefault(RouteReason.TOKEN_NOT_REPLAYED, 0L) + routes.getOrDefault(RouteReason.NO_REPLICA_FALLBACK, 0L)
                + routes.getOrDefault(RouteReason.LAG, 0L);
    }

    @Test
    void readYourWritesHasNoViolationAcrossThousandsOfPairsAndProcesses() throws Exception {
        Outcome o = check(Consistency.readYourWrites(), PAIRS);
        long reads = 2 * o.pairs();
        long onReplicas = replicaReads(o.firstRoutes()) + replicaReads(o.secondRoutes());
        long fellBack = primaryReads(o.firstRoutes()) + primaryReads(o.secondRoutes());
        System.out.printf("READ_YOUR_WRITES: %d write/read pairs, %d reads, violations %d (first read %d, other process %d),"
                        + " served by replicas %d (%.1f %%), waited for a replay %d (mean %.0f ms), fell back to the primary %d;"
                        + " routes: writer %s, other %s%n",
                o.pairs(), reads, o.violations(), o.missingFirstRead(), o.missingSecondRead(), onReplicas,
                100.0 * onReplicas / reads, o.waits(), o.waits() == 0 ? 0.0 : (double) o.waitMillis() / o.waits(), fellBack,
                o.firstRoutes(), o.secondRoutes());
        assertThat(o.pairs()).isGreaterThanOrEqualTo(5_000);
        assertThat(o.violations()).as("reads that missed their own write").isZero();
        // the token let most reads stay on replicas: waiting for a replay beats going to the primary
        assertThat(onReplicas).isGreaterThan(reads / 2);
    }

    @Test
    void eventualConsistencyShowsStaleReadsSoTheCheckerCanFail() throws Exception {
        Outcome o = check(Consistency.eventual(), 640);
        System.out.printf("EVENTUAL: %d pairs, violations %d (first read %d, other process %d)%n",
                o.pairs(), o.violations(), o.missingFirstRead(), o.missingSecondRead());
        assertThat(o.violations()).isPositive();
    }

    @Test
    void aTokenFromAnotherClusterIsRejectedAndAMalformedOneNamesTheProblem() throws Exception {
        try (ReadsplitDataSource ds = dataSource("tokens", Duration.ofMillis(100));
             ReadsplitConnection c = ds.getConnection()) {
            c.createStatement().executeUpdate("INSERT INTO checks(owner) VALUES ('token-test')");
            CausalToken mine = c.causalToken();
            assertThat(mine).isNotNull();
            assertThat(mine.systemIdentifier()).isNotZero();
            CausalToken foreign = new CausalToken(mine.systemIdentifier() ^ 0x5a5a, mine.lsn());
            SQLException e = assertThrows(SQLException.class, () -> c.observe(foreign));
            assertThat(e.getSQLState()).isEqualTo("22023");
            assertThat(e.getMessage()).contains("belongs to a different cluster");
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> CausalToken.parse("rs1.zz.12"));
            assertThat(bad.getMessage()).contains("malformed causal token 'rs1.zz.12'");
        }
    }

    @Test
    void writeOnlySessionsNeverAskThePrimaryForAPosition() throws Exception {
        try (ReadsplitDataSource ds = dataSource("write-only", Duration.ofMillis(100))) {
            long before = Clusters.queryLong(cluster.primary(),
                    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%pg_current_wal_insert_lsn%'");
            for (int i = 0; i < 20; i++) {
                try (Connection c = ds.getConnection()) {
                    c.createStatement().executeUpdate("INSERT INTO checks(owner) VALUES ('write-only')");
                }
            }
            long after = Clusters.queryLong(cluster.primary(),
                    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%pg_current_wal_insert_lsn%'");
            assertThat(after).isEqualTo(before);
        }
    }
}

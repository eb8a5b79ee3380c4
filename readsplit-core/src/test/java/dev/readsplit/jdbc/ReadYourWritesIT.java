package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.RouteReason;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

import static dev.readsplit.jdbc.Clusters.exec;
import static dev.readsplit.jdbc.Clusters.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Read-your-writes for every framework and every write (issue 13, docs/consistency.md), on a real primary and two
 * standbys that apply WAL 300 ms late, with default settings (read-your-writes, thread scope): each write below is
 * followed by a read that must see it, asked of the server that answered ({@code inet_server_port()} is reported
 * with each read). On the code before the causal scopes and fail-closed tracking, every one of them read a
 * standby that did not have the row yet.
 */
class ReadYourWritesIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static ReadsplitDataSource connectionScoped;
    private static ReadsplitDataSource dataSourceScoped;
    private static ReadsplitDataSource otherProcess;
    private static final AtomicLong ids = new AtomicLong(1_000);

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).start();
        exec(cluster.primary(), "CREATE TABLE items (id bigint PRIMARY KEY, note text)");
        exec(cluster.primary(), "CREATE SEQUENCE item_ids START 1000000");
        exec(cluster.primary(), "CREATE FUNCTION insert_item(p bigint) RETURNS bigint VOLATILE LANGUAGE sql"
                + " AS $$ INSERT INTO items VALUES (p, 'function') RETURNING id $$");
        // reads as a plain SELECT to the classifier; a standby refuses it (nextval) with 25006
        exec(cluster.primary(), "CREATE VIEW next_item AS SELECT insert_item(nextval('item_ids')) AS id");
        exec(cluster.primary(), "CREATE PROCEDURE add_item(p bigint) LANGUAGE sql"
                + " AS $$ INSERT INTO items VALUES (p, 'procedure') $$");
        await().atMost(Duration.ofSeconds(30)).until(() -> cluster.standbys().stream()
                .allMatch(s -> queryLong(s, "SELECT count(*) FROM pg_views WHERE viewname = 'next_item'") == 1));
        for (EmbeddedNode s : cluster.standbys()) {
            s.setApplyDelay(Duration.ofMillis(300));
        }
        ds = open("ryw-default", null);
        connectionScoped = open("ryw-connection", CausalScope.CONNECTION);
        dataSourceScoped = open("ryw-data-source", CausalScope.DATA_SOURCE);
        otherProcess = open("ryw-other-process", null);
    }

    private static ReadsplitDataSource open(String name, CausalScope scope) {
        var b = Clusters.config(cluster).name(name).primaryPoolSize(4).replicaPoolSize(4)
                // {call proc(?)} runs CALL for a procedure (pgjdbc's default rewrites it into a SELECT)
                .jdbcProperty("escapeSyntaxCallMode", "callIfNoReturn");
        if (scope != null) {
            b.causalScope(scope);
        }
        ReadsplitDataSource d = new ReadsplitDataSource(b.build());
        Clusters.awaitAllUp(d);
        return d;
    }

    @AfterAll
    static void stop() {
        for (ReadsplitDataSource d : new ReadsplitDataSource[] {ds, connectionScoped, dataSourceScoped, otherProcess}) {
            if (d != null) {
                d.close();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Asserts that a read on {@code c} sees row {@code id}, naming the server that answered. */
    private static void assertSees(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*), inet_server_port() FROM items WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getLong(1)).as("row %d read on port %d (primary %d, routed %s)", id, rs.getInt(2),
                        cluster.primary().port(), ((ReadsplitConnection) c).lastRoute()).isEqualTo(1);
            }
        }
    }

    private static void assertSeesOnNewConnection(ReadsplitDataSource d, long id) throws SQLException {
        try (Connection c = d.getConnection()) {
            assertSees(c, id);
        }
    }

    private static void insert(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO items VALUES (?, 'plain')")) {
            ps.setLong(1, id);
            ps.executeUpdate();
        }
    }

    @Test
    void theThreadScopeIsTheDefault() {
        assertThat(ds.causalScope()).isEqualTo(CausalScope.THREAD);
    }

    @Test
    void springJdbcTemplateInsertThenSelectOnTheSameThread() {
        JdbcTemplate jt = new JdbcTemplate(ds);
        long id = ids.incrementAndGet();
        jt.update("INSERT INTO items VALUES (?, 'spring')", id);
        Long seen = jt.queryForObject("SELECT count(*) FROM items WHERE id = ?", Long.class, id);
        assertThat(seen).isEqualTo(1);
    }

    @Test
    void springReadWriteTransactionThenReadOnlyTransaction() {
        JdbcTemplate jt = new JdbcTemplate(ds);
        DataSourceTransactionManager tm = new DataSourceTransactionManager(ds);
        TransactionTemplate readWrite = new TransactionTemplate(tm);
        TransactionTemplate readOnly = new TransactionTemplate(tm);
        readOnly.setReadOnly(true);
        long id = ids.incrementAndGet();
        readWrite.executeWithoutResult(s -> jt.update("INSERT INTO items VALUES (?, 'tx')", id));
        Long seen = readOnly.execute(s -> jt.queryForObject("SELECT count(*) FROM items WHERE id = ?", Long.class, id));
        assertThat(seen).isEqualTo(1);
    }

    @Test
    void twoLogicalConnectionsOnOneThreadTheFirstClosed() throws SQLException {
        long id = ids.incrementAndGet();
        try (Connection a = ds.getConnection()) {
            insert(a, id);
        }
        assertSeesOnNewConnection(ds, id);
    }

    @Test
    void twoLogicalConnectionsOnOneThreadTheFirstStillOpen() throws SQLException {
        long id = ids.incrementAndGet();
        try (Connection a = ds.getConnection(); Connection b = ds.getConnection()) {
            insert(a, id);
            assertSees(b, id);
        }
    }

    /** A data source whose primary pool has one connection; reads wait out the standbys' 300-ms delay. */
    private static ReadsplitDataSource primaryPoolOfOne(String name, Duration connectionTimeout) {
        var config = Clusters.config(cluster).name(name).primaryPoolSize(1).replicaPoolSize(2)
                .minIdle(1).connectionTimeout(connectionTimeout)
                // wait out the standbys' 300-ms delay instead of reading the primary
                .readYourWritesWait(Duration.ofSeconds(10)).build();
        ReadsplitDataSource d = new ReadsplitDataSource(config);
        Clusters.awaitAllUp(d);
        return d;
    }

    /** Inserts a new row on a logical connection it then closes; returns its id. */
    private static long writeOnAClosedConnection(ReadsplitDataSource d) throws SQLException {
        long id = ids.incrementAndGet();
        try (Connection a = d.getConnection()) {
            insert(a, id);
        }
        return id;
    }

    /**
     * A read that had to learn where its thread's writes end asks the primary, and then waits for a standby: it must
     * not keep the primary's connection through that wait and its read. It did, so with a primary pool of one, a
     * connection that had read after a write (still open, as a framework keeps it for a request) made every write
     * of every other thread wait out the pool's timeout.
     */
    @Test
    void aReadAfterAWriteHoldsNoPrimaryConnectionOnceItReadsAStandby() throws Exception {
        try (ReadsplitDataSource small = primaryPoolOfOne("ryw-primary-pool-1", Duration.ofSeconds(3))) {
            long id = writeOnAClosedConnection(small);
            try (Connection b = small.getConnection()) {
                try (PreparedStatement ps = b.prepareStatement(
                        "SELECT count(*), inet_server_port() FROM items WHERE id = ?")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getLong(1)).isEqualTo(1);
                        assertThat(rs.getInt(2)).as("the read waited for a standby").isNotEqualTo(cluster.primary().port());
                    }
                }
                ExecutorService other = Executors.newSingleThreadExecutor();
                try {
                    long next = ids.incrementAndGet();
                    other.submit(() -> {
                        try (Connection w = small.getConnection()) {
                            insert(w, next);
                        }
                        return null;
                    }).get();
                    assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM items WHERE id = " + next)).isEqualTo(1);
                } finally {
                    other.shutdownNow();
                }
            }
        }
    }

    /**
     * The position a read after a write needs is asked over the data source's position channel, not a connection of
     * the primary's pool: with that pool's only connection held by a transaction, the read still learns where its
     * thread's write ends and reads it on a standby. Before, it queued for the pool behind the writes (and here,
     * with the connection never given back, failed after connectionTimeout).
     */
    @Test
    void aReadAfterAWriteNeedsNoConnectionFromThePrimarysPool() throws Exception {
        try (ReadsplitDataSource small = primaryPoolOfOne("ryw-primary-pool-busy", Duration.ofSeconds(1))) {
            long id = writeOnAClosedConnection(small);
            try (Connection holder = small.getConnection()) {
                holder.setAutoCommit(false);
                insert(holder, ids.incrementAndGet()); // the primary pool's only connection, in a transaction
                try (Connection b = small.getConnection();
                     PreparedStatement ps = b.prepareStatement(
                             "SELECT count(*), inet_server_port(), pg_is_in_recovery() FROM items WHERE id = ?")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getLong(1)).as("the write, read on port %d", rs.getInt(2)).isEqualTo(1);
                        assertThat(rs.getBoolean(3)).as("read on a standby (port %d)", rs.getInt(2)).isTrue();
                    }
                }
                holder.rollback();
            }
            assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM pg_stat_activity"
                    + " WHERE application_name = 'ryw-primary-pool-busy-positions'"))
                    .as("one position connection on the primary").isEqualTo(1);
        }
    }

    @Test
    void aSelectOfAVolatileFunctionThatInserts() throws SQLException {
        long id = ids.incrementAndGet();
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT insert_item(?)")) {
                ps.setLong(1, id);
                ps.executeQuery().close();
            }
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.VOLATILE_FUNCTION);
            assertThat(((ReadsplitConnection) c).causalToken()).isNotNull();
            assertSees(c, id);
        }
        assertSeesOnNewConnection(ds, id);
    }

    @Test
    void aStatementReRunOnThePrimaryAfterA25006AndItsLearnedReRuns() throws SQLException {
        long misroutes = ds.misroutes();
        // a fresh causal context: this thread's earlier writes (other tests) would send the read to the primary
        try (CausalContext fresh = ds.causalContext(); Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            for (int i = 0; i < 3; i++) {
                long id;
                try (ResultSet rs = s.executeQuery("SELECT id FROM next_item")) {
                    rs.next();
                    id = rs.getLong(1);
                }
                assertThat(((ReadsplitConnection) c).lastRoute().reason())
                        .isIn(RouteReason.MISROUTE, RouteReason.LEARNED_MISROUTE);
                assertThat(((ReadsplitConnection) c).lastRoute().node().name()).isEqualTo(Topology.of(ds).primary().name());
                assertSees(c, id);
                assertSeesOnNewConnection(ds, id);
            }
        }
        assertThat(ds.misroutes()).isEqualTo(misroutes + 1); // the first refusal; the re-runs after it were learned
    }

    @Test
    void aPrimaryHintedSelectOfAWritingFunction() throws SQLException {
        long id = ids.incrementAndGet();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "/* readsplit:primary */ SELECT insert_item(?)")) {
            ps.setLong(1, id);
            ps.executeQuery().close();
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.HINT);
        }
        assertSeesOnNewConnection(ds, id);
    }

    @Test
    void commitAndChainPublishesWhileTheChainedTransactionGoesOn() throws SQLException {
        long id = ids.incrementAndGet();
        try (Connection a = ds.getConnection(); Statement s = a.createStatement()) {
            s.execute("BEGIN");
            s.execute("INSERT INTO items VALUES (" + id + ", 'chained')");
            s.execute("COMMIT AND CHAIN");
            assertSeesOnNewConnection(ds, id);
            s.execute("COMMIT");
        }
    }

    @Test
    void sqlCommitFormsEndAndTwoPhaseCommit() throws SQLException {
        long ended = ids.incrementAndGet();
        long prepared = ids.incrementAndGet();
        try (Connection a = ds.getConnection(); Statement s = a.createStatement()) {
            s.execute("BEGIN");
            s.execute("INSERT INTO items VALUES (" + ended + ", 'end')");
            s.execute("END");
            assertSeesOnNewConnection(ds, ended);
            boolean twoPhase;
            try (ResultSet rs = s.executeQuery("SELECT current_setting('max_prepared_transactions')::int > 0")) {
                rs.next();
                twoPhase = rs.getBoolean(1);
            }
            if (twoPhase) {
                s.execute("BEGIN");
                s.execute("INSERT INTO items VALUES (" + prepared + ", 'two-phase')");
                s.execute("PREPARE TRANSACTION 'ryw-" + prepared + "'");
                s.execute("COMMIT PREPARED 'ryw-" + prepared + "'");
                assertSeesOnNewConnection(ds, prepared);
            }
        }
    }

    @Test
    void aCallableStatementPreparedOnceAndExecutedManyTimes() throws SQLException {
        try (Connection c = ds.getConnection(); CallableStatement cs = c.prepareCall("{call add_item(?)}")) {
            for (int i = 0; i < 3; i++) {
                long id = ids.incrementAndGet();
                cs.setLong(1, id);
                cs.execute();
                assertSeesOnNewConnection(ds, id);
            }
        }
    }

    @Test
    void aJdbcTransactionAndABatch() throws SQLException {
        long inTransaction = ids.incrementAndGet();
        long batched = ids.incrementAndGet();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            insert(c, inTransaction);
            c.commit();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.addBatch("INSERT INTO items VALUES (" + batched + ", 'batch')");
                s.executeBatch();
            }
        }
        assertSeesOnNewConnection(ds, inTransaction);
        assertSeesOnNewConnection(ds, batched);
    }

    @Test
    void theConnectionScopeSeesItsOwnWrites() throws SQLException {
        long id = ids.incrementAndGet();
        try (Connection c = connectionScoped.getConnection()) {
            insert(c, id);
            assertSees(c, id);
        }
    }

    @Test
    void theDataSourceScopeSeesWritesMadeOnAnotherThread() throws Exception {
        long id = ids.incrementAndGet();
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            other.submit(() -> {
                try (Connection c = dataSourceScoped.getConnection()) {
                    insert(c, id);
                }
                return null;
            }).get();
        } finally {
            other.shutdown();
        }
        assertSeesOnNewConnection(dataSourceScoped, id);
    }

    @Test
    void anExplicitCausalContextCarriesWritesToAnotherThread() throws Exception {
        long id = ids.incrementAndGet();
        ExecutorService other = Executors.newSingleThreadExecutor();
        try (CausalContext ctx = ds.causalContext()) {
            try (Connection c = ds.getConnection()) {
                insert(c, id);
            }
            other.submit(() -> {
                try (CausalContext.Attachment attached = ctx.attach()) {
                    assertSeesOnNewConnection(ds, id);
                }
                return null;
            }).get();
            assertThat(ctx.token()).isNotNull();
        } finally {
            other.shutdown();
        }
    }

    @Test
    void anotherProcessGivenTheExportedTokenReadTheWriteEvenAfterTheWriterClosed() throws SQLException {
        long id = ids.incrementAndGet();
        Connection a = connectionScoped.getConnection();
        insert(a, id);
        a.close();
        CausalToken token = ((ReadsplitConnection) a).causalToken(); // readable after close
        assertThat(token).isNotNull();
        String cookie = token.export();
        try (Connection b = otherProcess.getConnection()) {
            ((ReadsplitConnection) b).observe(CausalToken.parse(cookie));
            assertSees(b, id);
        }
        try (CausalContext ctx = otherProcess.causalContext(CausalToken.parse(cookie))) {
            assertSeesOnNewConnection(otherProcess, id);
        }
    }

    @Test
    void aConnectionThatNeverWroteHasNoToken() throws SQLException {
        try (Connection c = connectionScoped.getConnection()) {
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT count(*) FROM items").close();
            }
            assertThat(((ReadsplitConnection) c).causalToken()).isNull();
        }
    }

    @Test
    void aMissingTokenIsRejectedAlikeByParseAndByObserve() throws SQLException {
        IllegalArgumentException parsing = assertThrows(IllegalArgumentException.class, () -> CausalToken.parse(null));
        try (Connection c = ds.getConnection()) {
            IllegalArgumentException observing = assertThrows(IllegalArgumentException.class,
                    () -> ((ReadsplitConnection) c).observe(null));
            assertThat(observing).hasMessage(parsing.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ds.causalContext(null));
    }
}

package dev.readsplit.proxy;

import dev.readsplit.cluster.Topology;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.routing.Attempt;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Operation;
import dev.readsplit.routing.Router;
import dev.readsplit.routing.SessionState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The proxy's transaction and read-your-writes bookkeeping ({@link ClientSession#trackTransaction}) on the data
 * source's own router, each statement's backend status given as a PostgreSQL backend would report it. No server: the
 * nodes are closed ports (only the primary's decisions are taken, which need none).
 *
 * <p>A transaction of reads on the primary (what psycopg2 runs before {@code autocommit = True}: {@code BEGIN},
 * {@code SELECT}, {@code COMMIT}) once left a causal position behind, as if it had written: the session's following
 * autocommit reads then all waited for, and went to, the one replica asked for its replay position, whatever the
 * balancer (ProxyIT.pythonPsycopg2).
 */
class TransactionTrackingTest {

    static ReadsplitDataSource ds;
    static Router router;

    @BeforeAll
    static void start() throws java.sql.SQLException {
        ds = new ReadsplitDataSource(ReadsplitConfig.builder().name("tracking")
                .primary("127.0.0.1", 1).addReplica("127.0.0.1", 2).addReplica("127.0.0.1", 3)
                .database("app").user("app").password("pw").minIdle(0)
                .healthCheckInterval(Duration.ofHours(1)).healthCheckTimeout(Duration.ofSeconds(1))
                .build());
        router = ds.unwrap(Router.class);
    }

    @AfterAll
    static void stop() {
        ds.close();
    }

    /** Routes {@code sql} for the session and applies its end with the backend's transaction status. */
    static void run(SessionState s, String sql, char backendStatus) {
        var c = ds.classify(sql);
        Decision d = router.route(s, c, sql, Operation.STATEMENT, Attempt.FIRST, null, 0);
        ClientSession.trackTransaction(s, d, c, d.node(), backendStatus);
    }

    static boolean wrote(SessionState s) {
        return s.causal() != null && !s.causal().isEmpty();
    }

    @Test
    void aTransactionOfReadsOnThePrimaryLeavesNoPositionToWaitFor() {
        SessionState s = new SessionState(null);
        run(s, "BEGIN", 'T');
        assertThat(s.inTransaction()).isTrue();
        assertThat(s.transactionNode()).isSameAs(Topology.of(ds).primary());
        run(s, "SELECT inet_server_port()", 'T');
        run(s, "COMMIT", 'I');
        assertThat(s.inTransaction()).isFalse();
        assertThat(wrote(s)).isFalse();

        run(s, "START TRANSACTION ISOLATION LEVEL REPEATABLE READ", 'T');
        run(s, "SAVEPOINT a", 'T');
        run(s, "SELECT 1", 'T');
        run(s, "ROLLBACK TO SAVEPOINT a", 'T');
        run(s, "ROLLBACK", 'I');
        assertThat(wrote(s)).isFalse();

        run(s, "ROLLBACK", 'I'); // outside a transaction: a warning, nothing written
        assertThat(wrote(s)).isFalse();
    }

    @Test
    void aTransactionThatMayHaveWrittenRecordsAWriteWhenItEnds() {
        SessionState s = new SessionState(null);
        run(s, "BEGIN", 'T');
        run(s, "INSERT INTO t VALUES (1)", 'T');
        assertThat(wrote(s)).isFalse(); // not before it commits
        assertThat(s.transactionMayHaveWritten()).isTrue();
        run(s, "COMMIT", 'I');
        assertThat(wrote(s)).isTrue();
        assertThat(s.causal().pending()).isTrue();
    }

    @Test
    void aFailedTransactionEndedByRollbackStillCountsAsMayHaveWritten() {
        SessionState s = new SessionState(null);
        run(s, "BEGIN", 'T');
        run(s, "UPDATE t SET x = 1", 'E');
        run(s, "ROLLBACK", 'I');
        assertThat(wrote(s)).isTrue(); // fail closed, as the JDBC path
    }

    @Test
    void severalStatementsCountAsAWholeAndCommitPreparedIsAWrite() {
        SessionState s = new SessionState(null);
        run(s, "BEGIN; INSERT INTO t VALUES (1); COMMIT", 'I');
        assertThat(wrote(s)).isTrue();

        SessionState p = new SessionState(null);
        run(p, "COMMIT PREPARED 'x'", 'I');
        assertThat(wrote(p)).isTrue();

        SessionState w = new SessionState(null);
        run(w, "INSERT INTO t VALUES (2)", 'I');
        assertThat(wrote(w)).isTrue();
    }
}

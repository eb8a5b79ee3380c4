package dev.readsplit.jdbc;

import dev.readsplit.Consistency;
import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fail-closed write tracking (docs/consistency.md) as a matrix on stub servers: consistency x causal scope x
 * read-only x auto-commit x hint x statement kind, asserting how far the scope's causal position advances (how many
 * possible writes were recorded). The expectation is {@link #expectedWrites}, the rule written out: whatever ran on
 * the primary outside a read-only session advances the position, unless it is certainly a read that cannot write;
 * inside a transaction it advances once, at commit.
 */
class WriteTrackingMatrixTest {

    enum Kind {
        READ, WRITE, VOLATILE_FUNCTION_READ, MISROUTE, CALL, BATCH, PREPARED_WRITE_TWICE, PREPARED_CALL_TWICE,
        /** BEGIN, INSERT, COMMIT as SQL. */
        SQL_COMMIT,
        /** BEGIN, INSERT, END. */
        SQL_END,
        /** BEGIN, INSERT, COMMIT AND CHAIN (commits and goes on), COMMIT. */
        COMMIT_AND_CHAIN,
        /** BEGIN, INSERT, PREPARE TRANSACTION, then COMMIT PREPARED. */
        TWO_PHASE_COMMIT,
        /** BEGIN, SELECT, COMMIT: a transaction that only read. */
        SQL_READ_ONLY_TRANSACTION
    }

    enum HintKind {
        NONE(""), PRIMARY("/* readsplit:primary */ "), REPLICA("/* readsplit:replica */ ");

        final String prefix;

        HintKind(String prefix) {
            this.prefix = prefix;
        }
    }

    record Case(Consistency consistency, CausalScope scope, boolean readOnly, boolean autoCommit, HintKind hint, Kind kind) {
    }

    private static final Map<CausalScope, ReadsplitDataSource> SOURCES = new EnumMap<>(CausalScope.class);
    private static int serial;

    @BeforeAll
    static void start() {
        for (CausalScope scope : CausalScope.values()) {
            ReadsplitDataSource ds = StubClusters.dataSource("writes-" + scope, Consistency.readYourWrites(), scope, true);
            StubClusters.replicas(ds, NodeState.UP);
            for (String r : List.of("r1", "r2")) {
                StubDriver.server(ds.name() + "-" + r).refuseAsReadOnly = t -> t.contains("writing_view");
            }
            SOURCES.put(scope, ds);
        }
    }

    @AfterAll
    static void stop() {
        SOURCES.values().forEach(ReadsplitDataSource::close);
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (Consistency c : List.of(Consistency.eventual(), Consistency.boundedStaleness(Duration.ofSeconds(1)),
                Consistency.readYourWrites(), Consistency.strong())) {
            for (CausalScope scope : CausalScope.values()) {
                for (boolean readOnly : new boolean[] {false, true}) {
                    for (boolean autoCommit : new boolean[] {true, false}) {
                        for (HintKind hint : HintKind.values()) {
                            for (Kind kind : Kind.values()) {
                                out.add(new Case(c, scope, readOnly, autoCommit, hint, kind));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * Whether an auto-commit read with this hint is served by a replica (stub replicas report no lag, so a staleness
     * bound excludes them; a scope that already wrote reads the primary under read-your-writes with the generic
     * dialect; strong reads the primary unless a replica hint wins).
     */
    private static boolean replicaServes(Case k, boolean scopeWrote) {
        if (k.hint == HintKind.PRIMARY) {
            return false;
        }
        if (k.consistency.level() == Consistency.Level.READ_YOUR_WRITES && scopeWrote) {
            return false;
        }
        if (k.consistency.level() == Consistency.Level.BOUNDED_STALENESS) {
            return false;
        }
        return k.consistency.level() != Consistency.Level.STRONG || k.hint == HintKind.REPLICA;
    }

    /** How many possible writes the case records on its scope's position. */
    static int expectedWrites(Case k, boolean scopeWrote) {
        if (k.readOnly) {
            return 0; // read-only sessions never write (a standby refuses; the primary's connection is flagged)
        }
        int executions = k.kind == Kind.PREPARED_WRITE_TWICE || k.kind == Kind.PREPARED_CALL_TWICE ? 2 : 1;
        switch (k.kind) {
            // a SQL transaction runs on the primary whatever the hint on its BEGIN; its writes count at each commit
            case SQL_COMMIT, SQL_END -> {
                return 1;
            }
            case COMMIT_AND_CHAIN -> {
                return 2; // the chained commit, and the final one (the chained transaction may have written: fail closed)
            }
            case TWO_PHASE_COMMIT -> {
                // PREPARE TRANSACTION ends the transaction; COMMIT PREPARED publishes it (in auto-commit only: inside a
                // JDBC transaction PostgreSQL refuses it, and the stub's success counts nothing more)
                return k.autoCommit ? 2 : 1;
            }
            case SQL_READ_ONLY_TRANSACTION -> {
                return 0;
            }
            default -> {
            }
        }
        if (!k.autoCommit) {
            // a transaction runs on the primary and its writes count once, at commit
            return switch (k.kind) {
                case READ, MISROUTE -> 0; // certain reads as far as the classifier can tell
                default -> 1;
            };
        }
        boolean replica = replicaServes(k, scopeWrote);
        return switch (k.kind) {
            case READ -> 0;
            case WRITE, VOLATILE_FUNCTION_READ, PREPARED_WRITE_TWICE ->
                    k.hint == HintKind.REPLICA && replica ? 0 : executions;
            // refused by a replica: re-run on the primary (a replica hint forbids the re-run: the refusal is the error)
            case MISROUTE -> replica && k.hint == HintKind.NONE ? 1 : 0;
            case CALL, BATCH, PREPARED_CALL_TWICE -> executions;
            default -> throw new AssertionError("handled above: " + k.kind);
        };
    }

    @ParameterizedTest
    @MethodSource("cases")
    void thePositionAdvancesForWhatMayHaveWritten(Case k) throws Exception {
        ReadsplitDataSource ds = SOURCES.get(k.scope);
        // the thread scope is per thread: run each case on a fresh thread so it starts from no position
        Runnable work = () -> {
            try {
                runCase(ds, k);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        if (k.scope == CausalScope.THREAD) {
            Thread t = new Thread(work, "case-" + serial);
            Throwable[] failure = new Throwable[1];
            t.setUncaughtExceptionHandler((th, e) -> failure[0] = e);
            t.start();
            t.join();
            if (failure[0] != null) {
                throw new AssertionError(failure[0]);
            }
        } else {
            work.run();
        }
    }

    private static void runCase(ReadsplitDataSource ds, Case k) throws SQLException {
        int id;
        synchronized (WriteTrackingMatrixTest.class) {
            id = ++serial;
        }
        try (LogicalConnection c = (LogicalConnection) ds.getConnection()) {
            c.setConsistency(k.consistency);
            CausalPosition before = c.session().causal();
            long writesBefore = before == null ? 0 : before.writes();
            boolean scopeWrote = before != null && !before.isEmpty();
            c.setReadOnly(k.readOnly);
            c.setAutoCommit(k.autoCommit);
            String hint = k.hint.prefix;
            try {
                switch (k.kind) {
                    case READ -> query(c, hint + "SELECT v FROM t WHERE id = " + id);
                    case WRITE -> update(c, hint + "INSERT INTO t VALUES (" + id + ")");
                    case VOLATILE_FUNCTION_READ -> query(c, hint + "SELECT add_row(" + id + ")");
                    case MISROUTE -> query(c, hint + "SELECT * FROM writing_view WHERE id = " + id);
                    case CALL -> {
                        try (CallableStatement cs = c.prepareCall("{call add_row(" + id + ")}")) {
                            cs.execute();
                        }
                    }
                    case BATCH -> {
                        try (Statement s = c.createStatement()) {
                            s.addBatch(hint + "INSERT INTO t VALUES (" + id + ")");
                            s.executeBatch();
                        }
                    }
                    case PREPARED_WRITE_TWICE -> {
                        try (PreparedStatement ps = c.prepareStatement(hint + "INSERT INTO t VALUES (?) -- " + id)) {
                            ps.setInt(1, id);
                            ps.executeUpdate();
                            ps.executeUpdate();
                        }
                    }
                    case SQL_COMMIT -> run(c, hint + "BEGIN", "INSERT INTO t VALUES (" + id + ")", "COMMIT");
                    case SQL_END -> run(c, hint + "BEGIN", "INSERT INTO t VALUES (" + id + ")", "END");
                    case COMMIT_AND_CHAIN -> run(c, hint + "BEGIN", "INSERT INTO t VALUES (" + id + ")",
                            "COMMIT AND CHAIN", "COMMIT");
                    case TWO_PHASE_COMMIT -> run(c, hint + "BEGIN", "INSERT INTO t VALUES (" + id + ")",
                            "PREPARE TRANSACTION 'g" + id + "'", "COMMIT PREPARED 'g" + id + "'");
                    case SQL_READ_ONLY_TRANSACTION -> run(c, hint + "BEGIN", "SELECT v FROM t WHERE id = " + id, "COMMIT");
                    case PREPARED_CALL_TWICE -> {
                        try (CallableStatement cs = c.prepareCall("{call add_row(?)} -- " + id)) {
                            cs.setInt(1, id);
                            cs.execute();
                            cs.execute();
                        }
                    }
                }
            } catch (SQLException e) {
                // the only refusal in the matrix: a replica refusing a write it was told to run (hint or read-only)
                assertThat(e.getSQLState()).as("%s", k).isEqualTo("25006");
            }
            if (!k.autoCommit) {
                c.commit();
            }
            CausalPosition after = c.session().causal();
            long writesAfter = after == null ? 0 : after.writes();
            assertThat(writesAfter - writesBefore).as("possible writes recorded for %s", k)
                    .isEqualTo(expectedWrites(k, scopeWrote));
        }
    }

    private static void run(Connection c, String... sqls) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : sqls) {
                s.execute(sql);
            }
        }
    }

    private static void query(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeQuery(sql).close();
        }
    }

    private static void update(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate(sql);
        }
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitException.Reason;
import dev.readsplit.routing.Operation;
import dev.readsplit.sql.Classification;
import dev.readsplit.cluster.Node;

import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A {@link PreparedStatement} routed per execution. The SQL is classified once, when prepared; parameters
 * are recorded and bound onto the physical prepared statement of whichever node the execution goes to
 * (each node's physical statement is prepared once and reused, so pgjdbc's server-side prepare still pays
 * off). Batches run on the primary. The setters are generated ({@link PreparedStatementBindings}).
 */
final class LogicalPreparedStatement extends PreparedStatementBindings {

    private final String sql;
    private final Classification classification;
    /** How to prepare it on a physical connection; null for {@code prepareStatement(sql)} itself. */
    private final LogicalConnection.PhysicalFactory factory;
    /** No parameter bound yet: shared, never written (the first {@link #bind} replaces it). */
    private static final Binder[] NO_BINDERS = new Binder[0];

    /** Indexed by parameter index (1-based); sized at the first bind, most statements having few parameters. */
    private Binder[] binders = NO_BINDERS;
    /**
     * Which parameters hold a value that can be read only once (a stream, a reader), and how many do; null until the
     * first such value (most statements never bind one).
     */
    private boolean[] readOnce;
    private int readOnceCount;
    private int maxIndex;
    private List<Binder[]> batches;

    LogicalPreparedStatement(LogicalConnection conn, String sql, LogicalConnection.PhysicalFactory factory) {
        super(conn, ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY, -1);
        this.sql = sql;
        this.classification = conn.classify(sql);
        this.factory = factory;
    }

    @Override
    Statement create(java.sql.Connection pc) throws SQLException {
        return factory == null ? pc.prepareStatement(sql) : factory.create(pc);
    }

    @Override
    void bind(int index, Binder binder) throws SQLException {
        checkOpen();
        if (index < 1) {
            throw new ReadsplitException(Reason.INVALID_ARGUMENT, conn.dataSource().name() + ": parameter index must be at least 1: " + index);
        }
        if (index >= binders.length) {
            binders = Arrays.copyOf(binders, Math.max(index + 1, Math.max(4, binders.length * 2)));
            if (readOnce != null) {
                readOnce = Arrays.copyOf(readOnce, binders.length);
            }
        }
        binders[index] = binder;
        if (readOnce != null && readOnce[index]) {
            readOnce[index] = false;
            readOnceCount--;
        }
        maxIndex = Math.max(maxIndex, index);
    }

    @Override
    void bindOnce(int index, Binder binder) throws SQLException {
        bind(index, binder);
        if (readOnce == null) {
            readOnce = new boolean[binders.length];
        }
        readOnce[index] = true;
        readOnceCount++;
    }

    /** No parameter is a stream or a reader: the execution may run twice at once (a hedge). */
    @Override
    boolean replayable() {
        return readOnceCount == 0;
    }

    private void bindAll(PreparedStatement s, Binder[] values, int upTo) throws SQLException {
        for (int i = 1; i <= upTo; i++) {
            Binder b = values[i];
            if (b != null) {
                b.bind(s);
            }
        }
    }

    @Override
    public ResultSet executeQuery() throws SQLException {
        return LogicalResultSet.wrap(run(sql, classification, Operation.STATEMENT, s -> {
            PreparedStatement ps = (PreparedStatement) s;
            bindAll(ps, binders, maxIndex);
            return ps.executeQuery();
        }), this);
    }

    @Override
    public int executeUpdate() throws SQLException {
        return run(sql, classification, Operation.STATEMENT, s -> {
            PreparedStatement ps = (PreparedStatement) s;
            bindAll(ps, binders, maxIndex);
            return ps.executeUpdate();
        });
    }

    @Override
    public long executeLargeUpdate() throws SQLException {
        return run(sql, classification, Operation.STATEMENT, s -> {
            PreparedStatement ps = (PreparedStatement) s;
            bindAll(ps, binders, maxIndex);
            return ps.executeLargeUpdate();
        });
    }

    @Override
    public boolean execute() throws SQLException {
        return run(sql, classification, Operation.STATEMENT, s -> {
            PreparedStatement ps = (PreparedStatement) s;
            bindAll(ps, binders, maxIndex);
            return ps.execute();
        });
    }

    @Override
    public void clearParameters() throws SQLException {
        checkOpen();
        Arrays.fill(binders, null);
        if (readOnce != null) {
            Arrays.fill(readOnce, false);
        }
        readOnceCount = 0;
        maxIndex = 0;
        // the physical statements still hold the values bound by earlier executions
        forEachPhysical(s -> ((PreparedStatement) s).clearParameters());
    }

    @Override
    public void addBatch() throws SQLException {
        checkOpen();
        if (batches == null) {
            batches = new ArrayList<>();
        }
        batches.add(Arrays.copyOf(binders, maxIndex + 1));
    }

    @Override
    public void clearBatch() throws SQLException {
        checkOpen();
        if (batches != null) {
            batches.clear();
        }
    }

    /** Batches may write: the primary (or the running transaction's node). */
    @Override
    public int[] executeBatch() throws SQLException {
        checkOpen();
        List<Binder[]> rows = batches == null ? List.of() : new ArrayList<>(batches);
        if (batches != null) {
            batches.clear();
        }
        if (rows.isEmpty()) {
            return new int[0];
        }
        return run(sql, classification, Operation.BATCH, s -> {
            PreparedStatement ps = (PreparedStatement) s;
            ps.clearBatch();
            for (Binder[] row : rows) {
                ps.clearParameters();
                bindAll(ps, row, row.length - 1);
                ps.addBatch();
            }
            return ps.executeBatch();
        });
    }

    /** Metadata from the physical statement of the last execution, or prepared on the primary. */
    @Override
    public ResultSetMetaData getMetaData() throws SQLException {
        return describe().getMetaData();
    }

    @Override
    public ParameterMetaData getParameterMetaData() throws SQLException {
        return describe().getParameterMetaData();
    }

    private PreparedStatement describe() throws SQLException {
        checkOpen();
        if (current instanceof PreparedStatement ps) {
            return ps;
        }
        // prepared on the primary and kept with this statement's physical statements, so close() closes it
        Node primary = conn.primary();
        PreparedStatement ps = (PreparedStatement) physicalFor(primary, conn.physical(primary));
        ran(primary, ps);
        return ps;
    }

    // the String-taking methods are not for prepared statements (JDBC 4.3, 13.2)
    private SQLException notForPrepared() {
        return new ReadsplitException(Reason.WRONG_METHOD, conn.dataSource().name()
                + ": methods that take an SQL string cannot be used on a PreparedStatement");
    }

    @Override
    public ResultSet executeQuery(String sql) throws SQLException {
        throw notForPrepared();
    }

    @Override
    public int executeUpdate(String sql) throws SQLException {
        throw notForPrepared();
    }

    @Override
    public boolean execute(String sql) throws SQLException {
        throw notForPrepared();
    }

    @Override
    public void addBatch(String sql) throws SQLException {
        throw notForPrepared();
    }
}

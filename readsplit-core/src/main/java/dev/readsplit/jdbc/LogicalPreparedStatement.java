package dev.readsplit.jdbc;

import dev.readsplit.sql.Classification;
import dev.readsplit.topology.Node;

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
 * off). Batches run on the primary.
 */
final class LogicalPreparedStatement extends LogicalStatement implements PreparedStatement {

    @FunctionalInterface
    interface Binder {
        void bind(PreparedStatement s) throws SQLException;
    }

    private static final Binder[] NO_BINDERS = new Binder[0];

    private final String sql;
    private final Classification classification;
    private final LogicalConnection.PhysicalFactory factory;
    private Binder[] binders = new Binder[8];
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
        return factory.create(pc);
    }

    private void bind(int index, Binder binder) throws SQLException {
        checkOpen();
        if (index < 1) {
            throw new ReadsplitSqlException(conn.dataSource().name() + ": parameter index must be at least 1: " + index, "22023");
        }
        if (index >= binders.length) {
            binders = Arrays.copyOf(binders, Math.max(index + 1, binders.length * 2));
        }
        binders[index] = binder;
        maxIndex = Math.max(maxIndex, index);
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
        return LogicalResultSet.wrap(run(sql, classification, false, s -> {
            PreparedStatement ps = (PreparedStatement) s;
            bindAll(ps, binders, maxIndex);
            return ps.executeQuery();
        }), this);
    }

    @Override
    public int executeUpdate() throws SQLException {
        return run(sql, classification, false, s -> {
            PreparedStatement ps = (PreparedStatement) s;
            bindAll(ps, binders, maxIndex);
            return ps.executeUpdate();
        });
    }

    @Override
    public long executeLargeUpdate() throws SQLException {
        return run(sql, classification, false, s -> {
            PreparedStatement ps = (PreparedStatement) s;
            bindAll(ps, binders, maxIndex);
            return ps.executeLargeUpdate();
        });
    }

    @Override
    public boolean execute() throws SQLException {
        return run(sql, classification, false, s -> {
            PreparedStatement ps = (PreparedStatement) s;
            bindAll(ps, binders, maxIndex);
            return ps.execute();
        });
    }

    @Override
    public void clearParameters() throws SQLException {
        checkOpen();
        Arrays.fill(binders, null);
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
        return run(sql, classification, true, s -> {
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
        current = ps;
        return ps;
    }

    // the String-taking methods are not for prepared statements (JDBC 4.3, 13.2)
    private SQLException notForPrepared() {
        return new ReadsplitSqlException(conn.dataSource().name()
                + ": methods that take an SQL string cannot be used on a PreparedStatement", "42000");
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

    @Override
    public void setNull(int parameterIndex, int sqlType) throws SQLException {
        bind(parameterIndex, s -> s.setNull(parameterIndex, sqlType));
    }

    @Override
    public void setNull(int parameterIndex, int sqlType, String typeName) throws SQLException {
        bind(parameterIndex, s -> s.setNull(parameterIndex, sqlType, typeName));
    }

    @Override
    public void setBoolean(int parameterIndex, boolean x) throws SQLException {
        bind(parameterIndex, s -> s.setBoolean(parameterIndex, x));
    }

    @Override
    public void setByte(int parameterIndex, byte x) throws SQLException {
        bind(parameterIndex, s -> s.setByte(parameterIndex, x));
    }

    @Override
    public void setShort(int parameterIndex, short x) throws SQLException {
        bind(parameterIndex, s -> s.setShort(parameterIndex, x));
    }

    @Override
    public void setInt(int parameterIndex, int x) throws SQLException {
        bind(parameterIndex, s -> s.setInt(parameterIndex, x));
    }

    @Override
    public void setLong(int parameterIndex, long x) throws SQLException {
        bind(parameterIndex, s -> s.setLong(parameterIndex, x));
    }

    @Override
    public void setFloat(int parameterIndex, float x) throws SQLException {
        bind(parameterIndex, s -> s.setFloat(parameterIndex, x));
    }

    @Override
    public void setDouble(int parameterIndex, double x) throws SQLException {
        bind(parameterIndex, s -> s.setDouble(parameterIndex, x));
    }

    @Override
    public void setBigDecimal(int parameterIndex, java.math.BigDecimal x) throws SQLException {
        bind(parameterIndex, s -> s.setBigDecimal(parameterIndex, x));
    }

    @Override
    public void setString(int parameterIndex, String x) throws SQLException {
        bind(parameterIndex, s -> s.setString(parameterIndex, x));
    }

    @Override
    public void setNString(int parameterIndex, String x) throws SQLException {
        bind(parameterIndex, s -> s.setNString(parameterIndex, x));
    }

    @Override
    public void setBytes(int parameterIndex, byte[] x) throws SQLException {
        bind(parameterIndex, s -> s.setBytes(parameterIndex, x));
    }

    @Override
    public void setDate(int parameterIndex, java.sql.Date x) throws SQLException {
        bind(parameterIndex, s -> s.setDate(parameterIndex, x));
    }

    @Override
    public void setDate(int parameterIndex, java.sql.Date x, java.util.Calendar cal) throws SQLException {
        bind(parameterIndex, s -> s.setDate(parameterIndex, x, cal));
    }

    @Override
    public void setTime(int parameterIndex, java.sql.Time x) throws SQLException {
        bind(parameterIndex, s -> s.setTime(parameterIndex, x));
    }

    @Override
    public void setTime(int parameterIndex, java.sql.Time x, java.util.Calendar cal) throws SQLException {
        bind(parameterIndex, s -> s.setTime(parameterIndex, x, cal));
    }

    @Override
    public void setTimestamp(int parameterIndex, java.sql.Timestamp x) throws SQLException {
        bind(parameterIndex, s -> s.setTimestamp(parameterIndex, x));
    }

    @Override
    public void setTimestamp(int parameterIndex, java.sql.Timestamp x, java.util.Calendar cal) throws SQLException {
        bind(parameterIndex, s -> s.setTimestamp(parameterIndex, x, cal));
    }

    @Override
    public void setAsciiStream(int parameterIndex, java.io.InputStream x, int length) throws SQLException {
        bind(parameterIndex, s -> s.setAsciiStream(parameterIndex, x, length));
    }

    @Override
    public void setAsciiStream(int parameterIndex, java.io.InputStream x, long length) throws SQLException {
        bind(parameterIndex, s -> s.setAsciiStream(parameterIndex, x, length));
    }

    @Override
    public void setAsciiStream(int parameterIndex, java.io.InputStream x) throws SQLException {
        bind(parameterIndex, s -> s.setAsciiStream(parameterIndex, x));
    }

    @SuppressWarnings("deprecation")
    @Override
    public void setUnicodeStream(int parameterIndex, java.io.InputStream x, int length) throws SQLException {
        bind(parameterIndex, s -> s.setUnicodeStream(parameterIndex, x, length));
    }

    @Override
    public void setBinaryStream(int parameterIndex, java.io.InputStream x, int length) throws SQLException {
        bind(parameterIndex, s -> s.setBinaryStream(parameterIndex, x, length));
    }

    @Override
    public void setBinaryStream(int parameterIndex, java.io.InputStream x, long length) throws SQLException {
        bind(parameterIndex, s -> s.setBinaryStream(parameterIndex, x, length));
    }

    @Override
    public void setBinaryStream(int parameterIndex, java.io.InputStream x) throws SQLException {
        bind(parameterIndex, s -> s.setBinaryStream(parameterIndex, x));
    }

    @Override
    public void setCharacterStream(int parameterIndex, java.io.Reader reader, int length) throws SQLException {
        bind(parameterIndex, s -> s.setCharacterStream(parameterIndex, reader, length));
    }

    @Override
    public void setCharacterStream(int parameterIndex, java.io.Reader reader, long length) throws SQLException {
        bind(parameterIndex, s -> s.setCharacterStream(parameterIndex, reader, length));
    }

    @Override
    public void setCharacterStream(int parameterIndex, java.io.Reader reader) throws SQLException {
        bind(parameterIndex, s -> s.setCharacterStream(parameterIndex, reader));
    }

    @Override
    public void setNCharacterStream(int parameterIndex, java.io.Reader value, long length) throws SQLException {
        bind(parameterIndex, s -> s.setNCharacterStream(parameterIndex, value, length));
    }

    @Override
    public void setNCharacterStream(int parameterIndex, java.io.Reader value) throws SQLException {
        bind(parameterIndex, s -> s.setNCharacterStream(parameterIndex, value));
    }

    @Override
    public void setObject(int parameterIndex, Object x, int targetSqlType) throws SQLException {
        bind(parameterIndex, s -> s.setObject(parameterIndex, x, targetSqlType));
    }

    @Override
    public void setObject(int parameterIndex, Object x) throws SQLException {
        bind(parameterIndex, s -> s.setObject(parameterIndex, x));
    }

    @Override
    public void setObject(int parameterIndex, Object x, int targetSqlType, int scaleOrLength) throws SQLException {
        bind(parameterIndex, s -> s.setObject(parameterIndex, x, targetSqlType, scaleOrLength));
    }

    @Override
    public void setObject(int parameterIndex, Object x, java.sql.SQLType targetSqlType, int scaleOrLength) throws SQLException {
        bind(parameterIndex, s -> s.setObject(parameterIndex, x, targetSqlType, scaleOrLength));
    }

    @Override
    public void setObject(int parameterIndex, Object x, java.sql.SQLType targetSqlType) throws SQLException {
        bind(parameterIndex, s -> s.setObject(parameterIndex, x, targetSqlType));
    }

    @Override
    public void setRef(int parameterIndex, java.sql.Ref x) throws SQLException {
        bind(parameterIndex, s -> s.setRef(parameterIndex, x));
    }

    @Override
    public void setBlob(int parameterIndex, java.sql.Blob x) throws SQLException {
        bind(parameterIndex, s -> s.setBlob(parameterIndex, x));
    }

    @Override
    public void setBlob(int parameterIndex, java.io.InputStream inputStream, long length) throws SQLException {
        bind(parameterIndex, s -> s.setBlob(parameterIndex, inputStream, length));
    }

    @Override
    public void setBlob(int parameterIndex, java.io.InputStream inputStream) throws SQLException {
        bind(parameterIndex, s -> s.setBlob(parameterIndex, inputStream));
    }

    @Override
    public void setClob(int parameterIndex, java.sql.Clob x) throws SQLException {
        bind(parameterIndex, s -> s.setClob(parameterIndex, x));
    }

    @Override
    public void setClob(int parameterIndex, java.io.Reader reader, long length) throws SQLException {
        bind(parameterIndex, s -> s.setClob(parameterIndex, reader, length));
    }

    @Override
    public void setClob(int parameterIndex, java.io.Reader reader) throws SQLException {
        bind(parameterIndex, s -> s.setClob(parameterIndex, reader));
    }

    @Override
    public void setNClob(int parameterIndex, java.sql.NClob value) throws SQLException {
        bind(parameterIndex, s -> s.setNClob(parameterIndex, value));
    }

    @Override
    public void setNClob(int parameterIndex, java.io.Reader reader, long length) throws SQLException {
        bind(parameterIndex, s -> s.setNClob(parameterIndex, reader, length));
    }

    @Override
    public void setNClob(int parameterIndex, java.io.Reader reader) throws SQLException {
        bind(parameterIndex, s -> s.setNClob(parameterIndex, reader));
    }

    @Override
    public void setArray(int parameterIndex, java.sql.Array x) throws SQLException {
        bind(parameterIndex, s -> s.setArray(parameterIndex, x));
    }

    @Override
    public void setURL(int parameterIndex, java.net.URL x) throws SQLException {
        bind(parameterIndex, s -> s.setURL(parameterIndex, x));
    }

    @Override
    public void setRowId(int parameterIndex, java.sql.RowId x) throws SQLException {
        bind(parameterIndex, s -> s.setRowId(parameterIndex, x));
    }

    @Override
    public void setSQLXML(int parameterIndex, java.sql.SQLXML xmlObject) throws SQLException {
        bind(parameterIndex, s -> s.setSQLXML(parameterIndex, xmlObject));
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.Consistency;
import dev.readsplit.consistency.CausalToken;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The logical connection a {@link ReadsplitDataSource} hands out: a {@link Connection} that routes each
 * statement to the primary or a replica. Obtain it with {@code connection.unwrap(ReadsplitConnection.class)}
 * or by casting.
 */
public interface ReadsplitConnection extends Connection {

    /** This connection's consistency level (the data source's default unless overridden). */
    Consistency consistency();

    /** Overrides the consistency level for this connection's later reads. */
    void setConsistency(Consistency consistency);

    /**
     * The causal position of this connection's scope ({@code causalScope}: the connection, its thread, or the data
     * source; or an attached {@link CausalContext}): at or past the scope's last write that may have committed
     * (taken from the primary now if a write is pending), or an imported token. {@code null} only when nothing in
     * the scope may have written nor imported a token, or with the generic JDBC dialect (no WAL positions). Readable
     * after {@code close()}.
     *
     * @throws SQLException if the scope may have written and the primary cannot tell the position now: a token that
     *                      cannot be computed is an error, never a silent null
     */
    CausalToken causalToken() throws SQLException;

    /**
     * Imports a token from another connection, thread or process: later reads of this connection's scope under
     * {@code READ_YOUR_WRITES} only go to replicas that have replayed it.
     *
     * @throws SQLException             (SQLSTATE 22023) if the token belongs to a different cluster
     * @throws IllegalArgumentException if {@code token} is null, as {@link CausalToken#parse(String)} rejects a
     *                                  missing text (see {@code docs/consistency.md})
     */
    void observe(CausalToken token) throws SQLException;

    /** Where the last statement on this connection went and why ({@code null} before the first). */
    RouteDecision lastRoute();
}

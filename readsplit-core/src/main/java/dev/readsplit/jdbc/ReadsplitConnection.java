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
     * The session's causal position: at or past its last committed write (taken from the primary only now,
     * lazily), or an imported token, or {@code null} when the session has neither written nor imported one.
     */
    CausalToken causalToken() throws SQLException;

    /**
     * Imports a token from another connection, thread or process: this connection's later reads under
     * {@code READ_YOUR_WRITES} only go to replicas that have replayed it.
     *
     * @throws SQLException (SQLSTATE 22023) if the token belongs to a different cluster
     */
    void observe(CausalToken token) throws SQLException;

    /** Where the last statement on this connection went and why ({@code null} before the first). */
    RouteDecision lastRoute();
}

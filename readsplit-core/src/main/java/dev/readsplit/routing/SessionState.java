package dev.readsplit.routing;

import dev.readsplit.Consistency;
import dev.readsplit.Role;
import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.cluster.Node;

/**
 * What the router needs to know about one session (a JDBC logical connection, or a proxied client): transaction
 * state, read-only, isolation, pins, explicit role, consistency override and causal position. The adapter keeps
 * it up to date as the session's calls succeed; the router only reads it.
 *
 * <p>It also records whether the session changed server-side state that must be reset before a physical connection
 * goes back to its pool ({@link #dirty()}).
 *
 * <p>Concurrency: one session is used by one thread at a time, like a JDBC connection; no field is shared.
 * The causal position may be shared with other sessions of the same scope and is thread-safe on its own.
 */
public final class SessionState {

    private final Role explicitRole;
    private boolean autoCommit = true;
    private boolean readOnly;
    private boolean serializable;
    private boolean serializableByDefault;
    private boolean pinned;
    private Node pinnedNode;
    private boolean dirty;
    private Node transactionNode;
    private boolean transactionMayHaveWritten;
    private Consistency consistencyOverride;
    private CausalPosition causal;
    private dev.readsplit.balance.AffinitySlot affinity;

    /** @param explicitRole the role the session was acquired for ({@code getConnection(Role)}), or null */
    public SessionState(Role explicitRole) {
        this.explicitRole = explicitRole;
    }

    public Role explicitRole() {
        return explicitRole;
    }

    /**
     * The session's own affinity slot, or null (the default) when its thread's is used: a JDBC session runs on its
     * application's thread; a proxied client, served on an event loop with many others, keeps its own.
     */
    public dev.readsplit.balance.AffinitySlot affinity() {
        return affinity;
    }

    /** Gives the session its own affinity slot (see {@link dev.readsplit.balance.AffinitySlot}). */
    public void ownAffinity() {
        if (affinity == null) {
            affinity = new dev.readsplit.balance.AffinitySlot();
        }
    }

    public boolean autoCommit() {
        return autoCommit;
    }

    public void autoCommit(boolean on) {
        this.autoCommit = on;
    }

    public boolean readOnly() {
        return readOnly;
    }

    public void readOnly(boolean on) {
        this.readOnly = on;
    }

    /** Isolation {@code SERIALIZABLE}, which a hot standby refuses. */
    public boolean serializable() {
        return serializable;
    }

    public void serializable(boolean on) {
        this.serializable = on;
    }

    /**
     * The session's default isolation, set by SQL ({@code SET default_transaction_isolation},
     * {@code SET SESSION CHARACTERISTICS}), is {@code SERIALIZABLE}: a hot standby refuses every statement.
     */
    public boolean serializableByDefault() {
        return serializableByDefault;
    }

    public void serializableByDefault(boolean on) {
        this.serializableByDefault = on;
    }

    /**
     * The node the session is pinned to for the rest of its life, or null: the adapter handed out that node's
     * physical connection (JDBC {@code unwrap}), or which settings survived a transaction is known only there.
     */
    public Node pinnedNode() {
        return pinnedNode;
    }

    public void pinTo(Node node) {
        this.pinnedNode = node;
        this.dirty = true;
    }

    /** Session state that cannot follow the session was created: everything stays on the primary. */
    public boolean pinned() {
        return pinned;
    }

    public void pin() {
        this.pinned = true;
        this.dirty = true;
    }

    /** Server-side session state changed (SET, pins, schema...): physical connections must be reset on return. */
    public boolean dirty() {
        return dirty;
    }

    public void markDirty() {
        this.dirty = true;
    }

    /** The node running the session's transaction, or null outside one. */
    public Node transactionNode() {
        return transactionNode;
    }

    public boolean inTransaction() {
        return transactionNode != null;
    }

    /** A transaction starts on {@code node} (JDBC's first statement with auto-commit off, or SQL BEGIN). */
    public void beginTransaction(Node node) {
        this.transactionNode = node;
        this.transactionMayHaveWritten = false;
    }

    /** The transaction ended (commit, rollback, or its node was lost). */
    public void endTransaction() {
        this.transactionNode = null;
        this.transactionMayHaveWritten = false;
    }

    /** Whether a statement of the running transaction may have written. */
    public boolean transactionMayHaveWritten() {
        return transactionMayHaveWritten;
    }

    public void transactionWrote() {
        this.transactionMayHaveWritten = true;
    }

    /** The session's own consistency level (setConsistency), or null: then the thread's scope or the default. */
    public Consistency consistencyOverride() {
        return consistencyOverride;
    }

    public void consistencyOverride(Consistency consistency) {
        this.consistencyOverride = consistency;
    }

    /** The causal position of the session's scope, or null while a connection-scoped session has none. */
    public CausalPosition causal() {
        return causal;
    }

    public void causal(CausalPosition position) {
        this.causal = position;
    }

    /**
     * The session's later reads must see WAL position {@code lsn} (an imported causal token): observed on its scope's
     * position, created first for a connection-scoped session that has none yet.
     */
    public void observeCausal(long lsn) {
        CausalPosition p = causal;
        if (p == null) {
            p = new CausalPosition();
            causal = p;
        }
        p.observe(lsn);
    }
}

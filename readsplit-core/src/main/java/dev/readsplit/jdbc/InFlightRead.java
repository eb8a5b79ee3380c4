package dev.readsplit.jdbc;

import dev.readsplit.routing.Decision;
import dev.readsplit.sql.Classification;
import dev.readsplit.cluster.Node;

import java.lang.invoke.VarHandle;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one logical connection is executing right now, as the {@link Hedger} sees it: the node, when it started, and
 * (for a read that is safe to run twice) what a hedge needs to run it elsewhere; then which of the two answered first.
 * One per logical connection, reused for every execution, so a read that never hedges allocates nothing.
 *
 * <h2>Concurrency</h2>
 * The caller's thread writes the execution's fields, then publishes them with a release store of {@link #state}
 * ({@code seq << 2 | RUNNING}); the scanner reads them optimistically and validates (acquire fence, {@code state}
 * unchanged), as {@link java.util.concurrent.locks.StampedLock}'s optimistic reads do. Every execution has its own
 * {@code seq}, so a stale claim can never touch the next one. Phases:
 * <pre>
 *   IDLE ──begin──▶ RUNNING ──end (caller)──▶ IDLE                      the common case: one CAS
 *                      │ claim (scanner)
 *                      ▼
 *                   HEDGED ──end (caller first)──▶ IDLE, the hedge's connection aborted ("caller won")
 *                      │ hedge answered first        │ hedge failed / found nowhere to go
 *                      ▼                             ▼
 *                     WON  ──caller adopts──▶ IDLE   RUNNING (the caller goes on alone)
 * </pre>
 * Only the caller leaves RUNNING for IDLE or HEDGED for IDLE; only the hedge moves HEDGED to WON or back to RUNNING.
 * Whoever wins aborts the loser's physical connection (a hung server would never answer a cancel request), and that
 * connection is evicted from its pool, never returned to it.
 */
final class InFlightRead {

    static final int IDLE = 0;
    static final int RUNNING = 1;
    static final int HEDGED = 2;
    static final int WON = 3;

    final LogicalConnection connection;
    /** {@code seq << 2 | phase}. */
    private final AtomicLong state = new AtomicLong();
    /** The caller's execution counter (only the caller's thread writes it). */
    private long seq;

    // the execution, written by the caller before it publishes RUNNING
    private Node node;
    private long startNanos;
    private boolean hedgeable;
    private LogicalStatement statement;
    private StatementExecutor.Execution<?> execution;
    private Classification classification;
    private String sql;
    private Decision decision;
    private Connection physicalConnection;
    /** The last execution the scanner hedged or decided not to (it looks at each execution once). */
    private volatile long consideredSeq = -1;

    // the hedge: its connection as soon as it has one (for the caller to abort), and its answer once it won; each
    // carries the execution's seq, so a hedge that lost an earlier execution can never be taken for this one's
    private volatile HedgeConnection hedgeConnection;
    private volatile Answer answer;

    /** A hedge's physical connection, for the execution {@code seq}. */
    record HedgeConnection(long seq, Connection connection) {
    }

    /** A hedge's answer: where it ran, its statement and connection (now the caller's), the result. */
    record Answer(long seq, Node node, Statement statement, Connection connection, Object result, Decision decision) {
    }

    InFlightRead(LogicalConnection connection) {
        this.connection = connection;
    }

    // ---------------------------------------------------------------------------------------------
    // the caller's side

    /** An execution starts on {@code node} (hedgeable: an autocommit replica read safe to run twice). */
    void begin(Node node, long startNanos, boolean hedgeable, LogicalStatement statement,
               StatementExecutor.Execution<?> execution, Classification c, String sql, Decision d, Connection pc) {
        long next = seq + 1;
        seq = next;
        this.node = node;
        this.startNanos = startNanos;
        this.hedgeable = hedgeable;
        this.statement = statement;
        this.execution = execution;
        this.classification = c;
        this.sql = sql;
        this.decision = d;
        this.physicalConnection = pc;
        state.setRelease(next << 2 | RUNNING);
    }

    /**
     * The execution returned (or failed). Returns true when a hedge answered first: its answer is then to be
     * {@linkplain #adopt adopted}. Otherwise the execution is over and any hedge in flight has been aborted.
     */
    boolean end() {
        long running = seq << 2 | RUNNING;
        if (state.compareAndSet(running, seq << 2 | IDLE)) {
            return false; // no hedge: the common case
        }
        while (true) {
            long s = state.get();
            int phase = (int) (s & 3);
            if (phase == WON) {
                return true;
            }
            if (phase == HEDGED && state.compareAndSet(s, seq << 2 | IDLE)) {
                // the caller answered first: the hedge's answer (if it ever comes) is dropped, its statement aborted
                HedgeConnection hc = hedgeConnection;
                if (hc != null && hc.seq() == seq) {
                    Hedger.abortQuietly(hc.connection());
                }
                connection.dataSource().router().counters().hedgeLost();
                return false;
            }
            if (phase == RUNNING && state.compareAndSet(s, seq << 2 | IDLE)) {
                return false; // the hedge gave up meanwhile
            }
            if (phase == IDLE) {
                return false; // (never begun: nothing to end)
            }
        }
    }

    /**
     * After {@link #end()} returned true: the hedge's answer (the winner publishes it right after its CAS, so this
     * waits a moment at most).
     */
    Answer answer() {
        Answer a = answer;
        while (a == null || a.seq() != seq) {
            Thread.onSpinWait();
            a = answer;
        }
        return a;
    }

    /** The caller took the hedge's answer: back to IDLE. */
    void adopted() {
        answer = null;
        state.set(seq << 2 | IDLE);
    }

    // ---------------------------------------------------------------------------------------------
    // the scanner's side

    /** A consistent copy of a running execution, or null if none runs (or it ended while being read). */
    Snapshot snapshot() {
        long s = state.getAcquire();
        int phase = (int) (s & 3);
        if (phase != RUNNING && phase != HEDGED) {
            return null;
        }
        Snapshot snap = new Snapshot(s, node, startNanos, hedgeable && consideredSeq != s >>> 2);
        VarHandle.acquireFence();
        return state.get() == s ? snap : null;
    }

    /** What the scanner saw of one execution. */
    record Snapshot(long state, Node node, long startNanos, boolean hedgeCandidate) {
        boolean running() {
            return (state & 3) == RUNNING;
        }
    }

    /** The scanner looked at this execution for a hedge (whatever it decided): it does not look again. */
    void considered(Snapshot s) {
        consideredSeq = s.state >>> 2;
    }

    /**
     * Claims the execution seen in {@code s} for a hedge. Returns the execution's details, or null if it ended (or
     * was claimed) meanwhile.
     */
    Claim claim(Snapshot s) {
        if (!s.running() || !state.compareAndSet(s.state, (s.state & ~3L) | HEDGED)) {
            return null;
        }
        // the caller cannot start another execution before it leaves this one, which it does with a CAS that the
        // validation below would see; until then these fields are this execution's
        Claim c = new Claim(s.state >>> 2, node, statement, execution, classification, sql, decision,
                physicalConnection);
        VarHandle.acquireFence();
        if (state.get() != ((s.state & ~3L) | HEDGED)) {
            return null; // the caller finished at once (and counted the hedge as lost): nothing to run
        }
        return c;
    }

    /** The details a hedge needs, copied at its claim. */
    record Claim(long seq, Node node, LogicalStatement statement, StatementExecutor.Execution<?> execution,
                 Classification classification, String sql, Decision decision, Connection physicalConnection) {
    }

    /** Gives the claimed execution back (nothing was run): the caller goes on alone. */
    void unclaim(long claimSeq) {
        state.compareAndSet(claimSeq << 2 | HEDGED, claimSeq << 2 | RUNNING);
    }

    /** Whether the claimed execution still waits for its caller (the hedge's answer would still count). */
    boolean stillHedged(long claimSeq) {
        return state.get() == (claimSeq << 2 | HEDGED);
    }

    /**
     * Publishes the hedge's connection (the caller aborts it if it answers first), then says whether the hedge is
     * still wanted. The volatile write before the read pairs with the caller's CAS before its read of the connection:
     * either the caller sees the connection or the hedge sees that the caller is done.
     */
    boolean hedgeConnection(long claimSeq, Connection hc) {
        hedgeConnection = new HedgeConnection(claimSeq, hc);
        return stillHedged(claimSeq);
    }

    /** The hedge answered: it wins (and hands its answer to the caller) if the caller has not answered yet. */
    boolean hedgeWon(Answer a) {
        if (state.compareAndSet(a.seq() << 2 | HEDGED, a.seq() << 2 | WON)) {
            answer = a;
            return true;
        }
        return false;
    }
}

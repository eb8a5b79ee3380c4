package dev.readsplit.routing;

import dev.readsplit.Consistency;
import dev.readsplit.Role;
import dev.readsplit.RouteReason;
import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.sql.Classification;
import dev.readsplit.sql.Hint;
import dev.readsplit.sql.Reason;
import dev.readsplit.sql.SerializableRequest;
import dev.readsplit.sql.SessionEffect;
import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;

import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * Where one execution goes: session state and a classification in, a {@link Decision} out. Built once per data
 * source; knows nothing of JDBC, so the JDBC logical connection and a wire-protocol proxy are two adapters over the
 * same rules. The rules, in order, are those of {@code docs/routing.md}; consistency (which replica may serve a
 * read after the session wrote) is in {@code docs/consistency.md}.
 *
 * <p>The router does no I/O. When it needs what only a server knows (the session's causal position, a replica's
 * fresh replay position) or must wait (a switchover), it returns a decision with a {@link Requirement}; the adapter
 * meets it and routes again with the matching {@code WAITED_*} flag.
 *
 * <h2>Concurrency</h2>
 * Thread-safe and lock-free: it reads the topology's volatile node fields (tolerating a value one check old), the
 * balancer is thread-safe, the misroute memory and the decision cache are concurrent maps, counters are
 * {@code LongAdder}s. Sessions are single-threaded and are only read here.
 */
public final class Router {

    /** Flag: the adapter already waited for a replica to replay the session's position. */
    public static final int WAITED_REPLAY = 1;
    /** Flag: the adapter already waited for the write gate. */
    public static final int WAITED_GATE = 2;
    /**
     * Flag: the adapter already took the session's causal position once for this execution. A write another
     * thread of the same scope commits meanwhile is concurrent with this read, which need not wait for it; without
     * this flag a busy data-source scope could keep a read taking positions forever.
     */
    public static final int RESOLVED_POSITION = 4;
    /**
     * Flag: the adapter asks the replica for its replay position in the same round trip as the read, and runs the
     * read elsewhere (routed again without this flag) if the replica is short of the session's position: so a replica
     * that meets every rule but the known position may be chosen instead of {@link Requirement#REPLAY_WAIT}.
     */
    public static final int CHECKS_REPLAY_INLINE = 8;

    private static final RouteReason[] REASONS = RouteReason.values();
    private static final int PER_NODE = REASONS.length * 2 * RetryPolicy.COUNT;
    private static final int MAX_CACHED_NODES = 256;

    private final String name;
    private final Topology topology;
    private final ReplicaSelector selector;
    private final MisrouteMemory misroutes;
    private final FunctionOracle functions;
    private final RoutingScopes scopes;
    private final RouteCounters counters;
    private final BooleanSupplier writesPaused;
    private final boolean fallbackToPrimary;
    private volatile boolean shadowMode;
    /** Shared decisions per node: a decision is a value, and this keeps routing allocation-free. */
    private final ConcurrentHashMap<Node, Decision[]> decisions = new ConcurrentHashMap<>();

    /**
     * @param name              the data source's name, for messages
     * @param writesPaused      whether a switchover holds writes now
     * @param fallbackToPrimary whether a read with no eligible replica goes to the primary (else it is refused)
     */
    public Router(String name, Topology topology, ReplicaSelector selector, MisrouteMemory misroutes,
                  FunctionOracle functions, RoutingScopes scopes, RouteCounters counters, BooleanSupplier writesPaused,
                  boolean fallbackToPrimary, boolean shadowMode) {
        this.name = name;
        this.topology = topology;
        this.selector = selector;
        this.misroutes = misroutes;
        this.functions = functions;
        this.scopes = scopes;
        this.counters = counters;
        this.writesPaused = writesPaused;
        this.fallbackToPrimary = fallbackToPrimary;
        this.shadowMode = shadowMode;
    }

    /**
     * Decides where one execution goes, and counts the decision.
     *
     * @param c       the statement's classification; may be null for {@link Operation#CALL} and
     *                {@link Operation#TRANSACTION_START}, which carry no SQL to classify
     * @param sql     the text (for the misroute memory), or null
     * @param exclude the node a retried read failed on, or null
     * @param waited  {@link #WAITED_REPLAY} and/or {@link #WAITED_GATE} once the adapter met those requirements
     */
    public Decision route(SessionState s, Classification c, String sql, Operation op, Attempt attempt, Node exclude,
                          int waited) {
        if (attempt == Attempt.MISROUTE) {
            // the classifier said read, a replica said write (e.g. a view over a writing function): remember the text
            counters.misroute();
            if (sql != null) {
                misroutes.learn(sql);
            }
        }
        Decision d = decide(s, c, sql, op, attempt, exclude, waited);
        if (d.requirement() != Requirement.NONE) {
            return d;
        }
        Node primary = topology.primary();
        if ((waited & WAITED_GATE) == 0 && d.node() == primary && writesPaused.getAsBoolean()) {
            return Decision.require(Requirement.WRITE_GATE, d.reason(), -1, -1, null);
        }
        if (shadowMode) {
            counters.shadow(d.reason());
            if (d.node() != primary) {
                d = decision(primary, RouteReason.SHADOW, mayHaveWritten(s, primary, c, sql, op), RetryPolicy.NEVER);
            }
        }
        counters.route(d.reason());
        return d;
    }

    private Decision decide(SessionState s, Classification c, String sql, Operation op, Attempt attempt, Node exclude,
                            int waited) {
        Node primary = topology.primary();
        Role role = s.explicitRole();
        Hint hint = c == null ? Hint.NONE : c.hint();
        if (attempt == Attempt.MISROUTE) {
            return toPrimary(s, c, sql, op, RouteReason.MISROUTE);
        }
        Node pinnedTo = s.pinnedNode();
        if (pinnedTo != null) {
            return decision(pinnedTo, RouteReason.SESSION_PIN, mayHaveWritten(s, pinnedTo, c, sql, op), RetryPolicy.NEVER);
        }
        if (role == Role.PRIMARY) {
            return toPrimary(s, c, sql, op, RouteReason.EXPLICIT_ROLE);
        }
        if (scopes.primaryForced()) {
            return toPrimary(s, c, sql, op, RouteReason.SCOPE);
        }
        Node txn = s.transactionNode();
        if (txn != null) {
            // never split a transaction across nodes
            RouteReason r = s.readOnly() ? RouteReason.READ_ONLY : RouteReason.IN_TRANSACTION;
            return decision(txn, r, mayHaveWritten(s, txn, c, sql, op), RetryPolicy.NEVER);
        }
        if (asksSerializable(s, c, sql, op) && role != Role.REPLICA && hint != Hint.REPLICA) {
            // a hot standby refuses SERIALIZABLE ("cannot use serializable mode in a hot standby"): in its JDBC form,
            // its SQL forms, or as the session's default
            return toPrimary(s, c, sql, op, RouteReason.SERIALIZABLE);
        }
        if (s.readOnly() && role != Role.REPLICA && hint == Hint.PRIMARY) {
            // a hint on a statement wins over the read-only flag (it still runs read-only: the primary's
            // physical connection carries the flag); a transaction's first statement picks its node
            return toPrimary(s, c, sql, op, RouteReason.HINT);
        }
        if (s.readOnly() || role == Role.REPLICA) {
            if (fallbackToPrimary && s.autoCommit() && c != null && c.isRead() && sql != null && misroutes.contains(sql)) {
                return toPrimary(s, c, sql, op, RouteReason.LEARNED_MISROUTE);
            }
            return replicaOrFallback(s, c, sql, op, s.readOnly() ? RouteReason.READ_ONLY : RouteReason.EXPLICIT_ROLE,
                    exclude, waited);
        }
        if (!s.autoCommit() || op == Operation.TRANSACTION_START) {
            return toPrimary(s, c, sql, op, RouteReason.IN_TRANSACTION);
        }
        if (s.pinned()) {
            return toPrimary(s, c, sql, op, RouteReason.SESSION_PIN);
        }
        if (op == Operation.BATCH || op == Operation.CALL || c == null) {
            return toPrimary(s, c, sql, op, RouteReason.WRITE);
        }
        if (hint == Hint.PRIMARY) {
            return toPrimary(s, c, sql, op, RouteReason.HINT);
        }
        if (hint == Hint.REPLICA && c.sessionEffect() != SessionEffect.BEGIN_TRANSACTION) {
            return replicaOrFallback(s, c, sql, op, RouteReason.HINT, exclude, waited);
        }
        if (!c.isRead()) {
            return toPrimary(s, c, sql, op, switch (c.sessionEffect()) {
                case PIN_TO_PRIMARY -> RouteReason.SESSION_PIN;
                case SET_SESSION_STATE -> RouteReason.SESSION_STATE;
                case BEGIN_TRANSACTION, END_TRANSACTION -> RouteReason.IN_TRANSACTION;
                default -> RouteReason.WRITE;
            });
        }
        if (sql != null && misroutes.contains(sql)) {
            return toPrimary(s, c, sql, op, RouteReason.LEARNED_MISROUTE);
        }
        if (!c.userFunctions().isEmpty() && functions.anyMayWrite(c.userFunctions())) {
            return toPrimary(s, c, sql, op, RouteReason.VOLATILE_FUNCTION);
        }
        if (consistency(s).level() == Consistency.Level.STRONG) {
            return toPrimary(s, c, sql, op, RouteReason.STRONG);
        }
        return replicaOrFallback(s, c, sql, op, attempt == Attempt.HEDGE ? RouteReason.HEDGE
                : exclude == null ? RouteReason.READ : RouteReason.RETRY, exclude, waited);
    }

    /**
     * Whether this execution would run serializable: the session's isolation (JDBC, or SQL default), or the statement
     * itself starting or setting up a serializable transaction ({@code BEGIN ISOLATION LEVEL SERIALIZABLE}, or
     * {@code SET TRANSACTION ... SERIALIZABLE} as the first statement of a JDBC transaction).
     */
    private static boolean asksSerializable(SessionState s, Classification c, String sql, Operation op) {
        if (s.serializable() || s.serializableByDefault()) {
            return true;
        }
        if (c == null || op != Operation.STATEMENT
                || (c.reason() != Reason.TRANSACTION_CONTROL && c.reason() != Reason.SESSION_STATE)) {
            return false;
        }
        return SerializableRequest.of(sql) == SerializableRequest.THIS_TRANSACTION
                && (!s.autoCommit() || c.sessionEffect() == SessionEffect.BEGIN_TRANSACTION);
    }

    /** A replica under the consistency rules, or the primary with the reason no replica would do. */
    private Decision replicaOrFallback(SessionState s, Classification c, String sql, Operation op, RouteReason reason,
                                      Node exclude, int waited) {
        Consistency consistency = consistency(s);
        CausalPosition causal = s.causal();
        boolean ryw = consistency.level() == Consistency.Level.READ_YOUR_WRITES && causal != null && !causal.isEmpty();
        Node primary = topology.primary();
        if (ryw && !primary.isPostgres()) {
            // no WAL positions to compare outside PostgreSQL: after its first write a scope reads the primary
            return toPrimary(s, c, sql, op, RouteReason.TOKEN_NOT_REPLAYED);
        }
        long maxLag = stalenessBound(c, consistency);
        long minLsn = -1;
        if (ryw) {
            if (causal.pending() && (waited & RESOLVED_POSITION) == 0) {
                return Decision.require(Requirement.CAUSAL_POSITION, reason, -1, maxLag, null);
            }
            minLsn = causal.lsn();
        }
        List<Node> eligible = selector.eligible(maxLag, minLsn, exclude);
        if (!eligible.isEmpty()) {
            Node chosen = selector.choose(eligible, s.affinity());
            return decision(chosen, reason, false, retryPolicy(s, c, op, chosen, reason));
        }
        if (minLsn >= 0 && (waited & CHECKS_REPLAY_INLINE) != 0) {
            List<Node> unchecked = selector.eligible(maxLag, -1, exclude);
            if (!unchecked.isEmpty()) {
                Node chosen = selector.choose(unchecked, s.affinity());
                return decision(chosen, reason, false, retryPolicy(s, c, op, chosen, reason));
            }
        }
        if (minLsn >= 0 && (waited & WAITED_REPLAY) == 0 && !selector.eligible(maxLag, -1, exclude).isEmpty()) {
            return Decision.require(Requirement.REPLAY_WAIT, reason, minLsn, maxLag, null);
        }
        ReplicaSelector.Shortfall why = selector.shortfall(maxLag, minLsn, exclude);
        if (!fallbackToPrimary) {
            return Decision.require(Requirement.REFUSED, reason, minLsn, maxLag, name + ": no eligible replica for a read"
                    + " and fallback to the primary is off (" + describe(why, maxLag) + "; "
                    + selector.describeReplicas() + ")");
        }
        return toPrimary(s, c, sql, op, switch (why) {
            case LAG -> RouteReason.LAG;
            case TOKEN -> RouteReason.TOKEN_NOT_REPLAYED;
            default -> reason == RouteReason.HEDGE ? RouteReason.HEDGE
                    : exclude != null ? RouteReason.RETRY : RouteReason.NO_REPLICA_FALLBACK;
        });
    }

    private Decision toPrimary(SessionState s, Classification c, String sql, Operation op, RouteReason reason) {
        Node primary = topology.primary();
        return decision(primary, reason, mayHaveWritten(s, primary, c, sql, op), retryPolicy(s, c, op, primary, reason));
    }

    /**
     * Fail closed: running on {@code node} may write unless the session is read-only (its physical connections
     * carry the read-only flag, or it runs on a standby, which refuses writes), or it is certainly a read that cannot
     * write.
     */
    private boolean mayHaveWritten(SessionState s, Node node, Classification c, String sql, Operation op) {
        if (s.readOnly() || (node != topology.primary() && node.role() == Role.REPLICA)) {
            return false;
        }
        return switch (op) {
            case BATCH, CALL -> true;
            case TRANSACTION_START -> false;
            case STATEMENT -> c == null || !certainRead(c, sql);
        };
    }

    /**
     * A plain read whose functions cannot write and that no replica has refused as a write; or a {@code SET}/{@code
     * RESET}/{@code DISCARD}, which changes the session, never data.
     */
    private boolean certainRead(Classification c, String sql) {
        if (c.reason() == dev.readsplit.sql.Reason.SESSION_STATE) {
            return true;
        }
        return c.isRead() && (sql == null || !misroutes.contains(sql))
                && (c.userFunctions().isEmpty() || !functions.anyMayWrite(c.userFunctions()));
    }

    /**
     * Rule 7: an autocommit read meant for a replica, whatever the session's role (read-only, {@link Role#REPLICA},
     * a replica hint), may run once more on another node after a connection-level failure before any row reached the
     * caller; a standby's refusal of what only a primary can run is re-run there (rule 9). 25006 only where writes
     * may go: on a read-only path a write fails with the replica's own error. Never a write, anything in a
     * transaction, or a pinned session.
     */
    private RetryPolicy retryPolicy(SessionState s, Classification c, Operation op, Node node, RouteReason reason) {
        if (op != Operation.STATEMENT || c == null || !c.isRead() || !s.autoCommit() || s.inTransaction()
                || s.pinnedNode() != null || s.explicitRole() == Role.PRIMARY || c.hint() == Hint.PRIMARY) {
            return RetryPolicy.NEVER;
        }
        boolean replicaRead = switch (reason) {
            case READ, RETRY, HEDGE, READ_ONLY, EXPLICIT_ROLE, HINT, NO_REPLICA_FALLBACK, LAG, TOKEN_NOT_REPLAYED -> true;
            default -> false;
        };
        if (!replicaRead) {
            return RetryPolicy.NEVER;
        }
        boolean onStandby = node != topology.primary();
        boolean writesMayGo = !s.readOnly() && s.explicitRole() == null && c.hint() != Hint.REPLICA;
        return RetryPolicy.of(true, onStandby && writesMayGo, onStandby && fallbackToPrimary);
    }

    private Decision decision(Node node, RouteReason reason, boolean mayHaveWritten, RetryPolicy retry) {
        Decision[] cache = decisions.get(node);
        if (cache == null) {
            if (decisions.size() >= MAX_CACHED_NODES) {
                decisions.clear(); // nodes added and removed at runtime: never grow without bound
            }
            cache = decisions.computeIfAbsent(node, n -> new Decision[PER_NODE]);
        }
        int i = (reason.ordinal() * 2 + (mayHaveWritten ? 1 : 0)) * RetryPolicy.COUNT + retry.ordinal();
        Decision d = cache[i];
        if (d == null) {
            d = Decision.to(node, reason, mayHaveWritten, retry);
            cache[i] = d; // a benign race: two equal instances at worst
        }
        return d;
    }

    private static long stalenessBound(Classification c, Consistency consistency) {
        long bound = c == null ? -1 : c.maxLagMillis();
        if (consistency.level() == Consistency.Level.BOUNDED_STALENESS) {
            long level = consistency.maxStaleness().toMillis();
            bound = bound < 0 ? level : Math.min(bound, level);
        }
        return bound;
    }

    private static String describe(ReplicaSelector.Shortfall why, long maxLag) {
        return switch (why) {
            case LAG -> "every healthy replica is behind the staleness bound of " + maxLag + " ms";
            case TOKEN -> "no healthy replica has replayed this session's writes yet";
            default -> "no replica is healthy";
        };
    }

    /** The consistency in force for {@code s}: its own override, else the thread's scope, else the default. */
    public Consistency consistency(SessionState s) {
        Consistency own = s.consistencyOverride();
        return own != null ? own : scopes.defaultConsistency();
    }

    /** The replica selector (the adapter asks it for the candidates of a replay wait). */
    public ReplicaSelector selector() {
        return selector;
    }

    public RouteCounters counters() {
        return counters;
    }

    public MisrouteMemory misroutes() {
        return misroutes;
    }

    public void shadowMode(boolean on) {
        this.shadowMode = on;
    }

    public boolean shadowMode() {
        return shadowMode;
    }
}

package dev.readsplit.proxy;

import dev.readsplit.Consistency;
import dev.readsplit.ReadsplitException;
import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.routing.Attempt;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Operation;
import dev.readsplit.routing.ReplayWait;
import dev.readsplit.routing.WalPositionQueries;
import dev.readsplit.routing.Router;
import dev.readsplit.routing.SessionState;
import dev.readsplit.sql.Classification;
import dev.readsplit.sql.Reason;
import dev.readsplit.sql.SessionEffect;
import dev.readsplit.cluster.Node;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One proxied client after authentication: the protocol adapter between its messages and the data source's
 * {@link Router}, as the JDBC logical connection is for JDBC calls. Each simple query, and each extended-protocol
 * pipeline up to its Sync, is classified as a whole, routed with the session's {@link SessionState}, run on the
 * decided node's backend (at most one per node, borrowed from the {@link BackendPool}) and relayed back; the
 * backend's transaction status then says where the session's transaction is, and the decision's may-have-written
 * flag advances its causal position (read-your-writes). See {@code docs/proxy.md}.
 *
 * <p>Concurrency: messages are handled one at a time, either on the event loop ({@link #onLoop}: the common query,
 * relayed without blocking) or on a worker thread ({@link #handle}: whatever blocks), never both at once (the
 * {@link ClientConnection} hands each step over; see {@link ProxyServer}); only {@link #cancel()} is called from
 * another thread, and reads the volatile {@link #running}.
 */
final class ClientSession implements ReadsplitCommands.Session {

    private static final Logger log = LoggerFactory.getLogger("dev.readsplit.route");
    /** {@code BEGIN ... READ ONLY}, also followed by {@code SET TRANSACTION ... READ ONLY} in the same text. */
    private static final Pattern BEGIN_READ_ONLY = Pattern.compile(
            "(?is)\\s*(?:BEGIN|START\\s+TRANSACTION)\\b[^;]*(?:;\\s*SET\\s+TRANSACTION\\b[^;]*)?\\bREAD\\s+ONLY\\b");
    /** {@code SET TRANSACTION ... READ ONLY} (not {@code SET SESSION CHARACTERISTICS}): the transaction's first statement. */
    private static final Pattern SET_TRANSACTION_READ_ONLY = Pattern.compile(
            "(?is)\\s*SET\\s+TRANSACTION\\b[^;]*\\bREAD\\s+ONLY\\b");
    /** {@code SET TRANSACTION ... READ WRITE}: a transaction of a read-only-by-default session that will write. */
    private static final Pattern SET_TRANSACTION_READ_WRITE = Pattern.compile(
            "(?is)\\s*SET\\s+TRANSACTION\\b[^;]*\\bREAD\\s+WRITE\\b");
    /**
     * A plain {@code BEGIN} the proxy answers itself, so the transaction's first statement picks its node (a
     * {@code SET TRANSACTION READ ONLY} a replica): no access mode, no {@code SERIALIZABLE} (a standby refuses it), no
     * {@code DEFERRABLE}, nothing else in the text; anything else runs as sent.
     */
    private static final Pattern PLAIN_BEGIN = Pattern.compile(
            "(?is)\\s*(?:BEGIN(?:\\s+(?:WORK|TRANSACTION))?|START\\s+TRANSACTION)"
            + "(?:\\s+ISOLATION\\s+LEVEL\\s+(?:READ\\s+COMMITTED|REPEATABLE\\s+READ|READ\\s+UNCOMMITTED))?\\s*;?\\s*");
    /** {@code COMMIT}, {@code END}, {@code ROLLBACK}, {@code ABORT} (optionally WORK/TRANSACTION), nothing else. */
    private static final Pattern PLAIN_END = Pattern.compile(
            "(?is)\\s*(COMMIT|END|ROLLBACK|ABORT)(?:\\s+(?:WORK|TRANSACTION))?\\s*;?\\s*");
    private static final Pattern LISTEN = Pattern.compile("(?i)\\bLISTEN\\b");
    /** {@code ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name}, the name (quoted or not) in group 1. */
    private static final Pattern ROLLBACK_TO = Pattern.compile(
            "(?is)\\s*ROLLBACK(?:\\s+(?:WORK|TRANSACTION))?\\s+TO(?:\\s+SAVEPOINT)?\\s+(\"(?:[^\"]|\"\")+\"|[^\\s;\"]+)\\s*;?\\s*");
    private static final Pattern MORE_THAN_ONE_STATEMENT = Pattern.compile(";\\s*\\S");

    private final ProxyServer server;
    private final ReadsplitDataSource ds;
    private final Router router;
    private final ReplayWait.Probe replayProbe = this::replayLsn;
    private final Exchange.ClientOutput out;
    private final SessionState state = new SessionState(null);
    /**
     * The session's transactions are read-only unless they say otherwise ({@code default_transaction_read_only}, as
     * {@code SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY} sets it; asked of the server after each SET that may
     * change it): a plain {@code BEGIN} then runs on a replica.
     */
    private boolean readOnlyByDefault;
    private final Map<Node, BackendConnection> held = new LinkedHashMap<>();
    /** Session settings to apply to each backend the session gets: the client's startup parameters, then its SETs. */
    private final List<String> replay = new ArrayList<>();
    /** The client's prepared statements: name ("" for the unnamed one) -> its Parse message body. */
    private final Map<String, byte[]> statements = new HashMap<>();
    private final List<Msg> pipeline = new ArrayList<>();
    private long pipelineBytes;
    /** After a Flush: the backend running the unfinished pipeline and its decision, until Sync. */
    private BackendConnection bound;
    private Decision boundDecision;
    private boolean readOnlyTransaction;
    /**
     * A plain {@code BEGIN} the proxy answered and has not sent yet: it runs on the node the transaction's first
     * statement is routed to, just before it (as the JDBC path begins a transaction at its first statement).
     */
    private String deferredBegin;
    /** The session created state that lives on its backends only (it pinned, or a SET it could not follow). */
    private boolean unmovable;
    /** The transaction was begun by a deferred {@code BEGIN}: the session is out of autocommit until it ends. */
    private boolean explicitTransaction;
    /**
     * The proxy answered an error of its own inside a transaction whose {@code BEGIN} it has not sent yet: the
     * transaction is failed, as PostgreSQL's would be ({@link #inFailedDeferredTransaction}).
     */
    private boolean deferredFailed;
    /** After an error answered at a Flush in such a transaction: the client's messages are skipped up to its Sync. */
    private boolean skipToSync;
    private char status = 'I';
    private volatile BackendConnection running;
    /** The shared backend this client's pipelined read is in flight on, and its exchange; null otherwise. */
    private volatile BackendConnection pipelinedOn;
    private volatile Exchange pipelinedExchange;
    /** This client's cancel closed the connection its pipelined read was on: the read answers 57014 (event loop). */
    private boolean cancelledHere;
    /** The last decision taken (its node and reason make {@code SHOW readsplit.last_route}), or null. */
    private Decision lastRoute;
    /** The node of the client's transaction was lost: the client is told (FATAL) and disconnected, as by PostgreSQL. */
    private boolean terminated;
    /** The pipeline outgrew its bounds: its messages are dropped up to the Sync, which answers with the error. */
    private boolean overflowed;
    /** A decision the event loop took for this SQL text before handing the execution to the worker. */
    private String stashedSql;
    private Decision stashedDecision;
    /** The node the client ran LISTEN on (its notifications arrive on that backend), or null. */
    private Node listenNode;
    /** The backend whose notifications go to the idle client now ({@link #idle()}), or null. Event loop only. */
    private BackendConnection idleBackend;
    /** A passed-through client's login, its backends' too; null: the nodes' configured user. */
    private BackendLogin login;
    private final ReadsplitCommands commands;

    ClientSession(ProxyServer server, Exchange.ClientOutput out, Map<String, String> settings) {
        this.server = server;
        this.ds = server.dataSource();
        this.router = server.router();
        this.out = out;
        this.commands = new ReadsplitCommands(ds, router, state, out, statements, this);
        // the proxy serves many clients on one event-loop thread: per-thread affinity would give them all one
        // replica; each client keeps its own (docs/proxy.md, routing)
        state.ownAffinity();
        settings.forEach((k, v) -> replay.add("SET " + quoteIdent(k) + " = " + quoteLiteral(v)));
        String readOnly = settings.get("default_transaction_read_only");
        readOnlyByDefault = readOnly != null && isOn(readOnly);
    }

    /** A boolean setting's value as PostgreSQL reads it: on, true, yes, 1 (or a unique prefix of them). */
    static boolean isOn(String value) {
        String v = value.trim().toLowerCase(java.util.Locale.ROOT);
        return !v.isEmpty() && (v.equals("1") || "on".equals(v) || (!v.equals("o") && "true".startsWith(v))
                || "yes".startsWith(v));
    }

    @Override
    public Decision lastRoute() {
        return lastRoute;
    }

    @Override
    public char status() {
        return status;
    }

    /** The client authenticated by pass-through: its backends log in as it. */
    void loginAs(BackendLogin as) {
        login = as;
    }

    /** A {@code readsplit.*} setting given at startup ({@code options=-c readsplit.consistency=strong}). */
    void startupSetting(String name, String value) throws ProtocolError {
        String error = commands.set(name, value);
        if (error != null) {
            throw new ProtocolError("22023", error);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // messages

    /** How {@link #onLoop} handled a message. */
    enum Step {
        /** Handled; the next message may follow at once. */
        DONE,
        /** An exchange is under way on the event loop: the session calls {@link Driver#resume()} when it is over. */
        PENDING,
        /** Not touched: it needs blocking work, {@link #handle} it on a worker. */
        BLOCKING
    }

    /** The client connection's side of an event-loop step. */
    interface Driver {
        /** The pending step is over (event loop): the next message may be handled. */
        void resume();

        /** Runs {@code rest} of the pending step on a worker thread (it may block), then resumes. */
        void blocking(Runnable rest);
    }

    /**
     * Handles {@code m} on the event loop if that needs no blocking work: messages that only queue (Parse, Bind...),
     * and the common query, a simple query or a pipeline ending in Sync routed at once ({@code Requirement.NONE}) to a
     * node whose backend the session holds (or the pool has idle), whose exchange then runs on the event loop without
     * any thread switch; and a plain {@code BEGIN}, which the proxy answers itself ({@link #deferTransaction}).
     * Anything else (the proxy's own statements, SET, read-your-writes waits, a backend to open, a
     * failure to retry, Flush, Terminate) is {@link Step#BLOCKING}, untouched, for {@link #handle} on a worker.
     */
    Step onLoop(Msg m, Driver driver) {
        boolean queues = m.type() == 'P' || m.type() == 'B' || m.type() == 'D' || m.type() == 'E' || m.type() == 'C';
        if (!queues && (deferredFailed || skipToSync || (overflowed && status == 'T'))) {
            // a failed transaction's answers, and an error that fails a transaction on its backend: on a worker
            return Step.BLOCKING;
        }
        switch (m.type()) {
            case 'P', 'B', 'D', 'E', 'C' -> {
                handle(m); // only queues (or skips after an overflow): no I/O
                return Step.DONE;
            }
            case 'Q' -> {
                if (!pipeline.isEmpty() || bound != null) {
                    return Step.BLOCKING;
                }
                String sql = m.cstring(0);
                return fast(sql, null, m, driver);
            }
            case 'S' -> {
                if (bound != null) {
                    return Step.BLOCKING;
                }
                if (!overflowed) {
                    deferLeadingBegin(); // answers no more than its own messages: the rest goes on as any pipeline
                }
                if (overflowed || pipeline.isEmpty()) {
                    handle(m); // an error or a ReadyForQuery of the proxy's own
                    return Step.DONE;
                }
                String sql = pipelineSql(pipeline);
                if (sql == null) {
                    return Step.BLOCKING;
                }
                return fast(sql, new ArrayList<>(pipeline), null, driver);
            }
            case 'H' -> {
                if (overflowed || (pipeline.isEmpty() && bound == null)) {
                    handle(m);
                    return Step.DONE;
                }
                return Step.BLOCKING;
            }
            default -> {
                return Step.BLOCKING;
            }
        }
    }

    /** The fast path of a simple query ({@code query}) or a pipeline ({@code batch}, without its Sync). */
    private Step fast(String sql, List<Msg> batch, Msg query, Driver driver) {
        if (ReadsplitStatement.parse(sql) != null) {
            return Step.BLOCKING;
        }
        Classification c = ds.classify(sql);
        if (query != null && deferTransaction(c, sql)) {
            return Step.DONE; // a plain BEGIN, answered here and sent with the transaction's first statement: no I/O
        }
        if (c.sessionEffect() == SessionEffect.SET_SESSION_STATE
                || (query != null && c.sessionEffect() == SessionEffect.BEGIN_TRANSACTION && !state.inTransaction())) {
            // followed on every backend the session holds (blocking queries); a BEGIN that opens on its backend now
            return Step.BLOCKING;
        }
        beforeRoute(sql); // idempotent: the worker's path does it again if this one gives up
        Decision routed = router.route(state, c, sql, Operation.STATEMENT, Attempt.FIRST, null, 0);
        long checkLsn = -1;
        if (routed.requirement() == dev.readsplit.routing.Requirement.REPLAY_WAIT && checksInline(c, sql)) {
            // no replica is known to have the session's writes yet: ask the chosen one in the read's own round trip
            checkLsn = routed.minLsn();
            routed = router.route(state, c, sql, Operation.STATEMENT, Attempt.FIRST, null, Router.CHECKS_REPLAY_INLINE);
        }
        Decision d = routed;
        if (d.requirement() != dev.readsplit.routing.Requirement.NONE) {
            return Step.BLOCKING; // nothing counted: the worker routes again and waits as required
        }
        Node node = d.node();
        Node primary = server.topology().primary();
        if (node == primary) {
            checkLsn = -1;
        }
        BackendConnection b = held.get(node);
        if (b == null && checkLsn >= 0) {
            // transaction pooling, or a session's first read there: an idle backend with the session's settings
            // carries the check as a held one would; without one the worker routes again and waits for the position
            // (no unchecked read runs, and none is pipelined: a shared backend carries no check)
            b = holdIdle(node);
            if (b == null) {
                return Step.BLOCKING;
            }
        }
        lastRoute = d;
        if (log.isDebugEnabled()) {
            log.debug("{} proxy: {} -> {}{}", ds.name(), abbreviate(sql), d, checkLsn >= 0 ? " (replay checked)" : "");
        }
        if (b == null && pipelines(d, c, sql, batch)) {
            BackendConnection shared = server.pool().pipelined(node, login, replay, server.config().pipelineDepth());
            if (shared != null) {
                startPipelined(d, c, sql, fastExchange(batch, query), shared, driver);
                return Step.PENDING;
            }
        }
        if (b == null) {
            b = holdIdle(node);
        }
        if (b == null) {
            stashedSql = sql;
            stashedDecision = d; // routed (and counted) once; the worker opens the backend and goes on
            return Step.BLOCKING;
        }
        ExchangeFactory factory = fastExchange(batch, query);
        startFast(d, c, sql, factory, b, checkLsn, 0, 0, driver);
        return Step.PENDING;
    }

    /**
     * An idle pooled backend of {@code node} that has the session's settings already (none, or another client's same
     * ones), now held by the session; null when the pool has none idle, or only one with other settings (given back:
     * the worker resets it and applies the session's settings). Event loop.
     */
    private BackendConnection holdIdle(Node node) {
        BackendConnection idle = server.pool().idle(node, login);
        if (idle == null) {
            return null;
        }
        if (!idle.applied.equals(replay)) {
            server.pool().giveBack(idle);
            return null;
        }
        held.put(node, idle);
        return idle;
    }

    /** The exchange of the fast path's simple query {@code query}, or of its pipeline {@code batch} (Sync added). */
    private ExchangeFactory fastExchange(List<Msg> batch, Msg query) {
        if (batch == null) {
            return simpleQueryExchange(query);
        }
        discardPipeline();
        batch.add(Msg.builder('S').build());
        return backend -> pipelineExchange(batch, backend, true);
    }

    /**
     * Runs a routed execution on the event loop over backend {@code b}: after a replay check when {@code checkLsn >= 0}
     * (a check that finds the replica short sends the read again after a pause, {@link #recheck}, until
     * {@code readYourWritesWait} has passed since {@code waitingSince}, then routes it to the primary), and with the
     * primary's position asked in the same round trip when it records a write.
     *
     * @param waitingSince when the first check of this read went out, 0 for the first attempt
     * @param pause        the pause before this attempt, 0 for the first
     */
    private void startFast(Decision d, Classification c, String sql, ExchangeFactory factory, BackendConnection b,
                           long checkLsn, long waitingSince, long pause, Driver driver) {
        Node node = d.node();
        Node primary = server.topology().primary();
        if (checkLsn >= 0) {
            b.prepared.remove(""); // the check is a simple query: it destroys the unnamed statement
        }
        // decided while a deferred BEGIN is pending (beginIfDeferred puts it before the statement and clears it)
        boolean resolves = node == primary && resolvesWithTheWrite(d, c, sql);
        Exchange x = beginIfDeferred(factory, b);
        long minLsn = checkLsn;
        int generation = minLsn >= 0 ? node.replayGeneration() : 0;
        if (minLsn >= 0) {
            x.replayCheck(Msg.query(WalPositionQueries.REPLAY_POSITION), minLsn);
        }
        if (resolves) {
            x.trailingPosition(Msg.query(WalPositionQueries.INSERT_POSITION_OR_NULL));
        }
        relayKept(b);
        long start = System.nanoTime();
        boolean read = c.isRead();
        int begun = node.beginStatement();
        server.sessionListener().statementRouted(node);
        running = b;
        BackendConnection backend = b;
        x.start(b, out, d.retry().onMisroute() || d.retry().onConnectionFailure(), failure -> {
            running = null;
            node.endStatement(begun, System.nanoTime() - start, read);
            if (minLsn >= 0 && x.checkedLsn() >= 0) {
                node.observeReplayLsn(x.checkedLsn(), generation);
            }
            if (minLsn >= 0 && failure == null) {
                server.stats().replayChecks.increment();
                if (x.stale()) {
                    server.stats().replayChecksShort.increment();
                }
            }
            if (failure == null && !x.misroute() && !x.stale()) {
                if (waitingSince != 0) {
                    replayWaited(waitingSince);
                } else if (minLsn >= 0) {
                    server.replayWait().replayed(0);
                }
                if (resolves && backend.broken()) {
                    // the write's answer came, then the connection failed before the position's: drop it now
                    lostQuietly(backend, new IOException("the connection to " + node.name() + " failed"));
                }
                after(d, c, sql, node, x.status()); // no SET here: nothing in it blocks
                if (resolves) {
                    positionFromTheWrite(x);
                }
                driver.resume();
                return;
            }
            if (failure == null && x.stale()) {
                // the replica is short: ask it again (with the read) after a pause, on the event loop, for up to
                // readYourWritesWait, as the JDBC path waits; then the primary
                long began = waitingSince != 0 ? waitingSince : start;
                long next = pause == 0 ? Math.max(FIRST_RECHECK_NANOS, server.replayWait().learnedPauseNanos())
                        : Math.min(pause * 2, MAX_RECHECK_NANOS);
                long budget = ds.config().routing().readYourWritesWait().toNanos();
                if (System.nanoTime() + next - began < budget) {
                    backend.eventLoop().schedule(() -> recheck(d, c, sql, factory, minLsn, began, next, driver), next,
                            java.util.concurrent.TimeUnit.NANOSECONDS);
                    return;
                }
                router.counters().consistencyWait(System.nanoTime() - began);
                Decision again = router.route(state, c, sql, Operation.STATEMENT, Attempt.FIRST, null,
                        Router.WAITED_REPLAY);
                BackendConnection there = again.requirement() == dev.readsplit.routing.Requirement.NONE
                        ? held.get(again.node()) : null;
                if (there != null && !there.broken()) {
                    lastRoute = again;
                    startFast(again, c, sql, factory, there, -1, 0, 0, driver);
                    return;
                }
                driver.blocking(() -> execute(c, sql, factory)); // routed again on a worker (or refused)
                return;
            }
            driver.blocking(() -> {
                Next next = outcome(x, backend, failure, d, c, sql, false);
                if (next != Next.DONE) {
                    executeAgain(c, sql, factory, next, node);
                }
            });
        });
    }

    /** The exchange of simple query {@code query} on a backend. */
    private ExchangeFactory simpleQueryExchange(Msg query) {
        return backend -> {
            backend.prepared.remove(""); // a simple query destroys the unnamed statement, as PostgreSQL does
            statements.remove("");
            Exchange x = new Exchange(true);
            x.client(query, null);
            return x;
        };
    }

    /**
     * Whether an extended-protocol pipeline (without its Sync) needs nothing of its backend's prepared statements and
     * leaves nothing there that its client could use later: it begins with a Parse of the unnamed statement, parses
     * nothing else, and binds, describes and executes only the unnamed statement and portal (what pgbench's
     * {@code -M extended}, libpq's {@code PQexecParams} and most drivers' one-off parameterised queries send).
     */
    static boolean unnamedAndWhole(List<Msg> batch) {
        if (batch.isEmpty() || batch.get(0).type() != 'P') {
            return false;
        }
        for (int i = 0; i < batch.size(); i++) {
            Msg m = batch.get(i);
            byte[] body = m.body();
            boolean unnamed = switch (m.type()) {
                case 'P' -> i == 0 && body.length > 0 && body[0] == 0;
                case 'B' -> body.length > 1 && body[0] == 0 && body[1] == 0; // portal "", statement ""
                case 'D' -> body.length > 1 && body[1] == 0; // 'S' or 'P', then the name ""
                case 'E' -> body.length > 0 && body[0] == 0;
                default -> false; // Close, or anything else: not a one-off statement
            };
            if (!unnamed) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether this execution may go behind other clients' on a shared backend connection (pipelining: transaction
     * pooling with {@link ProxyConfig#pipelineDepth} above 1): a simple query, or an extended-protocol pipeline of the
     * unnamed statement ({@link #unnamedAndWhole}), of one statement that reads, with no
     * session effect and no COPY, in autocommit outside any transaction, from a session that holds no backend and whose
     * state can move to any (nothing pinned, no LISTEN, nothing deferred). Anything else takes a backend of its own.
     */
    private boolean pipelines(Decision d, Classification c, String sql, List<Msg> batch) {
        return server.config().pipelineDepth() > 1 && (batch == null || unnamedAndWhole(batch)) && c.isRead()
                && !d.mayHaveWritten()
                && c.sessionEffect() == SessionEffect.NONE && status == 'I' && state.autoCommit()
                && !state.inTransaction() && deferredBegin == null && bound == null && !unmovable && !state.pinned()
                && state.pinnedNode() == null && listenNode == null && held.isEmpty() && !mentionsCopy(sql)
                && !MORE_THAN_ONE_STATEMENT.matcher(sql).find();
    }

    /**
     * Runs the read {@code factory} builds (a simple query or an unnamed pipeline, {@link #pipelines}) on the shared
     * backend {@code b}, sent at once behind whatever other clients have in flight there (event loop). Its answers
     * reach the client when the server gets to it; nothing before its first row, so a read whose connection is lost,
     * or closed to stop another client's cancelled statement, runs again elsewhere.
     */
    private void startPipelined(Decision d, Classification c, String sql, ExchangeFactory factory, BackendConnection b,
                                Driver driver) {
        Node node = d.node();
        if (b.pipelinedBegin()) {
            server.pool().pipelining(b);
        } else {
            server.stats().pipelined.increment();
        }
        Exchange x = factory.forBackend(b);
        long start = System.nanoTime();
        int begun = node.beginStatement();
        server.sessionListener().statementRouted(node);
        cancelledHere = false;
        pipelinedExchange = x;
        pipelinedOn = b;
        running = b;
        x.start(b, out, true, failure -> {
            running = null;
            pipelinedOn = null;
            pipelinedExchange = null;
            node.endStatement(begun, System.nanoTime() - start, true);
            if (b.pipelinedEnd()) {
                server.pool().pipelined(b); // (which forgets its unnamed statement)
            }
            if (failure == null && !x.misroute()) {
                if (x.status() != 'I') {
                    // a read of one statement cannot open a transaction; if one did, no other client's statement may
                    // run in it: the connection is closed once its exchanges end, and this client, which was told it
                    // is in a transaction the proxy cannot keep, is disconnected (as when its node is lost)
                    b.retire();
                    terminated = true;
                    out.write(Msg.fatal("08006", ds.name() + ": a pipelined read left a transaction open on "
                            + node.name()));
                    out.flush();
                    driver.resume();
                    return;
                }
                after(d, c, sql, node, x.status());
                driver.resume();
                return;
            }
            if (failure != null && b.closedForCancel()) {
                // closed by the proxy, not by a failure: nothing to say of the node
                if (cancelledHere) {
                    error("57014", "canceling statement due to user request");
                    driver.resume();
                } else if (!x.forwardedAny()) {
                    server.stats().pipelinedAgain.increment();
                    driver.blocking(() -> execute(c, sql, factory)); // another client's cancel: run it again
                } else {
                    error("08006", ds.name() + ": the connection to " + node.name()
                            + " was closed to stop another client's cancelled statement");
                    driver.resume();
                }
                return;
            }
            driver.blocking(() -> {
                Next next = outcome(x, b, failure, d, c, sql, false);
                if (next != Next.DONE) {
                    executeAgain(c, sql, factory, next, node);
                }
            });
        });
    }

    /**
     * A cancel of this client's pipelined read on {@code b} (event loop). The read answered now with nothing behind
     * it: a CancelRequest, as for any statement, and {@code b} takes nothing more and is closed when done, so a late
     * cancel reaches no other client's statement. Otherwise other clients' statements share the connection with it:
     * unless {@code mayClose} is false (the client hung up; the read ends soon, its answer is dropped) or the read
     * waits behind another client's result already under way (not applied, as a cancel that comes too late), the
     * connection is closed, the server told to cancel what runs there, this client answered 57014, and the other
     * clients' reads run again elsewhere (none of them has been answered yet).
     */
    private void cancelPipelined(BackendConnection b, boolean mayClose) {
        Exchange x = pipelinedExchange;
        if (pipelinedOn != b || x == null) {
            return; // over already
        }
        int timeout = (int) server.config().connectTimeout().toMillis();
        if (x.answeredNow() && b.waitingBehind() == 0) {
            b.retire();
            server.workers().execute(() -> b.cancel(timeout));
            return;
        }
        if (!mayClose || (!x.answeredNow() && b.answeringForwarded())) {
            return;
        }
        cancelledHere = true;
        b.closeForCancel();
        server.workers().execute(() -> b.cancel(timeout));
    }

    private static final long FIRST_RECHECK_NANOS = java.util.concurrent.TimeUnit.MICROSECONDS.toNanos(250);
    private static final long MAX_RECHECK_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(20);

    /**
     * The read of decision {@code d} again after a pause (event loop): without a check if the replica is now known to
     * have the position (another session learned it), else with the check again; on a worker if the replica stopped
     * being a place to read or the session lost its backend there.
     */
    private void recheck(Decision d, Classification c, String sql, ExchangeFactory factory, long minLsn, long began,
                         long pause, Driver driver) {
        Node node = d.node();
        BackendConnection b = held.get(node);
        if (b == null || b.broken() || b.epoch() != node.epoch() || node.state() != dev.readsplit.topology.NodeState.UP) {
            driver.blocking(() -> execute(c, sql, factory));
            return;
        }
        boolean known = node.replayLsn() >= minLsn;
        if (known) {
            replayWaited(began);
        }
        startFast(d, c, sql, factory, b, known ? -1 : minLsn, known ? 0 : began, known ? 0 : pause, driver);
    }

    /** A read waited since {@code began} for a replica that has now replayed its position: counted, and learned from. */
    private void replayWaited(long began) {
        long waited = System.nanoTime() - began;
        router.counters().consistencyWait(waited);
        server.replayWait().replayed(waited);
    }

    /**
     * Whether a read the router would hold for a replica to replay the session's position may instead run on a replica
     * after a replay check in its own round trip ({@link Exchange#replayCheck}): an autocommit read outside any
     * transaction (its snapshot is taken after the check), that copies nothing.
     */
    private boolean checksInline(Classification c, String sql) {
        return c.isRead() && c.sessionEffect() == SessionEffect.NONE && state.autoCommit() && !state.inTransaction()
                && deferredBegin == null && !mentionsCopy(sql);
    }

    /**
     * Whether this execution on the primary may record a write that ends outside a transaction (an autocommit write,
     * or the end of a transaction that may have written), for a session that reads its writes: then the primary's WAL
     * insert position is asked in the same round trip, after it ({@link Exchange#trailingPosition}), and the session's
     * next read need not ask for it first. A statement that goes out behind a deferred {@code BEGIN} runs inside the
     * transaction: its position would be of no use (the commit's is), so none is asked, unless the text also writes
     * and ends the transaction.
     */
    private boolean resolvesWithTheWrite(Decision d, Classification c, String sql) {
        if (router.consistency(state).level() != Consistency.Level.READ_YOUR_WRITES || mentionsCopy(sql)) {
            return false;
        }
        if (deferredBegin != null) {
            // unless the text itself writes and ends the transaction ("UPDATE ...; COMMIT")
            return c.sessionEffect() == SessionEffect.END_TRANSACTION && d.mayHaveWritten();
        }
        boolean ends = c.reason() == Reason.TRANSACTION_CONTROL && c.sessionEffect() == SessionEffect.END_TRANSACTION;
        return state.inTransaction() ? ends && state.transactionMayHaveWritten() : d.mayHaveWritten();
    }

    /** The trailing position of a write's exchange covers the writes the session has recorded (it ran after them). */
    private void positionFromTheWrite(Exchange x) {
        CausalPosition p = state.causal();
        long lsn = x.trailingLsn();
        if (lsn >= 0 && x.status() == 'I' && p != null && p.pending()) {
            p.resolved(p.beginResolve(), lsn);
        }
    }

    /** Whether "copy" appears anywhere in {@code sql}, in any case (fail closed: a COPY may wait for the client). */
    static boolean mentionsCopy(String sql) {
        for (int i = 0, end = sql.length() - 4; i <= end; i++) {
            if (sql.regionMatches(true, i, "copy", 0, 4)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The client waits for nothing and has sent nothing more (event loop, between steps): a client that ran LISTEN
     * gets its NotificationResponses (and notices, parameter changes) from that backend as they arrive, not only
     * with its next query's responses. {@link #active()} ends it before the next step reads that backend.
     */
    void idle() {
        if (listenNode == null || idleBackend != null) {
            return;
        }
        BackendConnection b = held.get(listenNode);
        if (b == null || b.broken()) {
            return;
        }
        relayKept(b);
        idleBackend = b;
        b.listen(idleRelay);
    }

    /** Gives the client the notifications {@code b} kept while the proxy ran its own queries on it (any thread). */
    private void relayKept(BackendConnection b) {
        if (!b.hasKept()) {
            return;
        }
        for (Msg m = b.takeKept(); m != null; m = b.takeKept()) {
            out.write(m);
        }
        out.flush();
    }

    /** A message of the client's is next (event loop): the backend's messages wait for the step that reads them. */
    void active() {
        BackendConnection b = idleBackend;
        if (b != null) {
            idleBackend = null;
            b.unlisten(idleRelay);
        }
    }

    private final BackendConnection.Listener idleRelay = new BackendConnection.Listener() {
        @Override
        public void message(Msg m) {
            byte t = m.type();
            if (t == 'A' || t == 'N' || t == 'S') {
                out.write(m);
                out.flush();
                return;
            }
            BackendConnection b = idleBackend; // anything else (a FATAL at shutdown...) is for the next step to see
            idleBackend = null;
            if (b != null) {
                b.requeue(m);
            }
        }

        @Override
        public void failed(IOException e) {
            BackendConnection b = idleBackend;
            idleBackend = null;
            if (b != null) {
                b.requeue(e); // the next step that uses it fails as it would have
            }
        }

        @Override
        public void readComplete() {
            BackendConnection b = idleBackend;
            if (b != null && !out.writable()) {
                out.flush();
                b.autoRead(false); // a client that does not read its notifications holds its backend back
                out.whenWritable(() -> b.autoRead(true));
            }
        }
    };

    /** A query of this client runs on a backend now (a cancel has something to cancel). */
    boolean running() {
        return running != null;
    }

    /** The node of the client's transaction was lost and the client told so: its connection ends. */
    boolean terminated() {
        return terminated;
    }

    /** Handles one client message after authentication. Returns false when the client terminated. */
    boolean handle(Msg m) {
        switch (m.type()) {
            case 'Q' -> {
                if (!pipeline.isEmpty() || bound != null) {
                    discardPipeline();
                    error("08P01", "a simple query arrived inside an unfinished extended-protocol pipeline");
                    return true;
                }
                simpleQuery(m);
            }
            case 'P', 'B', 'D', 'E', 'C' -> {
                if (overflowed || skipToSync) {
                    return true; // skipped up to the Sync, as PostgreSQL skips after an error
                }
                pipelineBytes += m.body().length + 5L;
                if (pipelineBytes > server.config().maxPipelineBytes()
                        || pipeline.size() >= server.config().maxPipelineMessages()) {
                    discardPipeline();
                    overflowed = true;
                    return true;
                }
                pipeline.add(m);
            }
            case 'H' -> {
                if (overflowed || skipToSync) {
                    return true;
                }
                if (!pipeline.isEmpty()) {
                    runPipeline(false);
                } else {
                    out.flush();
                }
            }
            case 'S' -> {
                if (skipToSync) {
                    skipToSync = false;
                    out.write(Msg.ready(status));
                    out.flush();
                } else if (overflowed) {
                    overflowed = false;
                    error("54000", "readsplit proxy: pipeline exceeds " + server.config().maxPipelineBytes()
                            + " bytes or " + server.config().maxPipelineMessages() + " messages before its Sync");
                } else {
                    runPipeline(true);
                }
            }
            case 'X' -> {
                return false;
            }
            default -> {
                return dispatchOther(m);
            }
        }
        return !terminated;
    }

    private boolean dispatchOther(Msg m) {
        switch (m.type()) {
            case 'd', 'c', 'f' -> { } // CopyData/CopyDone/CopyFail outside a COPY (after its error) are dropped, as PG does
            case 'F' -> functionCall(m);
            default -> {
                error("08P01", "readsplit proxy: unexpected message type '" + (char) m.type() + "'");
                return false;
            }
        }
        return true;
    }

    /**
     * What a function-call message ({@code F}: libpq's {@code PQfn}, pgjdbc's Fastpath, which large objects use) is
     * routed as: a call of procedural code, which may write. It names its function by OID only, so the proxy cannot
     * tell a read from a write: it goes to the primary, or to the node of the client's transaction, and counts as a
     * write (docs/proxy.md).
     */
    static final String FUNCTION_CALL = "CALL \"function call message\"()";

    /** A function-call message: routed as {@link #FUNCTION_CALL}, the backend's answer (its result or error) relayed. */
    private void functionCall(Msg m) {
        if (deferredFailed) {
            error(ABORTED, ABORTED_MESSAGE);
            return;
        }
        if (!pipeline.isEmpty() || bound != null) {
            discardPipeline();
            error("08P01", "a function call arrived inside an unfinished extended-protocol pipeline");
            return;
        }
        execute(ds.classify(FUNCTION_CALL), FUNCTION_CALL, backend -> {
            Exchange x = new Exchange(true);
            x.client(m, null);
            return x;
        });
    }

    private void discardPipeline() {
        pipeline.clear();
        pipelineBytes = 0;
    }

    // ---------------------------------------------------------------------------------------------
    // simple query

    private void simpleQuery(Msg m) {
        String sql = m.cstring(0);
        if (deferredFailed) {
            inFailedDeferredTransaction(sql, null);
            return;
        }
        if (commands.simpleQuery(sql)) {
            return;
        }
        Classification c = ds.classify(sql);
        if (deferTransaction(c, sql)) {
            return;
        }
        beforeRoute(sql);
        execute(c, sql, simpleQueryExchange(m));
    }

    /**
     * A plain {@code BEGIN} outside a transaction is answered by the proxy and sent later, with the transaction's first
     * statement, to the node that statement is routed to; until then the session is out of autocommit (its statements
     * go to the primary, as in a JDBC transaction) unless that first statement is {@code SET TRANSACTION READ ONLY}
     * (then one replica, as {@code BEGIN READ ONLY}). A {@code COMMIT} or {@code ROLLBACK} before any statement is
     * answered too: there is nothing to end. Returns whether the text was answered.
     */
    private boolean deferTransaction(Classification c, String sql) {
        java.util.regex.Matcher end;
        if (deferredBegin != null && c.reason() == Reason.TRANSACTION_CONTROL
                && (end = PLAIN_END.matcher(sql)).matches()) {
            String word = end.group(1).toUpperCase(java.util.Locale.ROOT);
            endDeferred();
            status = 'I';
            complete(word.equals("COMMIT") || word.equals("END") ? "COMMIT" : "ROLLBACK");
            return true;
        }
        if (deferredBegin != null || state.inTransaction() || !plainBegin(c, sql)) {
            return false;
        }
        defer(sql);
        complete(LeadingBegin.tag(sql));
        return true;
    }

    /** Whether {@code sql} is a {@code BEGIN} the proxy may answer itself and send later ({@link #PLAIN_BEGIN}). */
    private static boolean plainBegin(Classification c, String sql) {
        return c.reason() == Reason.TRANSACTION_CONTROL && c.sessionEffect() == SessionEffect.BEGIN_TRANSACTION
                && PLAIN_BEGIN.matcher(sql).matches();
    }

    /** The session is in the transaction {@code beginSql} begins, which is sent with its first statement. */
    private void defer(String beginSql) {
        deferredBegin = beginSql;
        explicitTransaction = true;
        state.autoCommit(false);
        status = 'T';
    }

    /**
     * An extended-protocol pipeline led by the execution of a plain {@code BEGIN} outside a transaction (pgjdbc with
     * autocommit off sends it ahead of the transaction's first statement; pgbench's extended and prepared modes alone):
     * its messages are answered here and taken out of the pipeline, and the {@code BEGIN} deferred as a simple query's
     * ({@link #deferTransaction}), so the first statement, if any, picks the transaction's node. Never blocks.
     */
    private void deferLeadingBegin() {
        if (deferredBegin != null || state.inTransaction() || status != 'I' || pipeline.isEmpty()) {
            return;
        }
        LeadingBegin.Found found = LeadingBegin.find(pipeline, statements);
        // nearly every pipeline starts with an execution: the pattern turns away all but a BEGIN before anything is
        // classified (the pipeline's own SQL is classified once, where it is routed)
        if (found == null || !PLAIN_BEGIN.matcher(found.sql()).matches()
                || !plainBegin(ds.classify(found.sql()), found.sql())) {
            return;
        }
        List<Msg> begin = pipeline.subList(0, found.messages());
        Msg parse = begin.get(0);
        if (parse.type() == 'P' && !parse.cstring(0).isEmpty() && statements.containsKey(parse.cstring(0))) {
            return; // a name the session has prepared already: not answered here, the pipeline runs as sent
        }
        for (Msg m : begin) {
            if (m.type() == 'P') {
                statements.put(m.cstring(0), m.body()); // the client's statement, prepared on a backend when used
            }
            pipelineBytes -= m.body().length + 5L;
        }
        LeadingBegin.answer(begin, LeadingBegin.tag(found.sql()), out);
        begin.clear();
        defer(found.sql());
    }

    private void endDeferred() {
        deferredBegin = null;
        deferredFailed = false;
        explicitTransaction = false;
        state.autoCommit(true);
        if (readOnlyTransaction) {
            readOnlyTransaction = false;
            state.readOnly(false);
        }
    }

    /**
     * The exchange for backend {@code b}, led by the deferred {@code BEGIN} if there is one (pipelined with the
     * transaction's first statement, its responses swallowed; it destroys the backend's unnamed statement, which the
     * exchange then re-prepares if the client uses it).
     */
    private Exchange beginIfDeferred(ExchangeFactory factory, BackendConnection b) {
        String begin = deferredBegin;
        if (begin == null) {
            return factory.forBackend(b);
        }
        b.prepared.remove("");
        Exchange x = factory.forBackend(b);
        x.leadingQuery(Msg.query(begin));
        deferredBegin = null;
        return x;
    }

    /** Sends the deferred {@code BEGIN}, if any, to {@code b} now (blocking). */
    private void beginIfDeferred(BackendConnection b) throws IOException, BackendConnection.BackendError {
        String begin = deferredBegin;
        if (begin != null) {
            b.queryValue(begin);
            b.prepared.remove("");
            deferredBegin = null;
        }
    }

    /**
     * {@code BEGIN READ ONLY} (or a deferred {@code BEGIN} whose first statement is {@code SET TRANSACTION READ ONLY}, or
     * any deferred {@code BEGIN} of a session read-only by default whose first statement is not
     * {@code SET TRANSACTION READ WRITE}): the transaction is read-only, so it may run on a replica (JDBC's setReadOnly).
     */
    private void beforeRoute(String sql) {
        if (state.inTransaction()) {
            return;
        }
        // the patterns begin with BEGIN, START or SET after blanks: a text that begins otherwise (most of them) skips
        // the regular expressions (a Matcher per statement on the event loop)
        char first = firstNonBlank(sql);
        boolean b = first == 'b' || first == 'B';
        boolean st = first == 's' || first == 'S';
        if (((b || st) && BEGIN_READ_ONLY.matcher(sql).lookingAt())
                || (deferredBegin != null && st && SET_TRANSACTION_READ_ONLY.matcher(sql).lookingAt())
                || (deferredBegin != null && readOnlyByDefault
                        && !(st && SET_TRANSACTION_READ_WRITE.matcher(sql).lookingAt()))) {
            state.readOnly(true);
            readOnlyTransaction = true;
        }
    }

    /** The first character of {@code sql} that the patterns' {@code \s} does not match (ASCII blanks), or 0. */
    static char firstNonBlank(String sql) {
        for (int i = 0, n = sql.length(); i < n; i++) {
            char ch = sql.charAt(i);
            if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\013' && ch != '\f' && ch != '\r') {
                return ch;
            }
        }
        return 0;
    }

    // ---------------------------------------------------------------------------------------------
    // extended protocol

    private void runPipeline(boolean sync) {
        if (deferredFailed) {
            List<Msg> batch = new ArrayList<>(pipeline);
            discardPipeline();
            if (sync) {
                inFailedDeferredTransaction(null, batch);
            } else {
                out.write(Msg.error(ABORTED, ABORTED_MESSAGE)); // answered at the Flush; the rest waits for the Sync
                out.flush();
                skipToSync = true;
            }
            return;
        }
        if (sync && bound == null) {
            deferLeadingBegin();
        }
        List<Msg> batch = new ArrayList<>(pipeline);
        discardPipeline();
        if (sync) {
            batch.add(Msg.builder('S').build());
        }
        if (bound != null) {
            // the rest of a pipeline a Flush already started: same backend, never split
            BackendConnection b = bound;
            Decision d = boundDecision;
            Exchange x = pipelineExchange(batch, b, sync);
            try {
                running = b;
                x.run(b, out, false);
            } catch (IOException e) {
                lost(b, e);
                bound = null;
                return;
            } finally {
                running = null;
            }
            if (sync) {
                bound = null;
                boundDecision = null;
                if (d != null) {
                    after(d, null, null, b.node(), x.status());
                } else {
                    status = x.status();
                }
            }
            return;
        }
        if (sync && batch.size() == 1) {
            out.write(Msg.ready(status));
            out.flush();
            return;
        }
        String sql = pipelineSql(batch);
        if (commands.pipeline(batch, sql)) {
            return;
        }
        if (sql == null) {
            runWithoutSql(batch, sync);
            return;
        }
        Classification c = ds.classify(sql);
        beforeRoute(sql);
        execute(c, sql, b -> pipelineExchange(batch, b, sync));
    }

    /**
     * A pipeline that runs no SQL (Close, Describe of a portal): nothing to route and nothing it could write, so it
     * goes where the session is (its transaction's node, else a backend it holds, else the primary) without touching
     * the causal position. Classifying made-up SQL to route it would count a write.
     */
    private void runWithoutSql(List<Msg> batch, boolean sync) {
        Node node = state.transactionNode();
        if (node == null) {
            node = held.isEmpty() ? server.topology().primary() : held.keySet().iterator().next();
        }
        BackendConnection b;
        try {
            b = backend(node);
        } catch (IOException e) {
            error("08006", ds.name() + ": cannot connect to " + node.name() + ": " + e.getMessage());
            return;
        }
        Exchange x = pipelineExchange(batch, b, sync);
        try {
            beginIfDeferred(b);
            running = b;
            x.run(b, out, false);
        } catch (IOException e) {
            lost(b, e);
            return;
        } catch (BackendConnection.BackendError e) {
            routingFailed(e);
            return;
        } finally {
            running = null;
        }
        if (x.status() == 0) {
            bound = b;
            boundDecision = null;
        } else {
            status = x.status();
        }
    }

    /** The SQL a pipeline runs, as one text (its statements joined), or null when it runs none. */
    private String pipelineSql(List<Msg> batch) {
        List<String> texts = new ArrayList<>(2);
        Map<String, String> parsedHere = new HashMap<>();
        for (Msg m : batch) {
            if (m.type() == 'P') {
                String name = m.cstring(0);
                parsedHere.put(name, m.parseQuery());
            } else if (m.type() == 'B') {
                String stmt = m.bindStatement();
                String text = parsedHere.get(stmt);
                if (text == null) {
                    byte[] body = statements.get(stmt);
                    text = body == null ? null : new Msg((byte) 'P', body).parseQuery();
                }
                if (text != null && !texts.contains(text)) {
                    texts.add(text);
                }
            }
        }
        if (texts.isEmpty()) {
            // Parse/Describe only (a client preparing): classify what it prepares, so a read prepares on a replica
            for (String t : parsedHere.values()) {
                if (!texts.contains(t)) {
                    texts.add(t);
                }
            }
        }
        if (texts.isEmpty()) {
            return null;
        }
        return texts.size() == 1 ? texts.get(0) : String.join(";\n", texts);
    }

    /** The pipeline's messages for backend {@code b}, its prepared statements made to match the client's there. */
    private Exchange pipelineExchange(List<Msg> batch, BackendConnection b, boolean sync) {
        return PipelineExchange.build(batch, b, sync, statements);
    }

    // ---------------------------------------------------------------------------------------------
    // routing and execution (the counterpart of the JDBC StatementExecutor)

    @FunctionalInterface
    private interface ExchangeFactory {
        Exchange forBackend(BackendConnection b);
    }

    /** What an exchange's end asks for next. */
    private enum Next { DONE, RETRY, MISROUTE }

    private void execute(Classification c, String sql, ExchangeFactory factory) {
        Decision d;
        try {
            d = route(c, sql, Attempt.FIRST, null);
        } catch (SQLException | IOException | BackendConnection.BackendError e) {
            routingFailed(e);
            return;
        }
        executeFrom(c, sql, factory, d, false);
    }

    /** After a fast exchange's failure or misroute: routed again (blocking), then the same loop. */
    private void executeAgain(Classification c, String sql, ExchangeFactory factory, Next next, Node failed) {
        Decision d;
        try {
            d = route(c, sql, next == Next.RETRY ? Attempt.RETRY : Attempt.MISROUTE, failed);
        } catch (SQLException | IOException | BackendConnection.BackendError e2) {
            routingFailed(e2);
            return;
        }
        executeFrom(c, sql, factory, d, true);
    }

    /** The blocking execution loop (worker thread): backend, exchange, then a retry or misroute re-route at most once. */
    private void executeFrom(Classification c, String sql, ExchangeFactory factory, Decision first, boolean retriedYet) {
        Decision d = first;
        boolean retried = retriedYet;
        while (true) {
            Node node = d.node();
            BackendConnection b;
            try {
                b = backend(node);
            } catch (IOException e) {
                if (!retried && d.retry().onConnectionFailure()) {
                    retried = true;
                    router.counters().retry();
                    try {
                        d = route(c, sql, Attempt.RETRY, node);
                    } catch (SQLException | IOException | BackendConnection.BackendError e2) {
                        routingFailed(e2);
                        return;
                    }
                    continue;
                }
                error("08006", ds.name() + ": cannot connect to " + node.name() + ": " + e.getMessage());
                return;
            }
            Exchange x = beginIfDeferred(factory, b);
            x.keepReady(); // sent once the session took the execution in (below)
            relayKept(b);
            long start = System.nanoTime();
            boolean read = c != null && c.isRead();
            int begun = node.beginStatement();
            server.sessionListener().statementRouted(node);
            running = b;
            IOException failure = null;
            try {
                x.run(b, out, d.retry().onMisroute() || d.retry().onConnectionFailure());
            } catch (IOException e) {
                failure = e;
            } finally {
                running = null;
            }
            node.endStatement(begun, System.nanoTime() - start, read);
            Next next;
            try {
                next = outcome(x, b, failure, d, c, sql, retried);
            } finally {
                if (x.ready() != null) {
                    out.write(x.ready());
                    out.flush();
                }
            }
            if (next == Next.DONE) {
                return;
            }
            retried = true;
            try {
                d = route(c, sql, next == Next.RETRY ? Attempt.RETRY : Attempt.MISROUTE, node);
            } catch (SQLException | IOException | BackendConnection.BackendError e2) {
                routingFailed(e2);
                return;
            }
        }
    }

    /** What an exchange's end means for the session: done (the session updated, or the client told), or run again. */
    private Next outcome(Exchange x, BackendConnection b, IOException failure, Decision d, Classification c, String sql,
                         boolean retried) {
        Node node = b.node();
        if (failure != null) {
            if (!x.forwardedAny() && !retried && d.retry().onConnectionFailure()) {
                lostQuietly(b, failure); // nothing reached the client: the read runs again elsewhere
                router.counters().retry();
                return Next.RETRY;
            }
            lost(b, failure);
            return Next.DONE;
        }
        if (x.misroute()) {
            if (!retried) {
                return Next.MISROUTE;
            }
            error("25006", "cannot execute a write in a read-only transaction"); // unreachable in practice
            return Next.DONE;
        }
        if (x.status() == 0) {
            // a Flush: the pipeline continues on this backend until its Sync
            bound = b;
            boundDecision = d;
            return Next.DONE;
        }
        after(d, c, sql, node, x.status());
        return Next.DONE;
    }

    /** The decision for an execution, once its requirements are met (as the JDBC SessionRouting does). */
    private Decision route(Classification c, String sql, Attempt attempt, Node exclude)
            throws SQLException, IOException, BackendConnection.BackendError {
        int waited = 0;
        Decision stashed = attempt == Attempt.FIRST && sql != null && sql.equals(stashedSql) ? stashedDecision : null;
        stashedSql = null;
        stashedDecision = null;
        if (stashed != null) {
            return stashed; // routed on the event loop already (counted there), the backend was not at hand there
        }
        while (true) {
            Decision d = router.route(state, c, sql, Operation.STATEMENT, attempt, exclude, waited);
            switch (d.requirement()) {
                case NONE -> {
                    lastRoute = d;
                    if (log.isDebugEnabled()) {
                        log.debug("{} proxy: {} -> {}", ds.name(), abbreviate(sql), d);
                    }
                    return d;
                }
                case CAUSAL_POSITION -> {
                    resolveCausalPosition();
                    waited |= Router.RESOLVED_POSITION;
                }
                case REPLAY_WAIT -> {
                    long start = System.nanoTime();
                    // the session's own affinity slot, not the worker thread's (which serves other clients too)
                    server.replayWait().await(d.maxLagMillis(), d.minLsn(), exclude, state.affinity(), replayProbe);
                    router.counters().consistencyWait(System.nanoTime() - start);
                    waited |= Router.WAITED_REPLAY;
                }
                case WRITE_GATE -> {
                    server.writeGate().awaitOpen(ds.name());
                    waited |= Router.WAITED_GATE;
                }
                case REFUSED -> throw new ReadsplitException(ReadsplitException.Reason.NO_ELIGIBLE_NODE, d.message());
            }
        }
    }

    /** Applies a finished execution to the session: transaction boundaries (from the backend's status), pins, SETs. */
    private void after(Decision d, Classification c, String sql, Node node, char backendStatus) {
        boolean wasInTransaction = state.inTransaction();
        status = backendStatus;
        trackTransaction(state, d, c, node, backendStatus);
        if (backendStatus != 'T' && backendStatus != 'E') {
            if (readOnlyTransaction) {
                readOnlyTransaction = false;
                state.readOnly(false);
            }
            if (explicitTransaction) {
                explicitTransaction = false;
                state.autoCommit(true);
            }
        }
        SessionEffect effect = c == null ? SessionEffect.NONE : c.sessionEffect();
        if (effect == SessionEffect.PIN_TO_PRIMARY) {
            unmovable = true; // wherever it ran (a cursor WITH HOLD of a read-only transaction on a replica too)
        }
        if (effect == SessionEffect.PIN_TO_PRIMARY && node == server.topology().primary()) {
            state.pin();
            if (sql != null && LISTEN.matcher(sql).find()) {
                listenNode = node;
            }
        } else if (effect == SessionEffect.SET_SESSION_STATE) {
            state.markDirty();
            if (!wasInTransaction && backendStatus == 'I' && sql != null) {
                if (MORE_THAN_ONE_STATEMENT.matcher(sql).find()) {
                    // replaying the whole text elsewhere could repeat what else it did: the settings cannot follow,
                    // so the session stays where they are (fail closed; a ';' in a literal pins needlessly, safely)
                    unmovable = true;
                    if (node == server.topology().primary()) {
                        state.pin();
                    }
                } else {
                    followSessionState(sql, node);
                    if (mayChangeReadOnlyDefault(sql)) {
                        readOnlyByDefault = askReadOnlyDefault(node);
                    }
                }
            } else {
                unmovable = true; // a SET inside a transaction lives on that backend only (it is not followed)
            }
        }
        if (server.config().poolMode() == PoolMode.TRANSACTION) {
            returnBackendsBetweenTransactions();
        }
    }

    /**
     * Transaction pooling: outside a transaction, with nothing unfinished (a pipeline after a Flush, a deferred
     * BEGIN) and no state that cannot move to another backend (anything that pins: LISTEN, SQL PREPARE, temp tables,
     * session advisory locks, cursors; a SET the proxy cannot follow), the session's backends go back to the pool; the
     * next statement takes one again, with the session's settings applied and its prepared statements re-prepared there.
     * Never blocks (event loop).
     */
    private void returnBackendsBetweenTransactions() {
        if (status != 'I' || state.inTransaction() || bound != null || deferredBegin != null || unmovable
                || state.pinned() || state.pinnedNode() != null || listenNode != null || held.isEmpty()) {
            return;
        }
        for (BackendConnection b : held.values()) {
            server.pool().giveBack(b);
        }
        held.clear();
    }

    /**
     * The transaction and read-your-writes bookkeeping of one finished execution, as the JDBC path keeps it
     * ({@code SessionRouting.afterExecute}): the backend's transaction status says where a transaction begins and ends;
     * what may have written marks the transaction, or (outside one) the session's causal position. A transaction-control
     * statement on its own ({@code BEGIN}, {@code COMMIT}, {@code ROLLBACK}, {@code SAVEPOINT}...) writes nothing
     * itself: a {@code COMMIT} publishes what the transaction may have written, no more, so a transaction of reads on
     * the primary leaves no position for the session's next reads to wait for (only {@code COMMIT PREPARED} and the
     * like, outside a transaction, count as a write). A text of several statements counts as a whole (fail closed).
     */
    static void trackTransaction(SessionState state, Decision d, Classification c, Node node, char backendStatus) {
        boolean wasInTransaction = state.inTransaction();
        boolean control = c != null && c.reason() == Reason.TRANSACTION_CONTROL;
        boolean ends = control && c.sessionEffect() == SessionEffect.END_TRANSACTION;
        boolean open = backendStatus == 'T' || backendStatus == 'E';
        boolean wrote = d.mayHaveWritten() && !(control && (ends || wasInTransaction || open));
        if (open) {
            if (!wasInTransaction) {
                state.beginTransaction(node);
            } else if (control && state.transactionMayHaveWritten()) {
                // COMMIT AND CHAIN (or a SAVEPOINT: the classifier cannot tell them apart): fail closed, the
                // transaction's writes may be committed now
                recordWrite(state);
            }
            if (wrote) {
                state.transactionWrote();
            }
        } else if (wasInTransaction) {
            if (state.transactionMayHaveWritten() || wrote) {
                recordWrite(state);
            }
            state.endTransaction();
        } else if (wrote) {
            recordWrite(state);
        }
    }

    /** A SET or RESET that may change {@code default_transaction_read_only} (fail closed: any that mentions READ or ALL). */
    static boolean mayChangeReadOnlyDefault(String sql) {
        String t = sql.toLowerCase(java.util.Locale.ROOT);
        return t.contains("read") || t.contains("all");
    }

    /** {@code default_transaction_read_only} as the backend on {@code node} has it now; false when it cannot say. */
    private boolean askReadOnlyDefault(Node node) {
        BackendConnection b = held.get(node);
        if (b == null || b.broken()) {
            return false;
        }
        try {
            String v = b.queryValue("SHOW default_transaction_read_only");
            b.prepared.remove("");
            return v != null && isOn(v);
        } catch (IOException | BackendConnection.BackendError e) {
            return false; // a plain BEGIN then goes where a transaction goes, the primary
        }
    }

    /** A SET ran on one backend: apply it to every other backend held now, and to later ones when they are taken. */
    private void followSessionState(String sql, Node ranOn) {
        replay.add(sql);
        for (Map.Entry<Node, BackendConnection> e : new ArrayList<>(held.entrySet())) {
            if (e.getKey() == ranOn) {
                e.getValue().applied = List.copyOf(replay);
            } else {
                try {
                    e.getValue().queryValue(sql);
                    e.getValue().prepared.remove("");
                    e.getValue().applied = List.copyOf(replay);
                } catch (IOException | BackendConnection.BackendError ex) {
                    drop(e.getValue());
                }
            }
        }
    }

    private static void recordWrite(SessionState state) {
        CausalPosition p = state.causal();
        if (p == null) {
            p = new CausalPosition();
            state.causal(p);
        }
        p.recordWrite();
    }

    private void resolveCausalPosition() throws IOException, BackendConnection.BackendError, SQLException {
        CausalPosition p = state.causal();
        long ticket = p.beginResolve();
        Node primary = server.topology().primary();
        long lsn = longValue(primary, WalPositionQueries.INSERT_POSITION);
        if (lsn < 0) {
            throw new ReadsplitException(ReadsplitException.Reason.CAUSAL_POSITION_UNKNOWN, ds.name()
                    + ": the primary " + primary.name() + " reported no WAL insert position");
        }
        p.resolved(ticket, lsn);
    }

    /** A standby's replay position over this session's backend to it, or -1 when it cannot answer now. */
    private long replayLsn(Node n) {
        try {
            return longValue(n, WalPositionQueries.REPLAY_POSITION);
        } catch (IOException | BackendConnection.BackendError e) {
            return -1; // that candidate cannot answer now (its failure went to the topology); the others are asked
        }
    }

    private long longValue(Node node, String sql) throws IOException, BackendConnection.BackendError {
        BackendConnection b = backend(node);
        try {
            String v = b.queryValue(sql);
            b.prepared.remove("");
            return v == null ? -1 : Long.parseLong(v);
        } catch (IOException e) {
            lostQuietly(b, e);
            throw e;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // backends

    /** The session's backend on {@code node}, borrowed (and given the session's settings) on first use. */
    private BackendConnection backend(Node node) throws IOException {
        BackendConnection b = held.get(node);
        if (b != null) {
            return b;
        }
        try {
            b = server.pool().borrow(node, login);
        } catch (IOException e) {
            server.sessionListener().backendFailed(node);
            throw e;
        }
        if (!b.applied.equals(replay)) {
            List<String> apply = new ArrayList<>(replay.size() + 1);
            if (!b.applied.isEmpty()) {
                apply.add("RESET ALL"); // another client's settings (transaction pooling)
            }
            apply.addAll(replay);
            try {
                b.queryValue(String.join(";\n", apply));
                b.applied = List.copyOf(replay);
            } catch (BackendConnection.BackendError e) {
                server.pool().release(b, true, true);
                throw new IOException(node.name() + ": the session's settings cannot be applied: " + e.getMessage());
            } catch (IOException e) {
                lostQuietly(b, e);
                throw e;
            }
        }
        held.put(node, b);
        return b;
    }

    /** A backend connection failed mid-exchange: the node is suspect, the client is told, the transaction is gone. */
    private void lost(BackendConnection b, IOException e) {
        lostQuietly(b, e);
        String message = ds.name() + ": the connection to " + b.node().name() + " was lost: " + e.getMessage();
        if (state.transactionNode() == b.node() || bound == b) {
            // the transaction (or the unfinished pipeline) died with its node: end the client's session, as
            // PostgreSQL would, rather than let a later COMMIT answer "no transaction in progress" and succeed
            terminated = true;
            out.write(Msg.fatal("08006", message));
            out.flush();
            return;
        }
        error("08006", message);
    }

    private void lostQuietly(BackendConnection b, IOException e) {
        server.sessionListener().backendFailed(b.node());
        b.markBroken();
        server.topology().onTrafficError(b.node(), BackendPool.asSqlException(b.node(), e));
        drop(b);
    }

    private void drop(BackendConnection b) {
        held.remove(b.node(), b);
        b.close();
    }

    /** The client left: every backend goes back to its pool (reset if the session changed server state). */
    void close() {
        for (BackendConnection b : held.values()) {
            // a BEGIN the proxy answered and never sent left no backend inside a transaction
            boolean idleThere = status == 'I' || (deferredBegin != null && !state.inTransaction());
            server.pool().release(b, state.dirty() || !replay.isEmpty() || !b.applied.isEmpty(),
                    b != bound && idleThere);
        }
        held.clear();
    }

    /** Cancels what the client runs now (a CancelRequest with this session's key). */
    void cancel() {
        cancel(true);
    }

    /**
     * The client hung up while a statement of its ran: it is cancelled, so it does not keep its backend busy; a read
     * pipelined with other clients' is only cancelled where that touches no one else's ({@link #cancelPipelined}).
     */
    void hungUp() {
        cancel(false);
    }

    private void cancel(boolean mayClose) {
        BackendConnection b = running;
        if (b == null) {
            return;
        }
        if (pipelinedOn == b) {
            b.eventLoop().execute(() -> cancelPipelined(b, mayClose));
            return;
        }
        b.cancel((int) server.config().connectTimeout().toMillis());
    }

    // ---------------------------------------------------------------------------------------------
    // readsplit.* commands (answered by ReadsplitCommands)

    /** The session's causal token ("" when it has none), taking the position from the primary if a write is pending. */
    @Override
    public String token() throws IOException, BackendConnection.BackendError, SQLException {
        CausalPosition p = state.causal();
        if (p == null || p.isEmpty()) {
            return "";
        }
        if (p.pending()) {
            resolveCausalPosition();
        }
        return new CausalToken(server.systemIdentifier(), p.lsn()).export();
    }

    // ---------------------------------------------------------------------------------------------
    // replies of the proxy itself

    @Override
    public void complete(String tag) {
        out.write(Msg.commandComplete(tag));
        out.write(Msg.ready(status));
        out.flush();
    }

    /**
     * An error of the proxy's own, then ReadyForQuery with the session's status. Inside a transaction it fails that
     * transaction, as PostgreSQL's own error would ({@link #errorSent}). Off the event loop when the client is in a
     * transaction on a backend.
     */
    @Override
    public void error(String sqlState, String message) {
        error(Msg.error(sqlState, message));
    }

    /** Sends {@code errorResponse}, fails the client's transaction if it is in one, then ReadyForQuery. */
    private void error(Msg errorResponse) {
        out.write(errorResponse);
        errorSent();
        out.write(Msg.ready(status));
        out.flush();
    }

    static final String ABORTED = "25P02";
    static final String ABORTED_MESSAGE = "current transaction is aborted, commands ignored until end of transaction block";
    /**
     * What fails a client's transaction on its backend after the proxy's own error there: a statement that fails
     * wherever it runs (a replica, a read-only transaction), whose text says why in the server's log.
     */
    static final String FAIL_TRANSACTION = "SELECT 'readsplit proxy: the transaction failed with an error of the proxy''s own'::int";

    /**
     * The proxy has sent the client an error of its own. Inside a transaction that fails the transaction, as on
     * PostgreSQL: its statements are refused with 25P02 until it ends, its COMMIT rolls it back, a ROLLBACK TO SAVEPOINT
     * recovers it. On a backend, the backend's transaction is made to fail with {@link #FAIL_TRANSACTION}, so the server
     * answers all that itself; before its {@code BEGIN} was sent, the proxy answers it
     * ({@link #inFailedDeferredTransaction}). Blocks when the transaction is on a backend.
     */
    @Override
    public void errorSent() {
        if (status != 'T') {
            return; // outside a transaction, or one the backend has failed already
        }
        if (deferredBegin != null) {
            deferredFailed = true;
            status = 'E';
            return;
        }
        Node node = state.transactionNode();
        BackendConnection b = node == null ? null : held.get(node);
        if (b == null || b.broken()) {
            return; // its backend is gone: the session learns it at the transaction's next statement
        }
        if (b.eventLoop().inEventLoop()) {
            // every caller runs on a worker (onLoop hands such steps over): blocking here would never return
            log.warn("{} proxy: an error inside a transaction was answered on the event loop; the transaction on {}"
                    + " is not failed", ds.name(), node.name());
            return;
        }
        try {
            b.queryValue(FAIL_TRANSACTION);
        } catch (BackendConnection.BackendError e) {
            status = 'E'; // what was meant: the backend's transaction is failed now
        } catch (IOException e) {
            lostQuietly(b, e);
            terminated = true; // the transaction died with its backend, as in lost()
            out.write(Msg.fatal("08006", ds.name() + ": the connection to " + node.name() + " was lost: "
                    + e.getMessage()));
            return;
        } finally {
            b.prepared.remove(""); // a simple query destroys the unnamed statement
        }
    }

    /**
     * A statement ({@code sql}, simple query) or pipeline ({@code batch}, up to its Sync) in a transaction the proxy's
     * own error failed before its {@code BEGIN} was sent: as PostgreSQL answers in a failed transaction, its end
     * ({@code COMMIT}, {@code END}, {@code ROLLBACK}, {@code ABORT}) is answered {@code ROLLBACK} and ends it; a
     * {@code ROLLBACK TO SAVEPOINT} fails with 3B001 (nothing ran, so no savepoint exists), and a Parse of such a
     * statement under a name the session holds with 42P05; anything else is refused with 25P02.
     */
    private void inFailedDeferredTransaction(String sql, List<Msg> batch) {
        if (sql != null) {
            java.util.regex.Matcher to;
            if (PLAIN_END.matcher(sql).matches()) {
                endDeferred();
                status = 'I';
                complete("ROLLBACK");
            } else if ((to = ROLLBACK_TO.matcher(sql)).matches()) {
                noSuchSavepoint(to.group(1));
            } else {
                error(ABORTED, ABORTED_MESSAGE);
            }
            return;
        }
        LeadingBegin.Found found = LeadingBegin.find(batch, statements);
        java.util.regex.Matcher to = found == null ? null : ROLLBACK_TO.matcher(found.sql());
        boolean end = found != null && PLAIN_END.matcher(found.sql()).matches();
        if (found != null && found.messages() == batch.size() && (end || to.matches())) {
            String name = batch.get(0).type() == 'P' ? batch.get(0).cstring(0) : "";
            if (!name.isEmpty() && statements.containsKey(name)) {
                // a statement that ends the transaction passes the failed transaction's check, then its name is
                // refused as PostgreSQL refuses it anywhere, and the transaction stays failed
                error(Msg.alreadyPrepared(name));
                return;
            }
            for (Msg m : batch) {
                if (m.type() == 'P') {
                    statements.put(m.cstring(0), m.body());
                }
            }
            if (end) {
                LeadingBegin.answer(batch, "ROLLBACK", out);
                endDeferred();
                status = 'I';
                out.write(Msg.ready(status));
                out.flush();
            } else {
                LeadingBegin.answer(batch.subList(0, batch.size() - 1), "", out); // all but the Execute, which fails
                noSuchSavepoint(to.group(1));
            }
        } else if (batch.isEmpty()) {
            out.write(Msg.ready(status));
            out.flush();
        } else {
            error(ABORTED, ABORTED_MESSAGE);
        }
    }

    /** PostgreSQL's error for a {@code ROLLBACK TO} a savepoint that does not exist ({@code token} as written). */
    private void noSuchSavepoint(String token) {
        String name = token.startsWith("\"") ? token.substring(1, token.length() - 1).replace("\"\"", "\"")
                : token.toLowerCase(java.util.Locale.ROOT);
        error("3B001", "savepoint \"" + name + "\" does not exist");
    }

    private void routingFailed(Exception e) {
        if (readOnlyTransaction && !state.inTransaction()) {
            readOnlyTransaction = false;
            state.readOnly(false);
        }
        String sqlState = e instanceof SQLException se && se.getSQLState() != null ? se.getSQLState() : "08006";
        if (e instanceof BackendConnection.BackendError be && be.sqlState != null) {
            sqlState = be.sqlState;
        }
        error(sqlState, e.getMessage());
    }

    static String quoteIdent(String s) {
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    static String quoteLiteral(String s) {
        return "'" + s.replace("'", "''") + "'";
    }


    private static String abbreviate(String sql) {
        if (sql == null) {
            return "(no SQL)";
        }
        String s = sql.replaceAll("\\s+", " ").trim();
        return s.length() > 120 ? s.substring(0, 117) + "..." : s;
    }

    /** A client error during startup, sent as a FATAL ErrorResponse. */
    static final class ProtocolError extends Exception {
        final String sqlState;

        ProtocolError(String sqlState, String message) {
            super(message);
            this.sqlState = sqlState;
        }
    }
}

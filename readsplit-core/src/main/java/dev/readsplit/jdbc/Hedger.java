package dev.readsplit.jdbc;

import dev.readsplit.routing.Attempt;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Operation;
import dev.readsplit.routing.Requirement;
import dev.readsplit.routing.RouteCounters;
import dev.readsplit.routing.Router;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.SqlStates;
import dev.readsplit.cluster.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Hedged reads and in-flight stall detection for one data source (docs/failover.md, "Hedged reads"). One scanner
 * thread looks at every logical connection's {@link InFlightRead} each tick: a statement running past its node's
 * {@linkplain HedgeBudgets budget} on a node that finished nothing for as long marks that node <em>stalled</em> (the
 * replica selector sends new reads elsewhere while another replica can take them); an autocommit replica read that is
 * safe to run twice and is past its budget is <em>hedged</em>: routed again without its node, run on a hedge thread on
 * a connection borrowed from the other node's pool; the first answer wins, the loser's physical connection is aborted
 * and evicted. A hedge that wins tells the topology ({@link Topology#onHedgeWon}): the slow node turns SUSPECT and is
 * checked at once, so new reads stop landing there. Hedges are bounded by {@link HedgeTokens}.
 *
 * <p>A read never waits for this class: it writes a few fields of its connection's slot and does one CAS when it ends.
 * Nothing is scheduled per read.
 *
 * <h2>Threads</h2>
 * {@code readsplit-hedge-<name>} (the scanner, one daemon thread, started with the data source's first logical
 * connection: a data source that only serves the proxy, or is never used, has none) and {@code readsplit-hedge-<name>-N}
 * (the hedges: at most {@code burst} at once, created on demand, ended after 30 s idle), all stopped by {@link #close()}.
 */
final class Hedger implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Hedger.class);

    private final ReadsplitDataSource ds;
    private final HedgeSettings settings;
    private final LongSupplier ticker;
    /** Every open logical connection's slot: added and removed once per logical connection, without allocating. */
    private final dev.readsplit.concurrent.HeldSet<InFlightRead> reads = new dev.readsplit.concurrent.HeldSet<>();
    private final HedgeBudgets budgets;
    private final HedgeTokens tokens;
    /** Whether the scanner runs on its own thread (else tests call {@link #scan()}). */
    private final boolean schedule;
    /** The scanner, once the first logical connection registered (null before, and when not scheduled). */
    private volatile ScheduledExecutorService scanner;
    /** Set by {@link #close()}: no scanner starts after it. Guarded by {@code this.hedges}. */
    private boolean closed;
    private final ThreadPoolExecutor hedges;
    private final long borrowWaitMillis;
    /** Nodes with a statement past budget in the current scan (scanner thread only). */
    private final Set<Node> pastBudget = Collections.newSetFromMap(new IdentityHashMap<>());
    /** Every tick while statements run, once a second when none has for a second. */
    private final ScanPacing pacing;
    /** The scanner's next look, and the chain it belongs to (a wake-up starts a new one). Guarded by {@code hedges}. */
    private java.util.concurrent.ScheduledFuture<?> nextScan;
    private long scanChain;
    /** How many times a starting statement woke the parked scanner. Guarded by {@code hedges}. */
    private long wakeUps;

    /**
     * @param ticker   nanoseconds, as {@link System#nanoTime()} (tests pass their own)
     * @param schedule whether the scanner runs on its own thread every tick (tests call {@link #scan()} themselves)
     */
    Hedger(ReadsplitDataSource ds, HedgeSettings settings, LongSupplier ticker, boolean schedule) {
        this.ds = ds;
        this.settings = settings;
        this.ticker = ticker;
        this.budgets = new HedgeBudgets(settings);
        this.tokens = new HedgeTokens(settings.maxShare(), settings.burst());
        this.borrowWaitMillis = Math.max(250, Math.min(ds.config().pool().connectionTimeout().toMillis(),
                ds.config().health().timeout().toMillis()));
        this.hedges = new ThreadPoolExecutor(0, settings.burst(), 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                named("readsplit-hedge-" + ds.name() + "-"));
        this.schedule = schedule;
        this.pacing = new ScanPacing(settings.tickNanos());
    }

    /** A slot for a new logical connection's executions (the first one starts the scanner). */
    InFlightRead register(LogicalConnection connection) {
        InFlightRead r = new InFlightRead(connection);
        reads.add(r);
        if (schedule && scanner == null) {
            startScanner();
        }
        return r;
    }

    private void startScanner() {
        synchronized (hedges) {
            if (scanner != null || closed) {
                return;
            }
            ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, named("readsplit-hedge-" + ds.name()));
            s.setRemoveOnCancelPolicy(true);
            scanner = s;
            scheduleScan(++scanChain, settings.tickNanos());
        }
    }

    /** Schedules the next look of chain {@code chain} (under {@code hedges}; nothing once closed). */
    private void scheduleScan(long chain, long delayNanos) {
        if (closed || scanner == null || scanner.isShutdown()) {
            return;
        }
        try {
            nextScan = scanner.schedule(() -> tick(chain), delayNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // shut down meanwhile
        }
    }

    /** One look of the scanner thread, then the next at the pace the look calls for, unless a wake-up replaced it. */
    private void tick(long chain) {
        boolean active = true;
        try {
            active = scan();
        } catch (RuntimeException e) {
            log.warn("{}: hedge scan failed: {}", ds.name(), e.toString());
        }
        synchronized (hedges) {
            if (chain == scanChain) {
                scheduleScan(chain, pacing.afterScan(active));
            }
        }
    }

    /**
     * A statement is starting (its slot is published): if the scanner is parked, it goes back to looking every tick,
     * from one tick from now. One volatile read when it is not.
     */
    void executionBegan() {
        if (pacing.parked()) {
            synchronized (hedges) {
                if (pacing.wake()) {
                    wakeUps++;
                    if (nextScan != null) {
                        nextScan.cancel(false);
                    }
                    scheduleScan(++scanChain, settings.tickNanos());
                }
            }
        }
    }

    /** Whether the scanner looks only once a second now (nothing ran for a second; for tests and status). */
    boolean parked() {
        return pacing.parked();
    }

    /** How many times a starting statement woke the parked scanner (for tests). */
    long wakeUps() {
        synchronized (hedges) {
            return wakeUps;
        }
    }

    /** Whether the scanner thread has been started (and not stopped by {@link #close()}). */
    boolean scanning() {
        ScheduledExecutorService s = scanner;
        return s != null && !s.isShutdown();
    }

    void unregister(InFlightRead r) {
        reads.remove(r);
    }

    /** The ticker's now (reads stamp their start with it). */
    long now() {
        return ticker.getAsLong();
    }

    HedgeSettings settings() {
        return settings;
    }

    /** The hedges the share allows right now (for tests and status). */
    double tokensAvailable() {
        return tokens.available();
    }

    /**
     * One look at every running statement (the scanner's tick). Returns whether it found one running or a node
     * stalled (then the scanner keeps its pace, {@link ScanPacing}).
     */
    synchronized boolean scan() {
        boolean active = false;
        long now = now();
        Topology topology = ds.cluster();
        List<Node> nodes = topology.nodes();
        budgets.refresh(nodes, now);
        long served = 0;
        for (int i = 0, n = nodes.size(); i < n; i++) {
            served += nodes.get(i).readsServed();
        }
        tokens.reads(served);
        RouteCounters counters = ds.router().counters();
        for (InFlightRead r : reads) {
            InFlightRead.Snapshot s = r.snapshot();
            if (s == null) {
                continue;
            }
            active = true;
            Node node = s.node();
            long budget = budgets.budgetNanos(node);
            if (now - s.startNanos() <= budget) {
                continue;
            }
            if (!budgets.progressedWithin(node, now, budget)) {
                pastBudget.add(node);
            }
            if (s.hedgeCandidate() && s.running()) {
                r.considered(s);
                if (!tokens.take()) {
                    counters.hedgeDenied();
                    continue;
                }
                // a node still finishing other statements is slow, not hung: a hedge that beats it asks for a check of
                // it, but only a node that finished nothing for half the budget turns SUSPECT at the hedge's win
                boolean hung = !budgets.progressedWithin(node, now, budget / 2);
                if (!start(r, s, now - s.startNanos(), budget, hung)) {
                    tokens.refund();
                }
            }
        }
        for (int i = 0, n = nodes.size(); i < n; i++) {
            Node node = nodes.get(i);
            boolean stalled = pastBudget.contains(node);
            active |= stalled || node.stalled();
            if (node.stalled() != stalled) {
                node.stalled(stalled);
                log.debug("{}: {} {}", ds.name(), node.name(), stalled ? "has statements stalled past their latency"
                        + " budget: new reads go elsewhere" : "answers again: no statement is past its budget");
            }
        }
        pastBudget.clear();
        return active;
    }

    /** Claims and routes one hedge, and hands it to a hedge thread. False if none was started (token unused). */
    private boolean start(InFlightRead r, InFlightRead.Snapshot s, long elapsedNanos, long budgetNanos, boolean hung) {
        InFlightRead.Claim c = r.claim(s);
        if (c == null) {
            return false;
        }
        Decision d;
        try {
            d = ds.router().route(r.connection.session(), c.classification(), c.sql(), Operation.STATEMENT,
                    Attempt.HEDGE, c.node(), Router.RESOLVED_POSITION);
        } catch (RuntimeException e) {
            r.unclaim(c.seq());
            return false;
        }
        Node target = d.node();
        if (d.requirement() != Requirement.NONE || target == null || target == c.node()) {
            // nowhere else to go now (one replica and no fallback, a replay wait, the write gate): the read goes on alone
            r.unclaim(c.seq());
            return false;
        }
        try {
            hedges.execute(() -> run(r, c, d, elapsedNanos, budgetNanos, hung));
        } catch (RejectedExecutionException e) {
            r.unclaim(c.seq()); // every hedge thread is busy (or closing): bounded, never queued
            return false;
        }
        ds.router().counters().hedgeStarted();
        return true;
    }

    /** Runs a claimed read on {@code d}'s node (a hedge thread). */
    private void run(InFlightRead r, InFlightRead.Claim c, Decision d, long elapsedNanos, long budgetNanos,
                     boolean hung) {
        Node target = d.node();
        LogicalConnection conn = r.connection;
        Connection hc = null;
        Statement hs = null;
        boolean handedOver = false;
        try {
            hc = target.borrow(borrowWaitMillis);
            target.track(hc);
            if (!r.hedgeConnection(c.seq(), hc)) {
                return; // the caller answered meanwhile
            }
            conn.settings.applyTo(hc, conn.physicals().needsReadOnlyFlag(target));
            hs = c.statement().create(hc);
            c.statement().applySettings(hs);
            long t0 = System.nanoTime();
            int begun = target.beginStatement();
            Object result;
            try {
                result = c.execution().run(hs);
            } finally {
                target.endStatement(begun, System.nanoTime() - t0, true);
            }
            if (r.hedgeWon(new InFlightRead.Answer(c.seq(), target, hs, hc, result, d))) {
                handedOver = true;
                ds.router().counters().hedgeWon();
                ds.cluster().onHedgeWon(c.node(), hung, "a read had no answer after " + millis(elapsedNanos)
                        + " ms (latency budget " + millis(budgetNanos) + " ms) and the node finished nothing for "
                        + millis(budgetNanos / 2) + " ms; its hedge on " + target.name() + " answered first");
                abortQuietly(c.physicalConnection()); // the caller's statement is stuck there: it returns at once
                return;
            }
            closeQuietly(result);
        } catch (SQLException e) {
            if (r.stillHedged(c.seq()) && SqlStates.isConnectionLevel(e)
                    && !(e instanceof SQLTransientConnectionException && e.getCause() == null)) {
                ds.cluster().onTrafficError(target, e); // the hedge's own node failed (not our abort of it)
            }
            if (r.stillHedged(c.seq())) {
                ds.router().counters().hedgeFailed(); // (else the caller answered first: counted as lost)
            }
        } catch (RuntimeException e) {
            // the caller answered and went on while this read its statement's state: the answer is dropped anyway
            ds.router().counters().hedgeFailed();
        } finally {
            if (!handedOver) {
                r.unclaim(c.seq());
                if (hs != null) {
                    closeQuietly(hs);
                }
                if (hc != null) {
                    // it may have been aborted by the caller, or hold the session's settings: never pooled again
                    target.untrack(hc);
                    target.pool().evictConnection(hc);
                    PhysicalConnections.closeQuietly(hc);
                }
            }
        }
    }

    /**
     * Gives back the connection a winning hedge borrowed, once the logical statement is done with its results: to
     * the pool, or evicted if the session's SQL settings were replayed onto it ({@code dirty}).
     */
    static void release(Node node, Statement s, Connection c, boolean dirty) {
        if (s != null) {
            closeQuietly(s);
        }
        node.untrack(c);
        if (dirty) {
            node.pool().evictConnection(c);
        }
        PhysicalConnections.closeQuietly(c);
    }

    /** Closes the socket of a physical connection whose statement lost (a hung server never answers a cancel). */
    static void abortQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.abort(Runnable::run);
        } catch (SQLException | RuntimeException ignored) {
            // already closed or broken
        }
    }

    private static void closeQuietly(Object o) {
        if (o instanceof AutoCloseable a) {
            try {
                a.close();
            } catch (Exception ignored) {
                // a result nobody will read
            }
        }
    }

    private static long millis(long nanos) {
        return nanos / 1_000_000L;
    }

    /** Stops the scanner and the hedges (running hedges are left to end; their answers are dropped). */
    @Override
    public void close() {
        synchronized (hedges) {
            closed = true;
            if (scanner != null) {
                scanner.shutdownNow();
            }
        }
        hedges.shutdownNow();
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        boolean numbered = prefix.endsWith("-");
        return r -> {
            Thread t = new Thread(r, numbered ? prefix + n.incrementAndGet() : prefix);
            t.setDaemon(true);
            return t;
        };
    }
}

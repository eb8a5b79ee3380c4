package dev.readsplit.health;

import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.SqlStates;
import dev.readsplit.cluster.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Checks every node every {@code healthCheckInterval}: reachable within {@code healthCheckTimeout}, its
 * role ({@code pg_is_in_recovery()}), its timeline and WAL position, and for replicas their lag. Results go
 * through the {@link Topology}'s funnel, which owns the state machine; lag goes through {@link LagTracker}.
 *
 * <h2>Threads</h2>
 * One scheduler thread ({@code readsplit-health-<name>}) ticks; each node's check runs on a worker from a
 * cached pool ({@code readsplit-check-<name>-N}); a node whose previous check is still running is not
 * checked again, so at most one worker per node is ever busy and a slow or hung node never delays the
 * checks of the others. Checks never run on a caller's thread: a traffic error only asks for one
 * ({@link Topology#onTrafficError}).
 *
 * <h2>Timeouts</h2>
 * Each tick is also a watchdog: a check still running {@code healthCheckTimeout} after it started counts
 * as a failure at once ("no answer within ..."), its connection is aborted, and its late result, if any, is
 * ignored; if it is still stuck one more timeout later, that is another failure. So a hung server (SIGSTOP)
 * reaches DOWN after {@code failureThreshold} timeouts, however the driver's own socket timeouts behave
 * (pgjdbc's are whole seconds, and a TCP connect to a stopped server succeeds from the listen backlog).
 *
 * <h2>Rapid re-checks</h2>
 * A check of the primary that fails definitively (see {@link SqlStates#isDefinitiveLoss}) is followed by another
 * a tenth of an interval later, until DOWN or an answer: see {@link #rapidRecheck}. A live statement's definitive
 * error makes the node SUSPECT and asks for an immediate check ({@link Topology#onTrafficError}), which starts it.
 *
 * <h2>Time</h2>
 * Deadlines and check timestamps come from the injected {@link Clock}; response times are measured with
 * {@link System#nanoTime()} (durations, not instants).
 */
public final class HealthChecker implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(HealthChecker.class);

    private final Topology topology;
    private final ReadsplitConfig config;
    private final Clock clock;
    private final Probe probe;
    private final ScheduledExecutorService scheduler;
    private final ExecutorService workers;
    private final Map<Node, Slot> slots = new ConcurrentHashMap<>();
    private final LagTracker lag;
    /** Patroni's view, polled beside the checks when {@code topologySource=patroni}; null otherwise. */
    private final PatroniWatcher patroni;
    private volatile boolean closed;

    /** One node's check bookkeeping: at most one {@link Run} at a time. */
    private static final class Slot {
        final AtomicBoolean busy = new AtomicBoolean();
        volatile Run current;
    }

    /** One check in flight. Exactly one of the worker and the watchdog reports its first outcome. */
    private static final class Run {
        final AtomicBoolean reported = new AtomicBoolean();
        volatile long deadlineMillis;
        volatile boolean timedOut;

        Run(long deadlineMillis) {
            this.deadlineMillis = deadlineMillis;
        }
    }

    public HealthChecker(Topology topology, Clock clock) {
        this(topology, clock, new JdbcProbe(topology.config()));
    }

    HealthChecker(Topology topology, Clock clock, Probe probe) {
        this.topology = topology;
        this.config = topology.config();
        this.clock = clock;
        this.probe = probe;
        this.lag = new LagTracker(topology);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(named("readsplit-health-" + config.name()));
        this.workers = Executors.newCachedThreadPool(named("readsplit-check-" + config.name()));
        this.patroni = config.topology().source() == dev.readsplit.config.TopologySource.PATRONI
                ? new PatroniWatcher(topology) : null;
        topology.urgentCheck(this::checkNow);
    }

    public void start() {
        long interval = config.health().interval().toMillis();
        scheduler.scheduleWithFixedDelay(this::tick, 0, interval, TimeUnit.MILLISECONDS);
        if (patroni != null) {
            patroni.start();
        }
    }

    /** Runs a check of every node whose previous check has finished (asynchronously), and the watchdog. */
    public void checkAllNow() {
        tick();
    }

    void tick() {
        if (closed) {
            return;
        }
        try {
            for (Node n : topology.nodes()) {
                checkNow(n);
            }
        } catch (RuntimeException e) {
            // never let an exception cancel the periodic task
            log.warn("{}: health check tick failed", config.name(), e);
        }
    }

    /**
     * Whether a check of any node is running now: a traffic error's immediate check, a tick's, a rapid re-check. What
     * a caller that changes a node's state by hand waits out first, so that a check still in flight cannot overwrite it.
     */
    public boolean checking() {
        for (Slot slot : slots.values()) {
            if (slot.busy.get()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Starts a check of {@code node} unless one is running; if the running one is past its deadline,
     * counts a timeout failure instead.
     */
    public void checkNow(Node node) {
        if (closed) {
            return;
        }
        Slot slot = slots.computeIfAbsent(node, k -> new Slot());
        if (!slot.busy.compareAndSet(false, true)) {
            watchdog(node, slot);
            return;
        }
        Run run = new Run(clock.millis() + config.health().timeout().toMillis());
        slot.current = run;
        try {
            workers.execute(() -> {
                try {
                    check(node, run);
                } finally {
                    slot.current = null;
                    slot.busy.set(false);
                }
            });
        } catch (RejectedExecutionException shuttingDown) {
            slot.current = null;
            slot.busy.set(false);
        }
    }

    private void watchdog(Node node, Slot slot) {
        Run run = slot.current;
        long now = clock.millis();
        if (run == null || now < run.deadlineMillis) {
            return;
        }
        run.deadlineMillis = now + config.health().timeout().toMillis();
        boolean first = run.reported.compareAndSet(false, true);
        if (first || run.timedOut) {
            run.timedOut = true;
            topology.checkFailed(node, "no answer within " + config.health().timeout().toMillis() + " ms", now);
            if (first) {
                try {
                    workers.execute(() -> probe.abort(node));
                } catch (RejectedExecutionException shuttingDown) {
                    // closing: the connections are dropped by close()
                }
            }
        }
    }

    /** One check of one node, on the calling thread; its outcome is reported unless the watchdog did first. */
    private void check(Node node, Run run) {
        long start = System.nanoTime();
        int replayGeneration = node.replayGeneration(); // an answer from before a reset is not recorded
        Probe.Observation o;
        try {
            o = probe.check(node);
        } catch (SQLException e) {
            probe.abort(node);
            if (run.reported.compareAndSet(false, true)) {
                topology.checkFailed(node, SqlStates.describe(e), clock.millis());
                if (SqlStates.isDefinitiveLoss(e)) {
                    rapidRecheck(node);
                }
            }
            return;
        } catch (RuntimeException e) {
            probe.abort(node);
            if (run.reported.compareAndSet(false, true)) {
                log.warn("{}: health check of {} failed unexpectedly", config.name(), node.name(), e);
                topology.checkFailed(node, e.toString(), clock.millis());
            }
            return;
        }
        long elapsed = Math.max(1, System.nanoTime() - start - o.connectNanos()); // the node's answer, not our connect
        if (!run.reported.compareAndSet(false, true)) {
            return; // too late: the watchdog already counted this check as a timeout
        }
        if (o.replication()) {
            Role role = o.inRecovery() ? Role.REPLICA : Role.PRIMARY;
            topology.observeRole(node, role, o.timeline());
            if (o.inRecovery()) {
                node.observeReplayLsn(o.lsn(), replayGeneration);
                lag.replicaObserved(node, o.lsn(), o.lagMillis(), o.receiver());
            } else {
                node.observeWalLsn(o.lsn(), clock.millis());
                lag.primaryObserved(node, o.lsn());
            }
        }
        topology.checkSucceeded(node, elapsed, clock.millis());
    }

    /**
     * A definitive failure of the write target (refused, server shutting down or crashed, connection closed under
     * it): it is checked again after {@link #rapidRecheckMillis()} instead of at the next tick, until it answers or
     * reaches {@code failureThreshold} (DOWN). So a dead primary is DOWN in about {@code failureThreshold - 1} rapid
     * intervals (200 ms at the defaults) instead of {@code failureThreshold} check intervals. A timeout is never
     * definitive (a paused or overloaded server, a partition): it keeps the watchdog's pace of one failure per
     * {@code healthCheckTimeout}, so a pause is still a suspicion for the whole threshold. Replicas keep their pace:
     * reads have other places to go.
     */
    private void rapidRecheck(Node node) {
        if (closed || node != topology.primary() || node.state() == dev.readsplit.topology.NodeState.DOWN
                || node.state() == dev.readsplit.topology.NodeState.FENCED) {
            return;
        }
        try {
            scheduler.schedule(() -> checkNow(node), rapidRecheckMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            // closing
        }
        if (patroni != null) {
            patroni.pollSoon(); // a switchover or failover under Patroni: follow its leader change at the same pace
        }
    }

    /** The pace of re-checks after a definitive failure of the primary: a tenth of the interval, 20 ms at least. */
    long rapidRecheckMillis() {
        return Math.max(20, config.health().interval().toMillis() / 10);
    }

    @Override
    public void close() {
        closed = true;
        if (patroni != null) {
            patroni.close();
        }
        scheduler.shutdownNow();
        workers.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Node n : topology.nodes()) {
            probe.abort(n);
        }
        for (Node n : slots.keySet()) {
            probe.abort(n); // nodes removed while their check was running
        }
    }

    /** Forgets a node removed from the topology: closes its check connection. */
    public void forget(Node node) {
        slots.remove(node);
        lag.forget(node);
        probe.abort(node);
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}

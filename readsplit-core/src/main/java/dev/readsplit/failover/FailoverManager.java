package dev.readsplit.failover;

import dev.readsplit.config.FailoverPolicy;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.cluster.Topology;
import dev.readsplit.topology.TopologyEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Supervised failover, switchover and rejoin for one data source ({@code ds.failover()}).
 *
 * <p>With {@link FailoverPolicy#SUPERVISED}, when the primary goes DOWN ({@code failureThreshold} consecutive
 * failed checks) and at least {@code minHealthyReplicas} replicas are UP, the manager elects the replica with the
 * highest replay position (ties: smallest name), promotes it, routes writes to it, fences the old primary
 * (it needs a rebuild) and repoints the other standbys. With {@link FailoverPolicy#NONE} it never promotes on
 * its own; {@link #switchover} and {@link #rejoinAsStandby} work under either policy. Everything it does is told
 * through the topology's events ({@code FAILOVER_STARTED, PROMOTED, PROMOTION_SKIPPED, REPOINTED,
 * FAILOVER_COMPLETED, FAILOVER_FAILED, REJOINED}). See {@code docs/failover.md}.
 *
 * <h2>Threads</h2>
 * One thread ({@code readsplit-failover-<name>}) runs automatic failovers: a topology listener hands it the
 * primary's DOWN transition (listeners must not block), and it also looks every {@code healthCheckInterval} in
 * case the quorum was missing at that moment and is there now. A failed attempt is retried no sooner than
 * {@code failoverStepTimeout} later. A failover, a switchover and a rejoin never run at the same time in one
 * data source (one lock); across data sources see "Never two promoted nodes" in {@link Procedures}.
 */
public final class FailoverManager implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(FailoverManager.class);

    private final Topology topology;
    private final ReadsplitConfig config;
    private final Procedures procedures;
    private final WriteGate gate;
    private final ReentrantLock running = new ReentrantLock();
    private final ScheduledExecutorService thread;
    private volatile FailoverReport lastFailover;
    private volatile long nextAttemptMillis;
    private volatile Node quorumReportedFor;
    private volatile boolean closed;
    private final dev.readsplit.topology.TopologyListener listener = this::onEvent;

    /** The data source's manager; starts its thread only under {@link FailoverPolicy#SUPERVISED}. */
    public FailoverManager(Topology topology, WriteGate gate) {
        this(topology, gate, new JdbcClusterActions(topology.config()));
    }

    FailoverManager(Topology topology, WriteGate gate, ClusterActions actions) {
        this.topology = topology;
        this.config = topology.config();
        this.gate = gate;
        this.procedures = new Procedures(topology, actions, gate);
        if (config.failover().policy() == FailoverPolicy.SUPERVISED) {
            this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "readsplit-failover-" + config.name());
                t.setDaemon(true);
                return t;
            });
            topology.addListener(listener);
            long interval = config.health().interval().toMillis();
            thread.scheduleWithFixedDelay(this::maybeFailover, interval, interval, TimeUnit.MILLISECONDS);
        } else {
            this.thread = null;
        }
        if (config.topology().source() == dev.readsplit.config.TopologySource.PATRONI) {
            topology.addListener(haListener);
        }
    }

    /** Under Patroni: holds writes while Patroni names no leader that is the write target (see Topology). */
    private final dev.readsplit.topology.TopologyListener haListener = this::onHaEvent;

    private void onHaEvent(TopologyEvent e) {
        if (e.kind() == TopologyEvent.Kind.HA_WRITES_HELD) {
            gate.hold(config.pool().connectionTimeout(), e.message());
        } else if (e.kind() == TopologyEvent.Kind.HA_WRITES_RELEASED) {
            gate.release();
        }
    }

    public FailoverPolicy policy() {
        return config.failover().policy();
    }

    /** The write gate the data source's routing consults (held shut during a switchover). */
    public WriteGate writeGate() {
        return gate;
    }

    /** The last supervised failover this data source carried out, or null. */
    public FailoverReport lastFailover() {
        return lastFailover;
    }

    /** Whether a failover, switchover or rejoin is running now. */
    public boolean inProgress() {
        return running.isLocked();
    }

    private void onEvent(TopologyEvent e) {
        FailoverReport last = lastFailover;
        if (e.kind() == TopologyEvent.Kind.FENCED_ANSWERED && last != null && last.promotedHere()
                && last.returnedWithLsn() < 0 && last.oldPrimary().equals(e.node())) {
            try {
                thread.execute(() -> measureLoss(last));
            } catch (RejectedExecutionException closing) {
                // closing
            }
            return;
        }
        if (e.kind() == TopologyEvent.Kind.STATE_CHANGE && NodeState.DOWN.name().equals(e.to())
                && e.node() != null && e.node().equals(topology.primary().name())) {
            try {
                thread.execute(this::maybeFailover);
            } catch (RejectedExecutionException closing) {
                // closing
            }
        }
    }

    /**
     * The old primary of {@code report} answers again: asks it where its WAL ended and reports the exact WAL past the
     * promotion point (event {@code DATA_LOSS_MEASURED}; {@link #lastFailover()} carries it from then on).
     */
    void measureLoss(FailoverReport report) {
        Node old = topology.node(report.oldPrimary());
        if (old == null || lastFailover != report) {
            return;
        }
        try {
            FailoverReport measured = report.withReturnedLsn(procedures.endOfWal(old));
            lastFailover = measured;
            String msg = Procedures.exactLossReport(measured);
            log.warn("{}: {}", config.name(), msg);
            topology.publish(new TopologyEvent(topology.clock().instant(), TopologyEvent.Kind.DATA_LOSS_MEASURED,
                    old.name(), Lsn.format(report.promotedLsn()), Lsn.format(measured.returnedWithLsn()), msg));
        } catch (java.sql.SQLException | RuntimeException e) {
            log.info("{}: could not ask {} where its WAL ended (it answers the health checks): {}", config.name(),
                    old.name(), e.getMessage());
        }
    }

    /** Runs a failover if the primary is DOWN, the quorum is there and nothing else is running. */
    void maybeFailover() {
        if (closed) {
            return;
        }
        try {
            Node primary = topology.primary();
            if (primary.state() != NodeState.DOWN) {
                quorumReportedFor = null;
                return;
            }
            long now = topology.clock().millis();
            if (now < nextAttemptMillis || !running.tryLock()) {
                return;
            }
            try {
                if (topology.primary() != primary || primary.state() != NodeState.DOWN) {
                    return;
                }
                int healthy = procedures.healthyReplicas().size();
                if (healthy < config.failover().minHealthyReplicas()) {
                    if (quorumReportedFor != primary) {
                        quorumReportedFor = primary;
                        String msg = "primary " + primary.name() + " is DOWN but only " + healthy + " replicas are"
                                + " healthy, fewer than minHealthyReplicas (" + config.failover().minHealthyReplicas()
                                + "): not promoting; waiting for the quorum or an operator";
                        log.error("{}: {}", config.name(), msg);
                        topology.publish(new TopologyEvent(topology.clock().instant(),
                                TopologyEvent.Kind.FAILOVER_FAILED, primary.name(), FailoverStep.QUORUM.name(), null, msg));
                    }
                    return;
                }
                lastFailover = procedures.failover();
            } finally {
                running.unlock();
            }
        } catch (FailoverException e) {
            nextAttemptMillis = topology.clock().millis() + config.failover().stepTimeout().toMillis();
        } catch (RuntimeException e) {
            nextAttemptMillis = topology.clock().millis() + config.failover().stepTimeout().toMillis();
            log.error("{}: supervised failover attempt failed unexpectedly", config.name(), e);
        }
    }

    /**
     * Planned switchover to {@code target}: holds new writes at this data source, waits until the target has
     * replayed the primary's current WAL position, fences the old primary and sets it read-only
     * ({@code default_transaction_read_only}; Readsplit cannot stop a remote server: the operator must shut it
     * down, then rebuild or {@code pg_rewind} it as a standby), promotes the target, routes writes to it, resumes
     * writes and repoints the other standbys. Writes from other clients (or other Readsplit instances) are not
     * held: stop them, or use {@link #switchover(String, Duration, OldPrimaryStopper)}, which stops the old
     * primary so that nothing more can be written there.
     *
     * @param timeout bound of the whole switchover (and of how long writes are held)
     * @throws FailoverException when a step fails; nothing is promoted and the old primary is given back its writes
     */
    public SwitchoverReport switchover(String target, Duration timeout) {
        return switchover(target, timeout, null);
    }

    /**
     * As {@link #switchover(String, Duration)}, but the old primary is taken out of service by {@code stopper}
     * once the target has caught up (a fast shutdown: the target receives every WAL record the old primary wrote).
     */
    public SwitchoverReport switchover(String target, Duration timeout, OldPrimaryStopper stopper) {
        checkOpen();
        lockOrThrow(FailoverStep.SWITCHOVER);
        try {
            return procedures.switchover(target, timeout, stopper);
        } finally {
            running.unlock();
        }
    }

    /**
     * Re-admits a fenced old primary once it has been rebuilt as a standby of the current primary (see
     * {@code docs/failover.md}; the embedded cluster's {@code rebuildAsStandby} does it for tests): waits until it
     * reports itself a standby streaming from the current primary, then unfences it; it takes reads again after
     * its next successful health check.
     *
     * @throws FailoverException when it is not such a standby within {@code timeout} (it stays fenced)
     */
    public void rejoinAsStandby(String name, Duration timeout) {
        checkOpen();
        lockOrThrow(FailoverStep.REJOIN);
        try {
            procedures.rejoin(name, timeout);
        } finally {
            running.unlock();
        }
    }

    private void lockOrThrow(FailoverStep step) {
        try {
            if (!running.tryLock(config.failover().stepTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                throw new FailoverException(dev.readsplit.ReadsplitException.Reason.FAILOVER_IN_PROGRESS, step,
                        config.name() + ": another failover or switchover is running");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FailoverException(step, config.name() + ": interrupted");
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(config.name() + ": data source is closed");
        }
    }

    @Override
    public void close() {
        closed = true;
        topology.removeListener(haListener);
        gate.release();
        if (thread != null) {
            topology.removeListener(listener);
            thread.shutdownNow();
            try {
                thread.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

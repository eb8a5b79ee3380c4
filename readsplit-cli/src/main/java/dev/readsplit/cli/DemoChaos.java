package dev.readsplit.cli;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Injects faults on a schedule, on its own thread ({@code readsplit-demo-chaos}), announcing each one in the
 * event log. Every step runs to completion (a restart waits until the server accepts connections); the
 * schedule is expressed as fractions of a cycle so a short run still sees every fault and some recovery.
 *
 * <ul>
 * <li>{@code replica}: kill a standby (SIGKILL), restart it, pause another (SIGSTOP: up but silent), resume
 * it; the cycle repeats.</li>
 * <li>{@code primary}: stop the primary, then promote a standby as an HA manager (Patroni, repmgr, a cloud
 * service) would; once.</li>
 * </ul>
 */
final class DemoChaos implements Runnable {

    enum Mode { NONE, REPLICA, PRIMARY }

    private final EmbeddedCluster cluster;
    private final ReadsplitDataSource ds;
    private final Mode mode;
    private final Duration cycle;
    private final DemoEvents events;
    private final CountDownLatch stop = new CountDownLatch(1);
    private final Thread thread;

    DemoChaos(EmbeddedCluster cluster, ReadsplitDataSource ds, Mode mode, Duration cycle, DemoEvents events) {
        this.cluster = cluster;
        this.ds = ds;
        this.mode = mode;
        this.cycle = cycle;
        this.events = events;
        this.thread = new Thread(this, "readsplit-demo-chaos");
        thread.setDaemon(true);
    }

    void start() {
        if (mode != Mode.NONE) {
            thread.start();
        }
    }

    /** Stops the schedule and waits for a step in progress (a restart, a promotion) to finish. */
    void stop() throws InterruptedException {
        stop.countDown();
        if (thread.isAlive()) {
            thread.join(TimeUnit.SECONDS.toMillis(90));
        }
    }

    @Override
    public void run() {
        try {
            if (mode == Mode.PRIMARY) {
                primaryFailover();
            } else {
                replicaFaults();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            events.add("chaos: step failed: " + e.getMessage());
        }
    }

    private void replicaFaults() throws InterruptedException {
        List<EmbeddedNode> standbys = cluster.standbys();
        if (standbys.isEmpty()) {
            events.add("chaos: no replica to disrupt (--replicas 0)");
            return;
        }
        EmbeddedNode victim = standbys.get(0);
        EmbeddedNode sleeper = standbys.get(standbys.size() > 1 ? 1 : 0);
        long start = System.nanoTime();
        for (int round = 0; ; round++) {
            long base = start + round * cycle.toNanos();
            if (!at(base, 0.12)) {
                return;
            }
            events.add("chaos: kill " + victim.name() + " (SIGKILL: as if its host died)");
            victim.kill();
            if (!at(base, 0.35)) {
                return;
            }
            events.add("chaos: restarting " + victim.name());
            victim.start();
            events.add("chaos: " + victim.name() + " is running again");
            if (!at(base, 0.55)) {
                return;
            }
            events.add("chaos: pause " + sleeper.name() + " (SIGSTOP: up but answering nothing)");
            sleeper.pause();
            if (!at(base, 0.75)) {
                return;
            }
            events.add("chaos: resume " + sleeper.name() + " (SIGCONT)");
            sleeper.resume();
        }
    }

    private void primaryFailover() throws InterruptedException {
        List<EmbeddedNode> standbys = cluster.standbys();
        if (standbys.isEmpty()) {
            events.add("chaos: --chaos=primary needs a standby to promote (--replicas 0)");
            return;
        }
        long base = System.nanoTime();
        if (!at(base, 0.15)) {
            return;
        }
        EmbeddedNode old = cluster.primary();
        events.add("chaos: stop the primary " + old.name() + " (fast shutdown); writes fail until a standby"
                + " is promoted");
        old.stop();
        if (!at(base, 0.30)) {
            return;
        }
        EmbeddedNode chosen = standbys.get(0);
        events.add("HA: promoting " + chosen.name() + " (pg_promote)");
        chosen.promote();
        events.add("HA: " + chosen.name() + " is a primary now; the other standbys are not repointed");
        // Readsplit observes roles (pg_is_in_recovery()) and follows a new primary by itself. Should it not
        // have switched within a few health-check intervals, the HA step tells it, as an HA hook would.
        // (the demo plays the HA manager here, so it drives the state machine, which applications cannot reach)
        Topology topology = Topology.of(ds);
        Node target = topology.node(chosen.name());
        long deadline = System.nanoTime() + ds.config().health().interval().multipliedBy(5).toNanos();
        while (topology.primary() != target && System.nanoTime() < deadline) {
            if (stop.await(100, TimeUnit.MILLISECONDS)) {
                return;
            }
        }
        if (topology.primary() != target && target != null) {
            topology.promoteToPrimary(target, "the demo's HA step promoted it");
            events.add("HA: Readsplit had not switched by itself; told it writes go to " + chosen.name());
        }
    }

    /** Waits until {@code fraction} of the cycle after {@code base}; false if stopped first. */
    private boolean at(long base, double fraction) throws InterruptedException {
        long when = base + (long) (cycle.toNanos() * fraction);
        long wait = when - System.nanoTime();
        return !stop.await(Math.max(0, wait), TimeUnit.NANOSECONDS);
    }
}

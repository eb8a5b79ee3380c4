package dev.readsplit.health;

import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.PatroniClient;
import dev.readsplit.cluster.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Patroni as a topology source ({@code topologySource=patroni}): polls {@code GET /cluster} every
 * {@code healthCheckInterval} and applies it to the {@link Topology}:
 * <ul>
 * <li>writes follow Patroni's leader when the leader's own answer agrees (it reports itself primary); otherwise it
 * gets no writes and an {@code HA_CONTRADICTED} event says why ({@link Topology#haLeader});</li>
 * <li>reads skip members Patroni reports as not running, tagged {@code noloadbalance}, lagging past
 * {@code maxLagBytes}, or with an unknown lag ({@link Topology#externalView});</li>
 * <li>a fenced node that Patroni reports as a running replica and that answers as a standby is unfenced (Patroni
 * rebuilt it);</li>
 * <li>while Patroni names no leader that is the write target, writes are held, each for at most
 * {@code connectionTimeout} ({@link Topology#haWritesConfirmed}): a primary whose Patroni died keeps running
 * unmanaged, and writes still sent to it are lost and keep Patroni from electing another leader.</li>
 * </ul>
 * While the write target is in doubt (Patroni names no running leader, or a leader that does not answer as primary yet,
 * or the health checks saw the primary lost definitively: {@link #pollSoon()}), Patroni is asked again a tenth of an
 * interval later instead of at the next interval, for at most {@link #RAPID_POLLS} polls in a row: a switchover or an
 * election is followed within about a tenth of an interval of Patroni's leader change, not up to a whole interval
 * later.
 * SQL observation (the health checks) goes on regardless: it is the safety net, and while no Patroni URL answers the
 * topology follows it alone (one WARN per outage). Members are matched to nodes by PostgreSQL host and port (a
 * member Readsplit has no node for, or a node Patroni does not list, is not judged).
 *
 * <p>Threads: one daemon thread {@code readsplit-patroni-<name>}, started by {@link HealthChecker#start()} and stopped
 * by its {@link HealthChecker#close()}. Each poll is bounded by {@code healthCheckTimeout} per URL.
 */
final class PatroniWatcher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PatroniWatcher.class);

    private final Topology topology;
    private final ReadsplitConfig config;
    private final PatroniClient client;
    private final ScheduledExecutorService thread;
    /** The longest run of rapid polls ({@link #pollSoon()}) before the watcher falls back to the interval's pace. */
    static final int RAPID_POLLS = 300;

    private volatile boolean unreachable;
    /** A rapid poll is scheduled (at most one at a time). */
    private final AtomicBoolean soonScheduled = new AtomicBoolean();
    /** Rapid polls in the current run (reset once Patroni's leader is the confirmed, UP write target). */
    private final AtomicInteger rapidPolls = new AtomicInteger();
    private final AtomicLong polls = new AtomicLong();
    private volatile PatroniClient.View lastView;

    PatroniWatcher(Topology topology) {
        this.topology = topology;
        this.config = topology.config();
        this.client = new PatroniClient(config.topology().patroniUrls(), config.health().timeout());
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "readsplit-patroni-" + config.name());
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        long interval = config.health().interval().toMillis();
        thread.scheduleWithFixedDelay(this::poll, 0, interval, TimeUnit.MILLISECONDS);
    }

    /** The last view Patroni gave, or null before the first answer. */
    PatroniClient.View lastView() {
        return lastView;
    }

    /** Polls run so far, periodic and rapid (for tests). */
    long polls() {
        return polls.get();
    }

    void poll() {
        polls.incrementAndGet();
        PatroniClient.View view;
        try {
            view = client.fetch();
        } catch (IOException e) {
            if (!unreachable) {
                unreachable = true;
                log.warn("{}: Patroni's view is not available ({}); following the nodes' own answers only until it is",
                        config.name(), e.getMessage());
            }
            if (rapidPolls.get() > 0) {
                pollSoon(); // a rapid run goes on (bounded) through a request that timed out under load
            }
            return;
        } catch (RuntimeException e) {
            log.warn("{}: reading Patroni's view failed unexpectedly", config.name(), e);
            return;
        }
        if (unreachable) {
            unreachable = false;
            log.info("{}: Patroni's view is available again from {}", config.name(), view.source());
        }
        lastView = view;
        try {
            apply(view);
        } catch (RuntimeException e) {
            log.warn("{}: applying Patroni's view failed unexpectedly", config.name(), e);
        }
    }

    /** Applies one view (package-private for tests, which feed views parsed from Patroni's JSON). */
    void apply(PatroniClient.View view) {
        List<Node> nodes = topology.nodes();
        long maxLagBytes = config.lag().maxLagBytes();
        for (Node n : nodes) {
            PatroniClient.Member m = member(view, n);
            if (m == null) {
                topology.externalView(n, null, null);
                continue;
            }
            String why = null;
            if (!m.isLeader()) {
                if (!m.isRunning()) {
                    why = "Patroni reports " + m.name() + " " + (m.state().isEmpty() ? "in no state" : m.state());
                } else if (m.noloadbalance()) {
                    why = "Patroni tags " + m.name() + " noloadbalance";
                } else if (m.lagBytes() < 0) {
                    why = "Patroni reports the lag of " + m.name() + " unknown";
                } else if (m.lagBytes() > maxLagBytes) {
                    why = "Patroni reports " + m.name() + " " + m.lagBytes() + " bytes behind, over " + maxLagBytes;
                }
            }
            topology.externalView(n, m.describe(), why);
            if (!m.isLeader() && m.isRunning() && n.role() == Role.REPLICA) {
                topology.haRejoined(n, m.describe());
            }
        }
        PatroniClient.Member leader = view.leader();
        Node node = leader == null ? null : nodeOf(leader, nodes);
        if (leader == null || !leader.isRunning()) {
            topology.haWritesConfirmed(false, "Patroni names no running leader"
                    + (leader == null ? "" : " (" + leader.name() + " is " + leader.state() + ")"));
            pollSoon();
        } else if (node == null) {
            topology.haWritesConfirmed(false, "Patroni's leader " + leader.name() + " (" + leader.host() + ":"
                    + leader.port() + ") is no configured node");
            pollSoon();
        } else if (topology.haLeader(node, "member " + leader.name() + ": " + leader.describe())) {
            topology.haWritesConfirmed(true, null);
            if (topology.primary() == node && node.state() == dev.readsplit.topology.NodeState.UP) {
                rapidPolls.set(0);
            } else {
                pollSoon();
            }
        } else {
            topology.haWritesConfirmed(false, "Patroni's leader " + leader.name() + " does not answer as primary yet");
            pollSoon();
        }
    }

    /**
     * Asks Patroni again a tenth of an interval from now (20 ms at least), unless such a poll is already scheduled or
     * {@link #RAPID_POLLS} rapid polls ran since the write target was last settled. Called while Patroni's leader is
     * not the confirmed, UP write target, and by the health checker when the primary failed definitively (refused,
     * shut down, connection closed): a switchover or a failover is in progress.
     */
    void pollSoon() {
        if (rapidPolls.get() >= RAPID_POLLS || !soonScheduled.compareAndSet(false, true)) {
            return;
        }
        rapidPolls.incrementAndGet();
        try {
            thread.schedule(() -> {
                soonScheduled.set(false);
                poll();
            }, Math.max(20, config.health().interval().toMillis() / 10), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            soonScheduled.set(false);
        }
    }

    private static PatroniClient.Member member(PatroniClient.View view, Node n) {
        if (n.config().host() == null) {
            return null;
        }
        PatroniClient.Member match = null;
        for (PatroniClient.Member m : view.members()) {
            if (m.host() != null && m.port() == n.config().port() && Upstream.sameHost(m.host(), n.config().host())) {
                if (match != null) {
                    return null; // two members at one address: no judgement
                }
                match = m;
            }
        }
        return match;
    }

    private static Node nodeOf(PatroniClient.Member m, List<Node> nodes) {
        for (Node n : nodes) {
            if (n.config().host() != null && m.host() != null && n.config().port() == m.port()
                    && Upstream.sameHost(m.host(), n.config().host())) {
                return n;
            }
        }
        return null;
    }

    @Override
    public void close() {
        thread.shutdownNow();
        try {
            thread.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

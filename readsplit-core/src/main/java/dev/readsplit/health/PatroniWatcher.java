package dev.readsplit.health;

import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.Node;
import dev.readsplit.topology.PatroniClient;
import dev.readsplit.topology.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

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
    private volatile boolean unreachable;
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

    void poll() {
        PatroniClient.View view;
        try {
            view = client.fetch();
        } catch (IOException e) {
            if (!unreachable) {
                unreachable = true;
                log.warn("{}: Patroni's view is not available ({}); following the nodes' own answers only until it is",
                        config.name(), e.getMessage());
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
        } else if (node == null) {
            topology.haWritesConfirmed(false, "Patroni's leader " + leader.name() + " (" + leader.host() + ":"
                    + leader.port() + ") is no configured node");
        } else if (topology.haLeader(node, "member " + leader.name() + ": " + leader.describe())) {
            topology.haWritesConfirmed(true, null);
        } else {
            topology.haWritesConfirmed(false, "Patroni's leader " + leader.name() + " does not answer as primary yet");
            recheckSoon();
        }
    }

    /** While Patroni's leader is not confirmed by its own answer, Patroni is asked again a tenth of an interval later. */
    private void recheckSoon() {
        try {
            thread.schedule(this::poll, Math.max(20, config.health().interval().toMillis() / 10), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            // closing
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

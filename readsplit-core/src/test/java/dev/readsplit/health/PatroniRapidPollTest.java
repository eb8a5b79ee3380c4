package dev.readsplit.health;

import com.sun.net.httpserver.HttpServer;
import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.TopologySource;
import dev.readsplit.topology.FakeClock;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.cluster.Topology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * While the write target is in doubt, Patroni is asked again at a tenth of the interval instead of once per interval
 * (issue 17: a switchover followed within about a tenth of an interval of Patroni's leader change), and back at the
 * interval's pace once its leader is the confirmed, UP write target. A loopback HTTP server plays Patroni's
 * {@code GET /cluster}; the periodic poll is not started, so every request it counts is a rapid one.
 */
class PatroniRapidPollTest {

    private static final String NO_LEADER = """
            {"members": [{"name": "pg1", "role": "replica", "state": "stopped", "host": "127.0.0.1", "port": 25431},
             {"name": "pg2", "role": "replica", "state": "running", "host": "127.0.0.1", "port": 25432, "lag": 0}]}""";

    private static final String PG1_LEADS = """
            {"members": [{"name": "pg1", "role": "leader", "state": "running", "host": "127.0.0.1", "port": 25431,
             "timeline": 1},
             {"name": "pg2", "role": "replica", "state": "running", "host": "127.0.0.1", "port": 25432, "lag": 0,
             "timeline": 1}]}""";

    private final AtomicReference<String> body = new AtomicReference<>(NO_LEADER);
    private final AtomicInteger requests = new AtomicInteger();
    private HttpServer server;
    private Topology topology;
    private PatroniWatcher watcher;

    @BeforeEach
    void setUp() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        server.createContext("/cluster", exchange -> {
            requests.incrementAndGet();
            byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, b.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(b);
            }
        });
        server.start();
        topology = new Topology(ReadsplitConfig.builder().name("rapid")
                .primary("127.0.0.1", 25431).addReplica("127.0.0.1", 25432)
                .healthCheckInterval(Duration.ofSeconds(2)) // rapid polls every 200 ms
                .topologySource(TopologySource.PATRONI)
                .patroniUrls(List.of("http://127.0.0.1:" + server.getAddress().getPort())).build(), new FakeClock(1_000_000));
        watcher = new PatroniWatcher(topology);
    }

    @AfterEach
    void tearDown() {
        watcher.close();
        topology.close();
        server.stop(0);
    }

    @Test
    void withNoLeaderPatroniIsAskedRapidlyUntilItsLeaderIsTheUpWriteTargetThenAtTheIntervalsPace() {
        Node pg1 = topology.nodes().get(0);
        topology.observeRole(pg1, Role.PRIMARY, 1);
        topology.observeRole(topology.nodes().get(1), Role.REPLICA, 1);
        watcher.pollSoon(); // as the health checker does when the primary fails definitively
        await().atMost(Duration.ofSeconds(20)).until(() -> requests.get() >= 4);

        // Patroni names pg1 leader again and pg1 answers as an UP primary: the rapid run ends
        for (int i = 0; i < 3; i++) {
            topology.checkSucceeded(pg1, 1_000_000, 1_000_000);
        }
        assertThat(pg1.state()).isEqualTo(NodeState.UP);
        body.set(PG1_LEADS);
        int seen = requests.get();
        await().atMost(Duration.ofSeconds(20)).until(() -> requests.get() > seen);
        await().atMost(Duration.ofSeconds(20)).until(() -> pg1.patroniView() != null && pg1.patroniView().startsWith("leader"));
        long settled = watcher.polls();
        // at most the poll already scheduled when the leader view arrived (rapid pace: 200 ms; 1.5 s would be ~7 more)
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(10)).until(() -> watcher.polls() <= settled + 1);
        assertThat(topology.primary()).isSameAs(pg1);
    }

    @Test
    void aRunOfRapidPollsIsBoundedWhilePatroniNeverNamesALeader() {
        watcher.close();
        topology.close();
        topology = new Topology(ReadsplitConfig.builder().name("rapid")
                .primary("127.0.0.1", 25431).addReplica("127.0.0.1", 25432)
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofSeconds(2)) // rapid: 20 ms
                .topologySource(TopologySource.PATRONI)
                .patroniUrls(List.of("http://127.0.0.1:" + server.getAddress().getPort())).build(), new FakeClock(1_000_000));
        watcher = new PatroniWatcher(topology);
        for (int i = 0; i < 50; i++) {
            watcher.pollSoon(); // a burst of definitive failures starts one run, not fifty
        }
        // counted by the watcher (a request that timed out on a loaded machine is a poll too; the run goes on)
        await().atMost(Duration.ofSeconds(120)).until(() -> watcher.polls() >= PatroniWatcher.RAPID_POLLS);
        // then the watcher falls back to the interval's pace (not started here: no poll at all)
        await().during(Duration.ofMillis(1000)).atMost(Duration.ofSeconds(10))
                .until(() -> watcher.polls() == PatroniWatcher.RAPID_POLLS);
        assertThat(requests.get()).isPositive().isLessThanOrEqualTo(PatroniWatcher.RAPID_POLLS);
    }
}

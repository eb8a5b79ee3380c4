package dev.readsplit.health;

import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.TopologySource;
import dev.readsplit.topology.FakeClock;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.PatroniClient;
import dev.readsplit.cluster.Topology;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Patroni's view applied to the topology, from {@code GET /cluster} bodies as Patroni 3.0 writes them (captured from
 * the Debian package's REST API): no HTTP, no database; node roles are fed as the health checks would.
 */
class PatroniWatcherTest {

    private static final String HEALTHY = """
            {"members": [{"name": "pg1", "role": "leader", "state": "running", "api_url": "http://127.0.0.1:28001/patroni",
             "host": "127.0.0.1", "port": 25431, "timeline": 1},
             {"name": "pg2", "role": "replica", "state": "running", "api_url": "http://127.0.0.1:28002/patroni",
             "host": "127.0.0.1", "port": 25432, "timeline": 1, "lag": 0},
             {"name": "pg3", "role": "sync_standby", "state": "running", "api_url": "http://127.0.0.1:28003/patroni",
             "host": "127.0.0.1", "port": 25433, "timeline": 1, "tags": {"noloadbalance": true}, "lag": 0}]}""";

    private static final String PG2_LEADS = """
            {"members": [{"name": "pg1", "role": "sync_standby", "state": "running", "host": "127.0.0.1", "port": 25431,
             "timeline": 2, "lag": 0},
             {"name": "pg2", "role": "leader", "state": "running", "host": "127.0.0.1", "port": 25432, "timeline": 2},
             {"name": "pg3", "role": "replica", "state": "running", "host": "127.0.0.1", "port": 25433, "timeline": 2,
             "tags": {"noloadbalance": true}, "lag": 0}]}""";

    private static final String NO_LEADER = """
            {"members": [{"name": "pg2", "role": "replica", "state": "running", "host": "127.0.0.1", "port": 25432,
             "timeline": 2, "lag": 0},
             {"name": "pg3", "role": "replica", "state": "stopped", "host": "127.0.0.1", "port": 25433, "timeline": 2,
             "lag": "unknown"}]}""";

    private final FakeClock clock = new FakeClock(1_000_000);
    private final List<TopologyEvent> events = new CopyOnWriteArrayList<>();
    private Topology topology;
    private PatroniWatcher watcher;
    private Node pg1;
    private Node pg2;
    private Node pg3;

    @BeforeEach
    void setUp() {
        topology = new Topology(ReadsplitConfig.builder().name("patroni")
                .primary("127.0.0.1", 25431).addReplica("127.0.0.1", 25432).addReplica("localhost", 25433)
                .topologySource(TopologySource.PATRONI).patroniUrls(List.of("http://127.0.0.1:28001")).build(), clock);
        topology.addListener(events::add);
        watcher = new PatroniWatcher(topology);
        pg1 = topology.nodes().get(0);
        pg2 = topology.nodes().get(1);
        pg3 = topology.nodes().get(2);
        topology.observeRole(pg1, Role.PRIMARY, 1);
        topology.observeRole(pg2, Role.REPLICA, 1);
        topology.observeRole(pg3, Role.REPLICA, 1);
    }

    @AfterEach
    void tearDown() {
        watcher.close();
        topology.close();
    }

    private static PatroniClient.View view(String json) throws IOException {
        return new PatroniClient.View(URI.create("http://127.0.0.1:28001"),
                PatroniClient.parse(json.getBytes(StandardCharsets.UTF_8)));
    }

    private List<TopologyEvent.Kind> kinds() {
        return events.stream().map(TopologyEvent::kind).toList();
    }

    @Test
    void aNoloadbalanceMemberIsExcludedFromReadsWithPatronisReasonAndTheLeaderKeepsTheWrites() throws IOException {
        watcher.apply(view(HEALTHY));
        assertThat(pg3.lagExcluded()).isTrue();
        assertThat(pg3.exclusionReason()).isEqualTo("Patroni tags pg3 noloadbalance");
        assertThat(pg2.lagExcluded()).isFalse();
        assertThat(topology.primary()).isSameAs(pg1);
        assertThat(pg1.patroniView()).isEqualTo("leader, running, timeline 1");
        assertThat(pg3.patroniView()).isEqualTo("sync_standby, running, timeline 1, lag 0 bytes, noloadbalance");
        assertThat(kinds()).doesNotContain(TopologyEvent.Kind.HA_WRITES_HELD, TopologyEvent.Kind.HA_CONTRADICTED);
    }

    @Test
    void aNewLeaderTakesTheWritesOnlyOnceItsOwnAnswerAgrees() throws IOException {
        watcher.apply(view(HEALTHY));
        // Patroni switched over to pg2, whose last check still said standby: no writes to it, writes held
        watcher.apply(view(PG2_LEADS));
        assertThat(topology.primary()).isSameAs(pg1);
        assertThat(kinds()).contains(TopologyEvent.Kind.HA_CONTRADICTED, TopologyEvent.Kind.HA_WRITES_HELD);
        assertThat(events).filteredOn(e -> e.kind() == TopologyEvent.Kind.HA_CONTRADICTED).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("pg2").contains("answers as a replica"));
        // its check now says primary on timeline 2: writes follow Patroni's leader and are released
        topology.observeRole(pg2, Role.PRIMARY, 2);
        watcher.apply(view(PG2_LEADS));
        assertThat(topology.primary()).isSameAs(pg2);
        assertThat(kinds()).endsWith(TopologyEvent.Kind.HA_WRITES_RELEASED);
    }

    @Test
    void withNoLeaderWritesAreHeldAndAStoppedMemberOrAnUnknownLagTakesNoReads() throws IOException {
        watcher.apply(view(NO_LEADER));
        assertThat(kinds()).contains(TopologyEvent.Kind.HA_WRITES_HELD);
        assertThat(pg3.exclusionReason()).isEqualTo("Patroni reports pg3 stopped");
        assertThat(pg2.lagExcluded()).isFalse();
        assertThat(pg1.patroniView()).as("not listed by Patroni: not judged").isNull();
    }

    @Test
    void aFencedNodeThatPatroniRewoundIntoAReplicaIsUnfenced() throws IOException {
        topology.observeRole(pg2, Role.PRIMARY, 2); // pg2 promoted; pg1 still answers primary on timeline 1: fenced
        topology.observeRole(pg1, Role.PRIMARY, 1);
        assertThat(pg1.state()).isEqualTo(NodeState.FENCED);
        topology.observeRole(pg1, Role.REPLICA, 2); // Patroni rewound it
        watcher.apply(view(PG2_LEADS));
        assertThat(pg1.state()).isEqualTo(NodeState.SUSPECT);
        assertThat(events).anyMatch(e -> e.kind() == TopologyEvent.Kind.UNFENCED && e.message().contains("Patroni"));
    }

    @Test
    void somethingThatIsNotPatronisClusterIsRefusedWithAReason() {
        assertThat(assertThrows(IOException.class, () -> PatroniClient.parse("<html>".getBytes(StandardCharsets.UTF_8)))
                .getMessage()).startsWith("not JSON");
        assertThat(assertThrows(IOException.class, () -> PatroniClient.parse("{\"state\": \"running\"}"
                .getBytes(StandardCharsets.UTF_8))).getMessage()).contains("no \"members\" list");
    }
}

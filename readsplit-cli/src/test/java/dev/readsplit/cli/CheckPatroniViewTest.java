package dev.readsplit.cli;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.topology.PatroniClient;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code readsplit check}'s Patroni table (issue 17): each Patroni member next to the configured node at its address and
 * what that node says of itself; a leader that answers as a standby, or a replica that answers as a primary, is marked.
 * {@code CheckPatroniIT} runs the command against a real Patroni cluster.
 */
class CheckPatroniViewTest {

    private static final String CLUSTER = """
            {"members": [
              {"name": "pg1", "role": "leader", "state": "running", "host": "127.0.0.1", "port": 5501, "timeline": 2},
              {"name": "pg2", "role": "sync_standby", "state": "streaming", "host": "127.0.0.1", "port": 5502,
               "timeline": 2, "lag": 0},
              {"name": "pg3", "role": "replica", "state": "streaming", "host": "localhost", "port": 5503,
               "timeline": 2, "lag": 120, "tags": {"noloadbalance": true}},
              {"name": "pg4", "role": "replica", "state": "stopped", "host": "10.0.0.9", "port": 5432, "lag": "unknown"}
            ]}""";

    private static NodeProbe.Result answered(String name, int port, boolean inRecovery) {
        return new NodeProbe.Result(NodeConfig.builder().name(name).host("127.0.0.1").port(port).build(), null, 1.0, 1.0,
                inRecovery, 7L, "15.8", 100L, 0L, null, null, null, List.of());
    }

    private static String print(List<NodeProbe.Result> results) throws Exception {
        PatroniClient.View view = new PatroniClient.View(URI.create("http://127.0.0.1:8008"),
                PatroniClient.parse(CLUSTER.getBytes(StandardCharsets.UTF_8)));
        StringWriter w = new StringWriter();
        try (PrintWriter out = new PrintWriter(w)) {
            CheckCommand.printPatroni(out, view, results);
        }
        return w.toString();
    }

    private static String line(String table, String member) {
        return table.lines().filter(l -> l.startsWith(member + " ")).findFirst().orElseThrow(
                () -> new AssertionError("no row for " + member + " in\n" + table));
    }

    @Test
    void everyMemberBesideTheConfiguredNodeAndWhatItSaysOfItself() throws Exception {
        String t = print(List.of(answered("primary", 5501, false), answered("a", 5502, true), answered("b", 5503, true)));
        assertThat(t).startsWith("Patroni's view (GET http://127.0.0.1:8008/cluster) next to Readsplit's:");
        assertThat(line(t, "pg1")).contains("leader, running, timeline 2", "primary").doesNotContain("DISAGREES");
        assertThat(line(t, "pg2")).contains("sync_standby, streaming, timeline 2, lag 0 bytes", " a ", "standby");
        // localhost and 127.0.0.1 are the same loopback address
        assertThat(line(t, "pg3")).contains("lag 120 bytes, noloadbalance", " b ", "standby");
        assertThat(line(t, "pg4")).contains("stopped", "lag unknown", "(not configured)");
        assertThat(t).doesNotContain("DISAGREES");
    }

    @Test
    void aLeaderThatAnswersAsAStandbyAndAReplicaThatAnswersAsAPrimaryAreMarked() throws Exception {
        String t = print(List.of(answered("primary", 5501, true), answered("a", 5502, false),
                NodeProbe.Result.unreachable(NodeConfig.builder().name("b").host("127.0.0.1").port(5503).build(), "refused")));
        assertThat(line(t, "pg1")).contains("standby", "DISAGREES: no writes to it");
        assertThat(line(t, "pg2")).contains("primary", "DISAGREES");
        assertThat(line(t, "pg3")).contains("unreachable").doesNotContain("DISAGREES");
    }
}

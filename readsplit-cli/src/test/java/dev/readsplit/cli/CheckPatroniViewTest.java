package dev.readsplit.cli;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.TopologySource;
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

    private static PatroniClient.View view(String json) throws Exception {
        return new PatroniClient.View(URI.create("http://127.0.0.1:8008"),
                PatroniClient.parse(json.getBytes(StandardCharsets.UTF_8)));
    }

    /** A standby that streams from the server at {@code fromPort}. */
    private static NodeProbe.Result standby(String name, int port, int fromPort) {
        return new NodeProbe.Result(NodeConfig.builder().name(name).host("127.0.0.1").port(port).build(), null, 1.0, 1.0,
                true, 7L, "15.8", 100L, 0L, "streaming", "127.0.0.1", fromPort, List.of());
    }

    private static ReadsplitConfig patroniConfig() {
        return ReadsplitConfig.builder().name("c").primary("127.0.0.1", 5501).addReplica("127.0.0.1", 5502)
                .addReplica("127.0.0.1", 5503).database("db").user("u")
                .topologySource(TopologySource.PATRONI).patroniUrls(List.of("http://127.0.0.1:8008")).build();
    }

    /** After a Patroni switchover pg1 -> pg2: the configured primary (5501) is a standby streaming from 5502. */
    private static final String SWITCHED = """
            {"members": [
              {"name": "pg1", "role": "replica", "state": "streaming", "host": "127.0.0.1", "port": 5501, "timeline": 3, "lag": 0},
              {"name": "pg2", "role": "leader", "state": "running", "host": "127.0.0.1", "port": 5502, "timeline": 3},
              {"name": "pg3", "role": "replica", "state": "streaming", "host": "127.0.0.1", "port": 5503, "timeline": 3, "lag": 0}
            ]}""";

    /**
     * Readsplit writes to Patroni's leader, so a configuration whose primary was switched over is stale, not unfit: on the
     * old code (the static configuration judged alone) this was "configured primary ... is a standby" and exit 1.
     */
    @Test
    void withPatroniTheLeaderIsJudgedAsThePrimaryAndAStaleConfiguredPrimaryIsANote() throws Exception {
        List<NodeProbe.Result> results = List.of(standby("primary", 5501, 5502), answered("a", 5502, false),
                standby("b", 5503, 5502));
        CheckCommand.Report r = CheckCommand.analyse(patroniConfig(), results, view(SWITCHED), null);
        assertThat(r.problems()).isEmpty();
        assertThat(r.results().get(r.primaryIndex()).node().name()).isEqualTo("a");
        assertThat(r.notes()).singleElement().asString().contains("Patroni's leader is pg2", "Readsplit writes there");
        assertThat(r.toJson("test")).containsEntry("fit", true).containsEntry("writeTarget", "a");
    }

    @Test
    void withPatroniAReplicaStreamingFromTheOldPrimaryOrAStandbyLeaderIsAProblem() throws Exception {
        // pg3 still streams from 5501 (a cascade from the old primary), and then the leader itself answers as a standby
        List<NodeProbe.Result> cascaded = List.of(standby("primary", 5501, 5502), answered("a", 5502, false),
                standby("b", 5503, 5501));
        assertThat(CheckCommand.analyse(patroniConfig(), cascaded, view(SWITCHED), null).problems())
                .singleElement().asString().contains("replica b", "not from Patroni's leader a");
        List<NodeProbe.Result> demoted = List.of(standby("primary", 5501, 5502), standby("a", 5502, 5501),
                standby("b", 5503, 5502));
        assertThat(CheckCommand.analyse(patroniConfig(), demoted, view(SWITCHED), null).problems())
                .anySatisfy(p -> assertThat(p).contains("Patroni's leader a", "is a standby"));
    }

    @Test
    void withPatroniNoLeaderOrALeaderThatIsNotConfiguredIsAProblemAndNoAnswerFallsBackToTheServers() throws Exception {
        List<NodeProbe.Result> results = List.of(answered("primary", 5501, false), standby("a", 5502, 5501),
                standby("b", 5503, 5501));
        String noLeader = SWITCHED.replace("\"leader\"", "\"replica\"");
        assertThat(CheckCommand.analyse(patroniConfig(), results, view(noLeader), null).problems())
                .singleElement().asString().startsWith("Patroni names no leader");
        String elsewhere = SWITCHED.replace("\"port\": 5502", "\"port\": 6502");
        assertThat(CheckCommand.analyse(patroniConfig(), results, view(elsewhere), null).problems())
                .singleElement().asString().contains("Patroni's leader pg2 (127.0.0.1:6502) is not a configured node");
        CheckCommand.Report down = CheckCommand.analyse(patroniConfig(), results, null, "connection refused");
        assertThat(down.problems()).isEmpty();
        assertThat(down.notes()).singleElement().asString().contains("did not answer (connection refused)");
    }

    private static String print(List<NodeProbe.Result> results) throws Exception {
        PatroniClient.View view = view(CLUSTER);
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

package dev.readsplit.admin;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Admin responses across faults (issue 9): with one replica answering authentication errors (a wrong
 * password of its own) and another killed and restarted, no endpoint's body or headers ever carry a
 * password or the admin token, and mutations are refused without the right bearer token.
 */
class AdminSecretsIT {

    private static final String WRONG = "Wr0ng-Admin-NodeView-Pw-5e";
    private static final List<String> GETS = List.of("/", "/dashboard.js", "/healthz", "/readyz", "/replicas", "/events",
            "/metrics", "/nope");

    @Test
    void noSecretInAnyResponseThroughAuthErrorsAndAKilledReplica() {
        try (EmbeddedCluster cluster = TestClusters.start(2)) {
            EmbeddedNode victim = cluster.standby(0);
            EmbeddedNode wrong = cluster.standby(1);
            var b = TestClusters.config(cluster).name("adm-secrets").replicas(List.of())
                    .addReplica(victim.host(), victim.port())
                    .addReplica(NodeConfig.builder().host(wrong.host()).port(wrong.port()).password(WRONG).build());
            try (ReadsplitDataSource ds = new ReadsplitDataSource(b.build());
                 AdminServer server = AdminServer.start(ds, AdminOptions.defaults())) {
                Http http = new Http(server.uri());
                NodeView wrongNode = node(ds, wrong);
                NodeView victimNode = node(ds, victim);
                await().atMost(Duration.ofSeconds(30)).until(() -> wrongNode.state() == NodeState.DOWN);
                assertThat(wrongNode.lastError()).contains("password authentication failed");
                getAll(http);
                assertThat(http.get("/replicas").body()).contains("password authentication failed");

                victim.kill();
                await().atMost(Duration.ofSeconds(30)).until(() -> victimNode.state() == NodeState.DOWN);
                getAll(http);
                // refused without the token, or with a wrong one (the 401 body names neither token)
                HttpResponse<String> missing = http.post("/shadow-mode", "on", null);
                assertThat(missing.statusCode()).isEqualTo(401);
                assertThat(http.post("/shadow-mode", "on", TestClusters.TOKEN + "-x").statusCode()).isEqualTo(401);
                assertThat(http.post("/replicas", "{\"host\":\"127.0.0.1\",\"port\":1,\"password\":\"" + WRONG + "\"}",
                        TestClusters.PASSWORD).statusCode()).isEqualTo(401);
                assertThat(http.post("/shadow-mode", "on", TestClusters.TOKEN).statusCode()).isEqualTo(200);
                assertThat(http.post("/shadow-mode", "off", TestClusters.TOKEN).statusCode()).isEqualTo(200);

                victim.start();
                await().atMost(Duration.ofSeconds(30)).until(() -> victimNode.state() == NodeState.UP);
                getAll(http);
                assertThat(server.toString()).doesNotContain(TestClusters.TOKEN).doesNotContain(TestClusters.PASSWORD);
                for (String body : http.seen) {
                    assertThat(body).doesNotContain(TestClusters.PASSWORD).doesNotContain(TestClusters.TOKEN)
                            .doesNotContain(WRONG);
                }
                assertThat(http.seen).hasSizeGreaterThan(40);
            }
        }
    }

    private static void getAll(Http http) {
        for (String path : GETS) {
            http.get(path);
        }
    }

    private static NodeView node(ReadsplitDataSource ds, EmbeddedNode n) {
        return ds.topology().nodes().stream().filter(x -> x.config().port() == n.port()).findFirst().orElseThrow();
    }
}

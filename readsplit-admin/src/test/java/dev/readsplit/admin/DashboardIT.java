package dev.readsplit.admin;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in a real headless Chromium against a running 1+2 cluster. First, replicas with the names that
 * broke it ({@code __proto__}, {@code constructor}, ...) are added through the API: every row and chart line is
 * shown, no script error, and a DOWN node's lag is "–". Then, under a workload: both replicas UP with sparklines,
 * reads per second, the four charts (reads/s, writes/s, p99 latency per node; lag per replica with the alert
 * thresholds drawn); a replica is killed and restarted, and the charts mark the state changes on the time axis.
 * Last, the primary is stopped and a standby promoted: the failover is counted and marked on the time axis, and
 * a screenshot is saved as {@code target/dashboard.png} (docs/dashboard.png). Fails (does not skip) without
 * Chromium.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardIT {

    private static final String ROWS = "return JSON.stringify(Array.from(document.querySelectorAll('#nodes tbody tr'))"
            + ".map(function (r) { return r.dataset.node + '|' + r.dataset.role + '|' + r.dataset.state"
            + " + '|' + r.querySelectorAll('svg.spark polyline').length"
            + " + '|' + r.querySelector('.reads-per-second').textContent"
            + " + '|' + r.querySelector('.lag').textContent; }));";
    private static final String ERROR_BOX = "var e = document.getElementById('error');"
            + " return e.hidden ? 'none' : e.textContent;";
    private static final List<String> HOSTILE = List.of("__proto__", "constructor", "toString", "hasOwnProperty");

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static AdminServer server;
    private static Http http;

    @BeforeAll
    static void start() {
        cluster = TestClusters.start(2);
        TestClusters.exec(cluster.primary(), "CREATE TABLE items (id bigserial PRIMARY KEY, v text)");
        ds = new ReadsplitDataSource(TestClusters.config(cluster).build());
        TestClusters.awaitAllUp(ds);
        server = AdminServer.start(ds);
        http = new Http(server.uri());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The names of the chart lines in one chart. */
    private static String lines(WebDriver browser, String chart) throws Exception {
        return browser.script("return JSON.stringify(Array.from(document.querySelectorAll("
                + "'#" + chart + " polyline.series')).map(function (l) { return l.dataset.node; }));");
    }

    @Test
    @Order(1)
    void namesLikeProtoAndConstructorAreShownLikeAnyOther() throws Exception {
        Path target = Path.of("target");
        try (WebDriver browser = WebDriver.start(target)) {
            browser.navigate(server.uri().toString());
            for (String name : HOSTILE) {
                var r = http.post("/replicas", "{\"host\":\"127.0.0.1\",\"port\":" + closedPort() + ",\"name\":\""
                        + name + "\"}", TestClusters.TOKEN);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> HOSTILE.stream()
                    .allMatch(n -> ds.topology().node(n).state() == NodeState.DOWN));
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                String rows = browser.script(ROWS);
                for (String name : HOSTILE) {
                    // a DOWN node's lag is "–", not its last measurement
                    assertThat(rows).contains(name + "|REPLICA|DOWN|1|");
                    assertThat(rows).containsPattern(java.util.regex.Pattern.quote(name) + "\\|REPLICA\\|DOWN\\|1\\|[^|]*\\|–\"");
                }
                assertThat(lines(browser, "chart-reads")).contains(HOSTILE.stream().map(n -> "\"" + n + "\"").toList());
                assertThat(lines(browser, "chart-lag")).contains("\"__proto__\"", "\"constructor\"");
                assertThat(browser.script(ERROR_BOX)).isEqualTo("none");
            });
            assertThat(browser.script("return document.getElementById('legend').textContent;"))
                    .contains("__proto__", "constructor", "toString", "hasOwnProperty");
            for (String name : HOSTILE) {
                assertThat(http.delete("/replicas/" + name, TestClusters.TOKEN).statusCode()).isEqualTo(200);
            }
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                    assertThat(browser.script(ROWS)).doesNotContain("__proto__", "constructor"));
            assertThat(browser.script(ERROR_BOX)).isEqualTo("none");
        }
    }

    @Test
    @Order(2)
    void chartsShowTrafficLatencyAndLagWithThresholdsAndMarkAKilledReplica() throws Exception {
        EmbeddedNode victim = cluster.standby(1);
        String victimName = victim.host() + ":" + victim.port();
        String otherName = cluster.standby(0).host() + ":" + cluster.standby(0).port();
        Path target = Path.of("target");
        try (Workload load = new Workload(ds, 2); WebDriver browser = WebDriver.start(target)) {
            browser.navigate(server.uri().toString());

            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                assertThat(browser.script(ROWS))
                        .contains(victimName + "|REPLICA|UP|1|", otherName + "|REPLICA|UP|1|")
                        .contains("|PRIMARY|UP|0|")
                        // reads/s needs two samples: a number, not the placeholder
                        .doesNotContain(otherName + "|REPLICA|UP|1|–");
                // a line per node in each traffic chart, a line per replica in the lag chart
                assertThat(lines(browser, "chart-reads")).contains(victimName, otherName);
                assertThat(lines(browser, "chart-p99")).contains(victimName, otherName);
                assertThat(lines(browser, "chart-lag")).contains(victimName, otherName);
                assertThat(browser.script("return String(document.querySelector('#chart-reads polyline.series[data-node=\""
                        + otherName + "\"]').getAttribute('points').split(' ').length);")).isNotIn("0", "1");
            });
            assertThat(browser.script("return document.getElementById('ds-name').textContent;")).isEqualTo("it");
            assertThat(browser.script("return JSON.stringify(Array.from(document.querySelectorAll("
                    + "'#chart-lag line.threshold')).map(function (l) { return l.dataset.threshold; }));"))
                    .contains("info", "warning", "error", "critical", "max lag: no reads");

            victim.kill();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                assertThat(browser.script(ROWS)).contains(victimName + "|REPLICA|DOWN|1|");
                assertThat(browser.script(ROWS)).containsPattern(java.util.regex.Pattern.quote(victimName)
                        + "\\|REPLICA\\|DOWN\\|1\\|[^|]*\\|–\"");
                assertThat(browser.script("return document.getElementById('events').textContent;"))
                        .contains(victimName + ": SUSPECT -> DOWN");
                assertThat(browser.script("return String(document.querySelectorAll('#chart-reads line.mark-state').length);"))
                        .isNotEqualTo("0");
            });
            assertThat(browser.script("return document.getElementById('overall').textContent;")).isEqualTo("ok");

            victim.start();
            NodeView victimNode = ds.topology().node(victimName);
            await().atMost(Duration.ofSeconds(30)).until(() -> victimNode.state() == NodeState.UP);
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                    assertThat(browser.script(ROWS)).contains(victimName + "|REPLICA|UP|1|"));
            assertThat(load.failed.get()).as("failed queries:" + load.describeErrors()).isZero();
            assertThat(browser.script(ERROR_BOX)).isEqualTo("none");
        }
    }

    /**
     * A proxy in front of the same data source, with an admin server that serves it: the dashboard shows its clients
     * (one in a transaction, one idle), its backends per node and the statements routed there; the admin server
     * without a proxy keeps the panel hidden.
     */
    @Test
    @Order(0)
    void theProxyPanelShowsClientsAndBackendsWhenAProxyRuns() throws Exception {
        Path target = Path.of("target");
        try (dev.readsplit.proxy.ProxyServer proxy = dev.readsplit.proxy.ProxyServer.start(ds,
                dev.readsplit.proxy.ProxyConfig.builder().listen("127.0.0.1:0")
                        .user("app", dev.readsplit.config.Secret.of("proxy-pw-3")).build());
             AdminServer withProxy = AdminServer.start(ds, AdminOptions.builder()
                     .proxy(() -> proxy.status().toJson(), proxy.metrics()).build());
             java.sql.Connection idle = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                     + proxy.address().getPort() + "/" + cluster.database() + "?sslmode=disable", "app", "proxy-pw-3");
             java.sql.Connection busy = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:"
                     + proxy.address().getPort() + "/" + cluster.database() + "?sslmode=disable", "app", "proxy-pw-3");
             java.sql.Statement s = busy.createStatement();
             WebDriver browser = WebDriver.start(target)) {
            for (int i = 0; i < 4; i++) {
                s.executeQuery("SELECT 1").close();
            }
            busy.setAutoCommit(false);
            s.executeQuery("SELECT 1").close(); // a transaction: this client is active

            browser.navigate(withProxy.uri().toString());
            String replica = cluster.standby(0).host() + ":" + cluster.standby(0).port();
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                assertThat(browser.script("return String(document.getElementById('proxy').hidden);")).isEqualTo("false");
                assertThat(browser.script("return document.getElementById('proxy-active').textContent;")).isEqualTo("1");
                assertThat(browser.script("return document.getElementById('proxy-idle').textContent;")).isEqualTo("1");
                assertThat(browser.script("return document.getElementById('proxy-max').textContent;")).isEqualTo("1000");
                String rows = browser.script("return JSON.stringify(Array.from(document.querySelectorAll("
                        + "'#proxy-nodes tbody tr')).map(function (r) { return r.dataset.node + '|' + "
                        + "r.querySelector('.proxy-col-2').textContent + '|' + r.querySelector('.proxy-col-4').textContent; }));");
                assertThat(rows).contains(replica + "|").doesNotContain("undefined");
                // statements per role, summed: the four autocommit reads on the replicas, the transaction's on the
                // primary (backends in use: the busy client's on the primary)
                assertThat(browser.script("var t = {}; document.querySelectorAll('#proxy-nodes tbody tr')"
                        + ".forEach(function (r) { var k = r.querySelector('.proxy-col-1').textContent;"
                        + " t[k + 'Statements'] = (t[k + 'Statements'] || 0) + Number(r.querySelector('.proxy-col-4').textContent);"
                        + " t[k + 'InUse'] = (t[k + 'InUse'] || 0) + Number(r.querySelector('.proxy-col-2').textContent); });"
                        + " return String(t.replicaStatements >= 4 && t.primaryStatements >= 1 && t.primaryInUse >= 1);"))
                        .isEqualTo("true");
            });
            assertThat(browser.script(ERROR_BOX)).isEqualTo("none");
            assertThat(http.get("/proxy").statusCode()).isEqualTo(404); // the server without a proxy
            assertThat(new Http(withProxy.uri()).get("/metrics").body()).contains("readsplit_proxy_clients")
                    .contains("readsplit_proxy_statements_total");

            browser.navigate(server.uri().toString());
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                    assertThat(browser.script("return document.getElementById('primary').textContent;"))
                            .isNotEqualTo("…"));
            assertThat(browser.script("return String(document.getElementById('proxy').hidden);")).isEqualTo("true");
            busy.rollback();
        }
    }

    /** Runs last: the cluster's primary is stopped and a standby promoted, as an HA manager would. */
    @Test
    @Order(3)
    void aFailoverIsMarkedOnTheTimeAxisAndCounted() throws Exception {
        EmbeddedNode oldPrimary = cluster.primary();
        EmbeddedNode promoted = cluster.standby(0);
        String promotedName = promoted.host() + ":" + promoted.port();
        Path target = Path.of("target");
        try (Workload load = new Workload(ds, 2); WebDriver browser = WebDriver.start(target)) {
            browser.navigate(server.uri().toString());
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                    assertThat(browser.script("return document.getElementById('failovers').textContent;"))
                            .isEqualTo("0"));
            Thread.sleep(3000); // some traffic before, for the picture
            oldPrimary.stop();
            promoted.promote();
            await().atMost(Duration.ofSeconds(60)).until(() -> ds.topology().primary() == ds.topology().node(promotedName));
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                assertThat(browser.script("return document.getElementById('primary').textContent;")).isEqualTo(promotedName);
                assertThat(browser.script("return document.getElementById('failovers').textContent;")).isEqualTo("1");
                assertThat(browser.script("return JSON.stringify(Array.from(document.querySelectorAll("
                        + "'#chart-writes line.mark-failover')).map(function (l) { return l.dataset.kind; }));"))
                        .contains("PRIMARY_CHANGE");
                assertThat(browser.script(ROWS)).contains(promotedName + "|PRIMARY|UP|0|")
                        .contains(oldPrimary.host() + ":" + oldPrimary.port() + "|");
            });
            // writes on the new primary, for the picture
            long ok = load.ok.get();
            await().atMost(Duration.ofSeconds(30)).until(() -> load.ok.get() > ok + 200);
            Thread.sleep(4000);
            assertThat(browser.script(ERROR_BOX)).isEqualTo("none");
            byte[] png = browser.screenshot();
            assertThat(png).startsWith(0x89, 'P', 'N', 'G');
            Files.write(target.resolve("dashboard.png"), png);
            String page = browser.script("return document.documentElement.outerHTML;");
            assertThat(page).doesNotContain(TestClusters.PASSWORD).doesNotContain(TestClusters.TOKEN)
                    .doesNotContain("http://", "https://");
        }
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

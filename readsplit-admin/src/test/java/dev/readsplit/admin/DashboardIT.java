package dev.readsplit.admin;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The dashboard in a real headless Chromium against a running 1+2 cluster: the page shows both replicas UP
 * with lag sparklines and reads per second; a replica is killed and the page shows its state change and the
 * event; a screenshot is saved as {@code target/dashboard.png}. Fails (does not skip) without Chromium.
 */
class DashboardIT {

    private static final String ROWS = "return JSON.stringify(Array.from(document.querySelectorAll('#nodes tbody tr'))"
            + ".map(function (r) { return r.dataset.node + '|' + r.dataset.role + '|' + r.dataset.state"
            + " + '|' + r.querySelectorAll('svg.spark polyline').length"
            + " + '|' + r.querySelector('.reads-per-second').textContent; }));";

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static AdminServer server;

    @BeforeAll
    static void start() {
        cluster = TestClusters.start(2);
        TestClusters.exec(cluster.primary(), "CREATE TABLE items (id bigserial PRIMARY KEY, v text)");
        ds = new ReadsplitDataSource(TestClusters.config(cluster).build());
        TestClusters.awaitAllUp(ds);
        server = AdminServer.start(ds);
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

    @Test
    void showsBothReplicasThenAKilledReplicaChangingStateAndSavesAScreenshot() throws Exception {
        EmbeddedNode victim = cluster.standby(1);
        String victimName = victim.host() + ":" + victim.port();
        String otherName = cluster.standby(0).host() + ":" + cluster.standby(0).port();
        Path target = Path.of("target");
        try (Workload load = new Workload(ds, 2); WebDriver browser = WebDriver.start(target)) {
            browser.navigate(server.uri().toString());

            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                    assertThat(browser.script(ROWS))
                            .contains(victimName + "|REPLICA|UP|1|", otherName + "|REPLICA|UP|1|")
                            .contains("|PRIMARY|UP|0|")
                            // reads/s needs two polls: a number, not the placeholder
                            .doesNotContain(otherName + "|REPLICA|UP|1|\\u2013").doesNotContain(otherName + "|REPLICA|UP|1|–"));
            assertThat(browser.script("return document.getElementById('ds-name').textContent;")).isEqualTo("it");

            victim.kill();
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                    assertThat(browser.script(ROWS)).containsAnyOf(victimName + "|REPLICA|SUSPECT|",
                            victimName + "|REPLICA|DOWN|"));
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                assertThat(browser.script(ROWS)).contains(victimName + "|REPLICA|DOWN|");
                assertThat(browser.script("return document.getElementById('events').textContent;"))
                        .contains(victimName + ": SUSPECT -> DOWN");
            });
            assertThat(browser.script("return document.getElementById('overall').textContent;")).isEqualTo("ok");

            byte[] png = browser.screenshot();
            assertThat(png).startsWith(0x89, 'P', 'N', 'G');
            Files.write(target.resolve("dashboard.png"), png);
            String page = browser.script("return document.documentElement.outerHTML;");
            assertThat(page).doesNotContain(TestClusters.PASSWORD).doesNotContain(TestClusters.TOKEN);
        }
    }
}

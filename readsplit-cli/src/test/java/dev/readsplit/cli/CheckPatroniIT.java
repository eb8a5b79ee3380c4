package dev.readsplit.cli;

import dev.readsplit.embedded.PatroniCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code readsplit check} with {@code topologySource=patroni} against a real etcd + 3 Patroni nodes ({@link PatroniCluster},
 * pg3 tagged {@code noloadbalance}; one cluster for the class): Patroni's view next to Readsplit's, before and after a
 * Patroni switchover.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class CheckPatroniIT {

    static PatroniCluster cluster;
    @TempDir
    static Path dir;

    @BeforeAll
    static void start() {
        cluster = PatroniCluster.builder().noloadbalance("pg3").start();
        cluster.awaitHealthy(Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** pg1 configured as the primary, pg2 and pg3 as replicas, every member's REST URL. */
    static Path config() throws IOException {
        Path f = dir.resolve("readsplit.properties");
        PatroniCluster.Member pg1 = cluster.member("pg1");
        Files.writeString(f, "readsplit.primary=" + pg1.host() + ":" + pg1.port() + "\n"
                + "readsplit.replicas=" + cluster.members().stream().filter(m -> m != pg1)
                .map(m -> m.host() + ":" + m.port()).collect(Collectors.joining(",")) + "\n"
                + "readsplit.database=" + cluster.database() + "\n"
                + "readsplit.user=" + cluster.user() + "\n"
                + "readsplit.topologySource=patroni\n"
                + "readsplit.patroniUrls=" + cluster.restUrls().stream().map(Object::toString)
                .collect(Collectors.joining(",")) + "\n");
        return f;
    }

    private static String row(String out, String member) {
        String table = out.substring(out.indexOf("Patroni's view (GET "));
        return table.lines().filter(l -> l.startsWith(member + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + member + " in\n" + out));
    }

    @Test
    @Order(1)
    void patronisViewNextToReadsplits() throws IOException {
        Cli r = Cli.run("check", "--config", config().toString());
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.out()).contains("OK: fit to serve").contains("Patroni's view (GET http://");
        assertThat(row(r.out(), "pg1")).contains("leader", "running", "primary").doesNotContain("DISAGREES");
        // Patroni 3.0 says "running" for a replica's state, later versions "streaming"
        assertThat(row(r.out(), "pg2")).contains("replica", "timeline", "standby").doesNotContain("DISAGREES");
        assertThat(row(r.out(), "pg3")).contains("replica", "noloadbalance", "standby").doesNotContain("DISAGREES");
    }

    @Test
    @Order(2)
    void afterAPatroniSwitchoverCheckJudgesPatronisLeaderAndCallsTheConfigurationStale() throws IOException {
        cluster.switchover("pg1", "pg2");
        await().atMost(Duration.ofSeconds(90)).until(() -> cluster.leader() != null
                && cluster.leader().name().equals("pg2") && "replica".equals(cluster.role("pg1")));
        cluster.awaitHealthy(Duration.ofSeconds(90));
        Cli r = Cli.run("check", "--config", config().toString());
        System.out.println(r.out()); // the example in docs/failover.md
        // the static configuration is stale (its primary is a standby now), but Readsplit writes to Patroni's leader:
        // check judges that one, and says the configuration is stale
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.out()).contains("OK: fit to serve")
                .contains("note: the configuration names").contains("Patroni's leader is pg2");
        assertThat(row(r.out(), "pg2")).contains("leader", "running", "primary").doesNotContain("DISAGREES");
        assertThat(row(r.out(), "pg1")).contains("standby").doesNotContain("DISAGREES");
    }
}

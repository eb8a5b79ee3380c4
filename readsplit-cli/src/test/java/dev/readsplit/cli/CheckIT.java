package dev.readsplit.cli;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code readsplit check} against a real 1+2 cluster with password authentication. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CheckIT {

    static final String PASSWORD = "Ch3ck-Distinct-Pw-7731";

    static EmbeddedCluster cluster;
    static EmbeddedNode primary;
    static EmbeddedNode standby1;
    static EmbeddedNode standby2;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password(PASSWORD).start();
        primary = cluster.primary();
        standby1 = cluster.standby(0);
        standby2 = cluster.standby(1);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    static String url(EmbeddedNode p, String... replicas) {
        StringBuilder sb = new StringBuilder("jdbc:readsplit:postgresql://").append(addr(p));
        for (String r : replicas) {
            sb.append(',').append(r);
        }
        return sb.append('/').append(cluster.database()).append("?user=").append(cluster.user())
                .append("&password=").append(PASSWORD).toString();
    }

    static String addr(EmbeddedNode n) {
        return n.host() + ":" + n.port();
    }

    static Cli check(String... args) {
        Cli r = Cli.run(args);
        assertThat(r.all()).doesNotContain(PASSWORD);
        return r;
    }

    @Test
    @Order(1)
    void healthyClusterIsFit() {
        Cli r = check("check", "--url", url(primary, addr(standby1), addr(standby2)));
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.out()).contains("OK: fit to serve")
                .contains("2 standbys attached, 2 streaming")
                .contains("streaming from 127.0.0.1:" + primary.port())
                .contains("Replication as " + addr(primary) + " sees it (pg_stat_replication)")
                .contains("standby1").contains("standby2");
    }

    @Test
    @Order(2)
    void jsonReportOfAHealthyCluster() {
        Cli r = check("check", "--json", "--url", url(primary, addr(standby1), addr(standby2)));
        assertThat(r.exitCode()).as(r.all()).isZero();
        Map<String, Object> o = JsonOutput.object(r.out());
        assertThat(o).containsEntry("fit", true).containsEntry("problems", List.of());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> nodes = (List<Map<String, Object>>) o.get("nodes");
        assertThat(nodes).extracting(n -> n.get("observedRole")).containsExactly("primary", "replica", "replica");
        assertThat(nodes).extracting(n -> n.get("reachable")).containsOnly(true);
        assertThat(nodes.subList(1, 3)).extracting(n -> n.get("walReceiverStatus")).containsOnly("streaming");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rows = (List<Map<String, Object>>) nodes.get(0).get("replication");
        assertThat(rows).extracting(x -> x.get("applicationName")).containsExactly("standby1", "standby2");
        assertThat(rows).extracting(x -> x.get("state")).containsOnly("streaming");
    }

    @Test
    @Order(3)
    void configurationFromTheEnvironment() {
        String replicas = "[{\"host\":\"127.0.0.1\",\"port\":" + standby1.port() + "},"
                + "{\"host\":\"127.0.0.1\",\"port\":" + standby2.port() + "}]";
        Cli r = Cli.run(Map.of("DB_HOST", "127.0.0.1", "DB_PORT", Integer.toString(primary.port()),
                "DB_NAME", cluster.database(), "DB_USER", cluster.user(), "DB_PASSWORD", PASSWORD,
                "DB_REPLICAS", replicas), "check");
        assertThat(r.all()).doesNotContain(PASSWORD);
        assertThat(r.exitCode()).as(r.all()).isZero();
        assertThat(r.out()).contains("from the environment").contains("OK: fit to serve");
    }

    @Test
    @Order(4)
    void aConfiguredReplicaThatIsThePrimaryIsAMismatch() {
        String impostor = "localhost:" + primary.port();
        Cli r = check("check", "--url", url(primary, impostor, addr(standby1)));
        assertThat(r.exitCode()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).contains("replica " + impostor + " is actually a primary")
                .contains("NOT FIT to serve");
    }

    @Test
    @Order(5)
    void aStandbyConfiguredAsPrimaryIsNotFit() {
        Cli r = check("check", "--url", url(standby1, addr(standby2)));
        assertThat(r.exitCode()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).contains("configured primary " + addr(standby1) + " is a standby");
        // standby2 streams from the real primary, not from the node configured as primary
        assertThat(r.out()).contains("replica " + addr(standby2) + " streams from 127.0.0.1:"
                + primary.port() + ", not from the configured primary");
    }

    @Test
    @Order(6)
    void aPausedReplicaDoesNotHangTheCheck() {
        standby1.pause();
        try {
            Cli r = check("check", "--timeout", "1s", "--url", url(primary, addr(standby1), addr(standby2)));
            assertThat(r.exitCode()).as(r.all()).isEqualTo(1);
            assertThat(r.out()).contains("replica " + addr(standby1) + " is unreachable");
        } finally {
            standby1.resume();
        }
    }

    @Test
    @Order(7)
    void aReplicaDownIsNamedAsUnreachable() {
        standby2.kill();
        Cli r = check("check", "--url", url(primary, addr(standby1), addr(standby2)));
        assertThat(r.exitCode()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).contains("replica " + addr(standby2) + " is unreachable")
                .contains("NOT FIT to serve");
        Cli json = check("check", "--json", "--url", url(primary, addr(standby1), addr(standby2)));
        assertThat(json.exitCode()).isEqualTo(1);
        assertThat(JsonOutput.object(json.out())).containsEntry("fit", false);
    }

    @Test
    @Order(8)
    void anUnreachablePrimaryIsNotFit() {
        Cli r = check("check", "--timeout", "2s", "--url", url(standby2, addr(standby1)));
        assertThat(r.exitCode()).as(r.all()).isEqualTo(1);
        assertThat(r.out()).contains("primary " + addr(standby2) + " is unreachable");
    }

    @Test
    @Order(9)
    void theRealCauseOfAConnectionFailureIsShown() {
        String wrong = "jdbc:readsplit:postgresql://" + addr(primary) + "/" + cluster.database() + "?user="
                + cluster.user() + "&password=Not-" + PASSWORD;
        Cli auth = Cli.run("check", "--url", wrong);
        assertThat(auth.all()).doesNotContain(PASSWORD);
        assertThat(auth.exitCode()).isEqualTo(1);
        assertThat(auth.out()).contains("primary " + addr(primary) + " is unreachable: authentication failed: ")
                .contains("[SQLSTATE 28P01]");
        Cli unknown = check("check", "--timeout", "2s", "--url", url(primary, "nosuchhost.invalid:5432"));
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.out()).contains("replica nosuchhost.invalid:5432 is unreachable: unknown host "
                + "'nosuchhost.invalid'");
    }
}

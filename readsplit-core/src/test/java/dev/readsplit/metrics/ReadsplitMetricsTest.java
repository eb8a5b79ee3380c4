package dev.readsplit.metrics;

import dev.readsplit.cluster.Topology;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Redactor;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The binder, snapshots and runtime add/remove against nodes that refuse connections (no database needed):
 * every check fails fast, which is what the failure counters need.
 */
class ReadsplitMetricsTest {

    private static final String PASSWORD = "pw-Unit-7d1f0c";
    private static final String TOKEN = "tok-Unit-93be21";

    private ReadsplitDataSource ds;

    @BeforeEach
    void start() throws IOException {
        ds = new ReadsplitDataSource(ReadsplitConfig.builder()
                .name("unit")
                .primary("127.0.0.1", closedPort())
                .addReplica(NodeConfig.builder().host("127.0.0.1").port(closedPort()).name("r1").zone("a").build())
                .database("app").user("app").password(PASSWORD).adminToken(TOKEN)
                .healthCheckInterval(Duration.ofMillis(100)).healthCheckTimeout(Duration.ofMillis(500))
                .connectionTimeout(Duration.ofMillis(250))
                .build());
    }

    @AfterEach
    void stop() {
        ds.close();
    }

    @Test
    void bindsGlobalAndPerNodeMetersAndFollowsRuntimeChanges() throws IOException {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ReadsplitMetrics metrics = new ReadsplitMetrics(ds)) {
            metrics.bindTo(registry);
            assertThat(registry.find("readsplit.queries").tag("node", "r1").tag("kind", "read").functionCounter())
                    .isNotNull();
            assertThat(registry.find("readsplit.route.decisions").tag("reason", "SHADOW").functionCounter()).isNotNull();
            assertThat(registry.find("readsplit.pool.connections").tag("node", "r1").tag("state", "pending").gauge())
                    .isNotNull();
            assertThat(registry.find("readsplit.consistency.waits").functionTimer()).isNotNull();

            await().atMost(Duration.ofSeconds(10)).until(() ->
                    registry.get("readsplit.health.check.failures").tag("node", "r1").functionCounter().count() >= 1);
            assertThat(metrics.snapshot().healthCheckFailures()).isPositive();

            String added = ds.addReplica(NodeConfig.builder().host("127.0.0.1").port(closedPort()).name("r2").build());
            assertThat(added).isEqualTo("r2");
            assertThat(Topology.of(ds).node("r2").state()).isNotEqualTo(NodeState.UP);
            assertThat(registry.find("readsplit.replica.lag.bytes").tag("node", "r2").gauge()).isNotNull();
            assertThat(Topology.of(ds).node("r2").config().database()).isEqualTo("app");
            assertThat(Topology.of(ds).node("r2").config().password().reveal()).isEqualTo(PASSWORD);

            assertThat(ds.removeReplica("r2", Duration.ofSeconds(1))).isTrue();
            assertThat(Topology.of(ds).node("r2")).isNull();
            assertThat(registry.find("readsplit.replica.lag.bytes").tag("node", "r2").gauge()).isNull();
            assertThat(ds.recentEvents()).extracting(e -> e.kind().name()).contains("NODE_ADDED", "NODE_REMOVED");

            String tags = registry.getMeters().stream().map(Meter::getId).map(Object::toString)
                    .collect(Collectors.joining("\n"));
            assertThat(tags).doesNotContain(PASSWORD).doesNotContain(TOKEN);
        }
        assertThat(registry.find("readsplit.queries").meters()).isEmpty();
    }

    @Test
    void runtimeChangesRefuseThePrimaryUnknownNamesAndDuplicates() throws IOException {
        String primary = Topology.of(ds).primary().name();
        assertThrows(IllegalStateException.class, () -> ds.drainReplica(primary, Duration.ZERO));
        assertThrows(IllegalStateException.class, () -> ds.removeReplica(primary, Duration.ZERO));
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> ds.drainReplica("nope", Duration.ZERO));
        assertThat(unknown.getMessage()).isEqualTo("unit: no node named 'nope'");
        NodeConfig sameAddress = NodeConfig.builder().host("127.0.0.1").port(Topology.of(ds).node("r1").config().port())
                .name("other").build();
        assertThrows(IllegalArgumentException.class, () -> ds.addReplica(sameAddress));
        NodeConfig sameName = NodeConfig.builder().host("127.0.0.1").port(closedPort()).name("r1").build();
        assertThrows(IllegalArgumentException.class, () -> ds.addReplica(sameName));
    }

    @Test
    void statusSnapshotAndJsonNeverHoldSecrets() {
        await().atMost(Duration.ofSeconds(10)).until(() -> Topology.of(ds).node("r1").lastCheckMillis() > 0);
        StatusSnapshot status = StatusSnapshot.of(ds);
        String json = status.toJson();
        assertThat(json).startsWith("{\"status\":\"degraded\",\"dataSource\":\"unit\"")
                .contains("\"name\":\"r1\"", "\"zone\":\"a\"", "\"database\":\"app\"", "\"connections\":",
                        "\"available\":", "\"p50Seconds\":", "\"p95Seconds\":", "\"p99Seconds\":",
                        "\"meanSeconds\":", "\"minSeconds\":", "\"trend\":", "\"replicaHitRatePercent\":");
        assertThat(status.node("r1").lastHealthCheck()).isNotNull();
        assertThat(status.node("r1").failureCount()).isPositive();
        for (String out : new String[] {json, status.toString(), status.eventsJson(), status.metrics().toJson(),
                status.metrics().toString(), ds.toString(), ds.config().toString()}) {
            assertThat(out).doesNotContain(PASSWORD).doesNotContain(TOKEN);
        }
    }

    @Test
    void redactorMasksEveryConfiguredSecretInFreeText() {
        Redactor r = Redactor.of(ds.config()).and(Topology.of(ds).nodes().stream().map(n -> n.config()).toList());
        assertThat(r.redact("auth failed with " + PASSWORD + " and " + TOKEN)).isEqualTo("auth failed with **** and ****");
        assertThat(r.redact(null)).isNull();
    }

    private static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}

package dev.readsplit.spring.boot;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.metrics.NodeStatus;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.topology.NodeState;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.awaitility.Awaitility.await;

/** Shared by the integration tests: a cluster's readsplit.* properties, waiting for every node to be UP. */
public final class TestClusters {

    private TestClusters() {
    }

    /** The readsplit.* properties (Boot's kebab-case names) for {@code cluster}, with fast health checks. */
    public static List<String> readsplitProperties(EmbeddedCluster cluster) {
        List<String> p = new ArrayList<>();
        p.add("readsplit.name=boot-test");
        p.add("readsplit.primary=" + cluster.primary().host() + ":" + cluster.primary().port());
        List<String> replicas = new ArrayList<>();
        for (EmbeddedNode s : cluster.standbys()) {
            replicas.add(s.host() + ":" + s.port());
        }
        p.add("readsplit.replicas=" + String.join(",", replicas));
        p.add("readsplit.database=" + cluster.database());
        p.add("readsplit.user=" + cluster.user());
        if (cluster.password() != null) {
            p.add("readsplit.password=" + cluster.password());
        }
        p.add("readsplit.health-check-interval=200ms");
        p.add("readsplit.health-check-timeout=1s");
        p.add("readsplit.pool-size=6");
        return p;
    }

    /** The cluster as a jdbc:readsplit: URL, without credentials. */
    public static String readsplitUrl(EmbeddedCluster cluster) {
        StringBuilder sb = new StringBuilder("jdbc:readsplit:postgresql://")
                .append(cluster.primary().host()).append(':').append(cluster.primary().port());
        for (EmbeddedNode s : cluster.standbys()) {
            sb.append(',').append(s.host()).append(':').append(s.port());
        }
        return sb.append('/').append(cluster.database()).append("?healthCheckInterval=200ms").toString();
    }

    /** Waits until every node has been checked and is UP. */
    public static void awaitAllUp(ReadsplitDataSource ds) {
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            StatusSnapshot s = StatusSnapshot.of(ds);
            return s.nodes().stream().allMatch(n -> n.state() == NodeState.UP && n.lastHealthCheck() != null);
        });
    }

    /** Connections borrowed from Readsplit's node pools now, over all nodes. */
    public static int activeInNodePools(ReadsplitDataSource ds) {
        int n = 0;
        for (NodeStatus s : StatusSnapshot.of(ds).nodes()) {
            n += s.pool().active();
        }
        return n;
    }
}

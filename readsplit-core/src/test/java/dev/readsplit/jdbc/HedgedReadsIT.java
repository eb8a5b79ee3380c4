package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;





import java.time.Duration;








import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 17 item 3 on a real cluster: one of two replicas SIGSTOPped under a read load. The reads stuck on it are
 * hedged on the other replica (docs/failover.md, "Hedged reads"), so none fails and reads go on completing during
 * the pause; where each read ran is asked of the server ({@code inet_server_port()}). How many reads per second the
 * pause costs, and the latency, are {@code FailureBenchmark}'s (docs/benchmarks.md), not assertions here.
 */
class HedgedReadsIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).start();
        ds = new ReadsplitDataSource(Clusters.config(cluster).name("hedged")
                .connectionTimeout(Duration.ofMillis(1000)).build());
        Clusters.awaitAllUp(ds);
    }

    @AfterAll
    static void stop() {
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aPausedReplicaCostsNoReadAndReadsGoOnDuringThePause() throws Exception {
        EmbeddedNode paused = cluster.standby(1);
        EmbeddedNode other = cluster.standby(0);
        try (ReadLoad load = new ReadLoad(ds, 4, "hedge-read")) {
            await().atMost(Duration.ofSeconds(30)).until(() -> load.reads(paused.port()) > 100
                    && load.reads(other.port()) > 100);
            long hedgesBefore = ds.hedgesStarted();
            paused.pause();
            long onPausedAtPause;
            long onOtherAtPause;
            long onPausedBeforeResume;
            long onOtherBeforeResume;
            try {
                // let every read that was in flight on it, or routed to it since, be stuck past its budget
                Thread.sleep(200);
                onPausedAtPause = load.reads(paused.port());
                onOtherAtPause = load.reads(other.port());
                await().atMost(Duration.ofSeconds(30)).until(() -> load.reads(other.port()) > onOtherAtPause + 200
                        && ds.hedgesStarted() > hedgesBefore);
                onPausedBeforeResume = load.reads(paused.port());
                onOtherBeforeResume = load.reads(other.port());
            } finally {
                paused.resume();
            }
            Clusters.awaitAllUp(ds);
            await().atMost(Duration.ofSeconds(30)).until(() -> load.reads(paused.port()) > onPausedBeforeResume + 50);
            load.close();

            assertThat(load.errors).as("failed reads").isEmpty();
            assertThat(onPausedBeforeResume).as("no read is answered by a SIGSTOPped server")
                    .isEqualTo(onPausedAtPause);
            assertThat(onOtherBeforeResume - onOtherAtPause).as("reads completed during the pause")
                    .isGreaterThan(200);
            assertThat(ds.hedgesStarted()).as("reads stuck on the paused replica were hedged")
                    .isGreaterThan(hedgesBefore);
            // a hedge still finishing when the load stopped (aborted: its read answered) gives its connection back
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(Topology.of(ds).nodes())
                    .allSatisfy(n -> assertThat(n.poolStats().active())
                            .as("no connection of " + n.name() + " left borrowed").isZero()));
        }
    }

}

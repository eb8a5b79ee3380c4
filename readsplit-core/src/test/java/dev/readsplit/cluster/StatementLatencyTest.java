package dev.readsplit.cluster;

import dev.readsplit.topology.FakeClock;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node's statement-latency distribution (the admin server's latency charts read it) holds every statement that
 * ended on the node, from whichever thread, although statements record into per-thread stripes. No database.
 */
class StatementLatencyTest {

    private Topology topology;
    private Node replica;

    @BeforeEach
    void setUp() {
        topology = new Topology(TopologyTest.config().build(), new FakeClock(1_000_000));
        replica = topology.nodes().get(1);
    }

    @AfterEach
    void tearDown() {
        topology.close();
    }

    @Test
    void everyStatementOfEveryThreadIsInTheDistribution() throws Exception {
        int threads = StatementStats.STRIPES + 3; // more threads than stripes: several share one
        int perThread = 10_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long micros = 100L * (t + 1); // thread t's statements all take (t + 1) x 100 µs (distinct buckets)
            Thread w = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    replica.endStatement(replica.beginStatement(), micros * 1_000, true);
                }
            });
            w.start();
            workers.add(w);
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        Histogram h = replica.statementLatency();
        assertThat(h.getTotalCount()).isEqualTo((long) threads * perThread);
        for (int t = 0; t < threads; t++) {
            assertThat(h.getCountAtValue(100L * (t + 1))).as("thread %d's statements", t).isEqualTo(perThread);
        }
        assertThat(h.getMinValue()).isEqualTo(100);
        assertThat(h.highestEquivalentValue(h.getMaxValue())).isEqualTo(h.highestEquivalentValue(100L * threads));
        assertThat(replica.readsServed()).isEqualTo((long) threads * perThread);
        assertThat(replica.inFlight()).isZero();
        // a copy: statements recorded later do not change it
        replica.endStatement(replica.beginStatement(), 5_000_000, true);
        assertThat(h.getTotalCount()).isEqualTo((long) threads * perThread);
        assertThat(replica.statementLatency().getTotalCount()).isEqualTo((long) threads * perThread + 1);
    }

    @Test
    void isPostgresFollowsTheNodesUrl() {
        assertThat(replica.isPostgres()).isEqualTo(replica.config().isPostgres());
    }
}

package dev.readsplit.routing;

import dev.readsplit.balance.AffinitySlot;
import dev.readsplit.cluster.Node;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Waits, up to {@code readYourWritesWait}, for a replica to replay a session's causal position
 * ({@link Requirement#REPLAY_WAIT}): no replica is known to have (the monitor's positions may be a check old), so the
 * candidates are asked themselves: first after the pause {@link ReplayDelay} has learned (how long positions recently
 * took to replay), then with a backoff from 250 µs to 20 ms. A candidate another session has meanwhile seen past the
 * position is taken without asking. A position a candidate reports is recorded on its node, so the router's next
 * decision sees it. One per data source, shared by its logical connections and the proxy's client sessions, which
 * differ only in how they ask a node ({@link Probe}).
 */
public final class ReplayWait {

    /** How a session asks a standby for its replay position now. */
    @FunctionalInterface
    public interface Probe {
        /**
         * The position {@code node} reports it has replayed, or -1 when it reports none or cannot answer now (the
         * session has sent that failure where its failures go).
         */
        long replayLsn(Node node);
    }

    private static final long FIRST_BACKOFF_NANOS = TimeUnit.MICROSECONDS.toNanos(250);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final ReplicaSelector selector;
    private final long waitNanos;
    private final ReplayDelay delay = new ReplayDelay();

    /** @param waitNanos {@code readYourWritesWait}: how long a read may wait before the router sends it elsewhere */
    public ReplayWait(ReplicaSelector selector, long waitNanos) {
        this.selector = selector;
        this.waitNanos = waitNanos;
    }

    /**
     * How long positions recently took to replay on this data source ({@link ReplayDelay}): the pause before asking a
     * replica again, for a session that asks in its own way (the proxy's replay check, sent with the read).
     */
    public long learnedPauseNanos() {
        return delay.firstPauseNanos();
    }

    /**
     * What such a session found: the position replayed at its first question ({@code elapsedNanos} 0), or only
     * {@code elapsedNanos} after it.
     */
    public void replayed(long elapsedNanos) {
        if (elapsedNanos == 0) {
            delay.replayedAtFirstProbe();
        } else {
            delay.replayedAfter(elapsedNanos);
        }
    }

    /**
     * Returns whether a candidate has replayed {@code minLsn} (then its node knows it).
     *
     * @param affinity the session's affinity slot (a proxy client's), or null for the calling thread's
     */
    public boolean await(long maxLag, long minLsn, Node exclude, AffinitySlot affinity, Probe probe) {
        long start = System.nanoTime();
        long deadline = start + waitNanos;
        long first = Math.min(delay.firstPauseNanos(), waitNanos);
        if (first > 0) {
            LockSupport.parkNanos(first);
        }
        long pause = FIRST_BACKOFF_NANOS;
        boolean firstRound = true;
        while (true) {
            List<Node> candidates = selector.eligible(maxLag, -1, exclude);
            if (candidates.isEmpty()) {
                return false;
            }
            for (Node n : candidates) {
                if (n.replayLsn() >= minLsn) {
                    return true; // another session's probe (or a check) learned it meanwhile: no round trip
                }
            }
            Node[] snapshot = candidates.toArray(new Node[0]);
            // probe the balancer's choice first: probing in configuration order refreshed (and so sent
            // waiting reads, and the reads after them, to) the first replica almost every time
            Node preferred = affinity == null ? selector.choose(candidates) : selector.choose(candidates, affinity);
            for (int i = 1; i < snapshot.length; i++) {
                if (snapshot[i] == preferred) {
                    snapshot[i] = snapshot[0];
                    snapshot[0] = preferred;
                }
            }
            for (Node n : snapshot) {
                int generation = n.replayGeneration();
                long lsn = probe.replayLsn(n);
                if (lsn >= 0) {
                    n.observeReplayLsn(lsn, generation);
                }
                if (lsn >= minLsn) {
                    if (firstRound) {
                        delay.replayedAtFirstProbe();
                    } else {
                        delay.replayedAfter(System.nanoTime() - start);
                    }
                    return true;
                }
            }
            firstRound = false;
            if (System.nanoTime() + pause > deadline) {
                return false;
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, MAX_BACKOFF_NANOS);
        }
    }
}

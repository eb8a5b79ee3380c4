package dev.readsplit.jdbc;

import dev.readsplit.routing.ReplicaSelector;
import dev.readsplit.cluster.Node;

import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Waits, up to {@code readYourWritesWait}, for a replica to replay a session's causal position: no replica is
 * known to have (the monitor's positions may be a check old), so the candidates are asked themselves, over the
 * session's connection to one if it holds one, otherwise over one borrowed for the question and given straight back
 * (a session holds no connection to a replica it does not read from): first after the pause {@link ReplayDelay} has
 * learned (how long positions recently took to replay), then with a backoff from 250 µs to 20 ms. A position a
 * candidate reports is recorded on its node, so the router's next decision sees it.
 */
final class ReplayWait {

    private static final long FIRST_BACKOFF_NANOS = TimeUnit.MICROSECONDS.toNanos(250);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final ReplicaSelector selector;
    private final long waitNanos;
    private final ReplayDelay delay = new ReplayDelay();

    ReplayWait(ReplicaSelector selector, long waitNanos) {
        this.selector = selector;
        this.waitNanos = waitNanos;
    }

    /** Returns whether a candidate has replayed {@code minLsn} (then its node knows it). */
    boolean await(long maxLag, long minLsn, Node exclude, LogicalConnection session) {
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
            Node[] snapshot = candidates.toArray(new Node[0]);
            // probe the balancer's choice first: probing in configuration order refreshed (and so sent
            // waiting reads, and the reads after them, to) the first replica almost every time
            Node preferred = selector.choose(candidates);
            for (int i = 1; i < snapshot.length; i++) {
                if (snapshot[i] == preferred) {
                    snapshot[i] = snapshot[0];
                    snapshot[0] = preferred;
                }
            }
            for (Node n : snapshot) {
                if (n.replayLsn() >= minLsn) {
                    return true; // another session's probe (or a check) learned it meanwhile: no round trip
                }
            }
            for (Node n : snapshot) {
                if (freshReplayLsn(n, session) >= minLsn) {
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

    private static long freshReplayLsn(Node n, LogicalConnection session) {
        try {
            int generation = n.replayGeneration();
            long lsn = session.physicals().ask(n, Long.MAX_VALUE, WalPositions::replayLsn);
            if (lsn >= 0) {
                n.observeReplayLsn(lsn, generation);
            }
            return lsn;
        } catch (SQLException e) {
            session.funnel(n, e);
            return -1;
        }
    }
}

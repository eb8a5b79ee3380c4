package dev.readsplit.balance;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Prefers candidates with a low moving average of response time, without starving the others.
 *
 * <p>Each candidate gets the score {@code weight / (latency × (inFlight + 1))} and is chosen at random with
 * probability proportional to its score. So a node twice as slow gets half the share, never zero (it keeps
 * being sampled, and is promoted again as soon as it recovers); the {@code inFlight} term moves traffic away from
 * a node that is fast but already busy (the "peak EWMA × outstanding" idea of Finagle and Linkerd).
 * Candidates with no latency sample yet ({@code latencyEwmaNanos() == 0}) are scored as if they were as fast as
 * the fastest sampled one, so they are explored at once but do not take all the traffic; when no candidate has
 * a sample every one counts as equally fast.
 *
 * <p>Why not power-of-two-choices: with two replicas it always compares both and the faster always wins, so
 * the slower one would get no traffic at all and its EWMA would never be refreshed.
 *
 * <h2>Concurrency</h2>
 * Stateless apart from the injected {@link RandomGenerator} (see {@link Balancers}); three index passes over
 * the list, no allocation. Latency and in-flight values are read without synchronization; if they change
 * between passes the pick stays valid (the last matching candidate absorbs rounding and drift).
 */
final class LatencyAwareBalancer extends AbstractBalancer {

    private final RandomGenerator random;

    LatencyAwareBalancer(String localZone, RandomGenerator random) {
        super(localZone);
        this.random = random;
    }

    @Override
    int select(List<? extends Candidate> list, String zone, int count) {
        int n = list.size();
        long fastest = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            Candidate c = list.get(i);
            if (matches(c, zone)) {
                long l = c.latencyEwmaNanos();
                if (l > 0 && l < fastest) {
                    fastest = l;
                }
            }
        }
        double unsampled = fastest == Long.MAX_VALUE ? 1.0 : fastest;
        double total = 0;
        for (int i = 0; i < n; i++) {
            Candidate c = list.get(i);
            if (matches(c, zone)) {
                total += score(c, unsampled);
            }
        }
        double r = random.nextDouble() * total;
        int last = -1;
        for (int i = 0; i < n; i++) {
            Candidate c = list.get(i);
            if (matches(c, zone)) {
                last = i;
                r -= score(c, unsampled);
                if (r < 0) {
                    return i;
                }
            }
        }
        return last < 0 ? n - 1 : last;
    }

    private static double score(Candidate c, double unsampledLatency) {
        long l = c.latencyEwmaNanos();
        double latency = l > 0 ? l : unsampledLatency;
        return Math.max(1, c.weight()) / (latency * (Math.max(0, c.inFlight()) + 1.0));
    }
}

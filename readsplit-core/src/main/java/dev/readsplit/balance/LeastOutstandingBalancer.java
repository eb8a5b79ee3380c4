package dev.readsplit.balance;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The candidate with the fewest statements in flight ({@link Candidate#inFlight()}).
 *
 * <p>Ties are broken in turn: each call scans the list once starting at a rotating offset and keeps the first
 * strict minimum, so equally loaded candidates share the traffic instead of the first one taking it all (which
 * is what happens at low load, where every count is 0).
 *
 * <h2>Concurrency</h2>
 * The offset comes from a shared {@link AtomicLong} (one lock-free atomic add per call, mapped with
 * {@code Math.floorMod}). In-flight counts are read without synchronization and may be stale by a few
 * statements; concurrent callers can pick the same least-loaded node at the same instant. That is the usual
 * accepted race of least-outstanding balancing and corrects itself on the next calls.
 */
final class LeastOutstandingBalancer extends AbstractBalancer {

    private final AtomicLong counter;

    LeastOutstandingBalancer(String localZone, long initialCounter) {
        super(localZone);
        this.counter = new AtomicLong(initialCounter);
    }

    @Override
    int select(List<? extends Candidate> list, String zone, int count) {
        int n = list.size();
        int start = (int) Math.floorMod(counter.getAndIncrement(), (long) n);
        int best = -1;
        int bestInFlight = Integer.MAX_VALUE;
        for (int j = 0; j < n; j++) {
            int i = start + j;
            if (i >= n) {
                i -= n;
            }
            Candidate c = list.get(i);
            if (matches(c, zone)) {
                int inFlight = c.inFlight();
                if (best < 0 || inFlight < bestInFlight) {
                    best = i;
                    bestInFlight = inFlight;
                }
            }
        }
        return best < 0 ? n - 1 : best;
    }
}

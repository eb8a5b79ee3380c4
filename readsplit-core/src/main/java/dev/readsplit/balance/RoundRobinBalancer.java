package dev.readsplit.balance;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Each eligible candidate in turn.
 *
 * <h2>Concurrency</h2>
 * One shared {@link AtomicLong} ticket counter; each call takes a ticket with {@code getAndIncrement} (lock-free,
 * one CAS-free atomic add on x86) and picks the {@code floorMod(ticket, count)}-th matching candidate. Tickets are
 * unique, so N calls over a fixed list of k candidates give each exactly {@code N/k} (rounded up or down),
 * whatever the threads; when the list changes size the next tickets simply map onto the new list.
 * {@code Math.floorMod} stays non-negative after the counter wraps (it wraps after 2<sup>64</sup> calls, where the
 * sequence skips or repeats one position once, since 2<sup>64</sup> is not a multiple of most sizes).
 */
final class RoundRobinBalancer extends AbstractBalancer {

    private final AtomicLong counter;

    /** @param initialCounter first ticket (tests start near {@link Long#MAX_VALUE} to cover the wrap) */
    RoundRobinBalancer(String localZone, long initialCounter) {
        super(localZone);
        this.counter = new AtomicLong(initialCounter);
    }

    @Override
    int select(List<? extends Candidate> list, String zone, int count) {
        int k = (int) Math.floorMod(counter.getAndIncrement(), (long) count);
        return kth(list, zone, k);
    }
}

package dev.readsplit.balance;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps each thread on the replica it used last, in runs of a fixed number of choices, and deals the runs out in
 * (weighted) round-robin order, so that a thread reuses the same pool, and so HikariCP's thread-local connection
 * list and the same server backend, instead of switching nodes on every read.
 *
 * <h2>When a thread moves</h2>
 * A thread keeps its replica ("sticks") while all of these hold, and otherwise starts a new run at once:
 * <ul>
 *   <li>the replica is in the eligible list it is given (so it is healthy, not excluded, not lagging, fresh
 *       enough for the consistency asked, not the node a retried read failed on: the caller filters those out);
 *   <li>it is in the preferred zone whenever the list holds a candidate of that zone;
 *   <li>its pool is not saturated while another eligible replica has an idle connection
 *       ({@link Candidate#idleConnections()}: 0 on the sticky one, more on another: the thread moves to the one
 *       with the most idle connections, see {@link AbstractBalancer});
 *   <li>its run is not over: a run is {@link #DEFAULT_RUN_LENGTH} choices.
 * </ul>
 *
 * <h2>Balance bound</h2>
 * Each run starts with one ticket from a shared counter; ticket {@code t} goes to the candidate that weighted
 * round-robin puts at {@code floorMod(t, W)} ({@code W} the sum of the matching candidates' weights). With a
 * stable eligible list and no move for saturation, every run but each thread's current one has exactly
 * {@code L} choices, and the tickets give candidate {@code i} its weighted share of the runs to within
 * {@code w_i}. So over {@code N} choices by {@code T} threads, candidate {@code i} receives
 * {@code N × w_i / W} choices to within {@code L × (T + w_i)}: with {@code L = 64}, 8 threads and two equal
 * replicas, at most 576 choices from an even split, below 1 % of a 100,000-read run and below the 10 % bound
 * from about 12,000 reads on. Moves for saturation follow free connections instead (pools of equal size keep
 * those balanced by themselves); moves for eligibility follow the eligible list. The bound does not depend on
 * timing: runs are counted in choices, not in time, so there is no clock to inject; there is no randomness either.
 *
 * <h2>Concurrency</h2>
 * Each thread's current replica and the choices left in its run live in a {@link ThreadLocal} owned by this
 * balancer (an instance field, not static: two data sources never share it); they are read and written by their
 * own thread only, so they are plain fields. The only shared state is the ticket counter, an {@link AtomicLong}
 * taken once per run (once every {@code L} choices, where round-robin takes it on every choice). The candidate a
 * thread sticks to is compared by identity against the list it is given, so a candidate that left the list (or a
 * list rebuilt without it) simply starts a new run. A slot holds a reference to the last candidate until its
 * thread's next choice (a removed node is kept reachable by an idle thread until then). Nothing is allocated per
 * choice; the slot is allocated once per thread.
 */
final class AffinityBalancer extends AbstractBalancer {

    /** Choices per run: long enough that switching costs nothing measurable, short enough for a tight bound. */
    static final int DEFAULT_RUN_LENGTH = 64;

    private final AtomicLong tickets;
    private final int runLength;
    private final ThreadLocal<Slot> slots = ThreadLocal.withInitial(Slot::new);

    /** One thread's current replica and the choices left in its run; confined to that thread. */
    private static final class Slot {
        Candidate last;
        int left;
    }

    AffinityBalancer(String localZone, int runLength, long initialTicket) {
        super(localZone, false);
        if (runLength < 1) {
            throw new IllegalArgumentException("runLength must be at least 1: " + runLength);
        }
        this.runLength = runLength;
        this.tickets = new AtomicLong(initialTicket);
    }

    @Override
    int select(List<? extends Candidate> list, String zone, int count) {
        Slot slot = slots.get();
        Candidate last = slot.last;
        if (last != null && slot.left > 0) {
            int i = indexOf(list, last);
            if (i >= 0 && matches(last, zone)) {
                int idle = preferIdle(list, zone, i);
                if (idle == i) {
                    slot.left--;
                    return i;
                }
                // saturated while another has an idle connection: move there, for a whole new run
                slot.last = list.get(idle);
                slot.left = runLength - 1;
                return idle;
            }
        }
        int i = preferIdle(list, zone, byTicket(list, zone));
        slot.last = list.get(i);
        slot.left = runLength - 1;
        return i;
    }

    /** Weighted round-robin over the matching candidates, one ticket per run. */
    private int byTicket(List<? extends Candidate> list, String zone) {
        int n = list.size();
        long total = 0;
        for (int i = 0; i < n; i++) {
            Candidate c = list.get(i);
            if (matches(c, zone)) {
                total += Math.max(1, c.weight());
            }
        }
        long r = Math.floorMod(tickets.getAndIncrement(), total);
        int lastMatch = n - 1;
        for (int i = 0; i < n; i++) {
            Candidate c = list.get(i);
            if (matches(c, zone)) {
                lastMatch = i;
                r -= Math.max(1, c.weight());
                if (r < 0) {
                    return i;
                }
            }
        }
        // a weight changed between the passes: the last matching candidate absorbs the difference
        return lastMatch;
    }

    private static int indexOf(List<? extends Candidate> list, Candidate c) {
        for (int i = 0, n = list.size(); i < n; i++) {
            if (list.get(i) == c) {
                return i;
            }
        }
        return -1;
    }
}

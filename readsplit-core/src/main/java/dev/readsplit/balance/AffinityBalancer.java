package dev.readsplit.balance;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Keeps each thread on the replica it used last, in runs of up to {@link #DEFAULT_RUN_LENGTH} choices, and deals the
 * runs out in (weighted) round-robin order, so that a thread reuses the same pool, and so HikariCP's thread-local
 * connection list and the same server backend, instead of switching nodes on every read.
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
 *   <li>the thread keeps reading: its previous choice was at most {@link #DEFAULT_MAX_GAP_NANOS} ago. A thread that
 *       reads now and then starts a run at each read, so it is dealt its reads one by one (round-robin): stickiness
 *       pays only when a thread reads back to back, and a thread that paused is never left on one replica for long;
 *   <li>its run is not over: a run is {@link #DEFAULT_RUN_LENGTH} choices.
 * </ul>
 *
 * <h2>Balance bound</h2>
 * Each run starts with one ticket from a shared counter; ticket {@code t} goes to the candidate that weighted
 * round-robin puts at {@code floorMod(t, W)} ({@code W} the sum of the matching candidates' weights). With a
 * stable eligible list, threads that read without pauses and no move for saturation, every run but each thread's
 * current one has exactly {@code L} choices, and the tickets give candidate {@code i} its weighted share of the runs
 * to within {@code w_i}. So over {@code N} choices by {@code T} threads, candidate {@code i} receives
 * {@code N × w_i / W} choices to within {@code L × (T + w_i)}: with {@code L = 4096}, 8 threads and two equal
 * replicas, at most 36,864 choices from an even split, within 10 % of each replica's share from about 740,000
 * reads on (about ten seconds of 8 threads reading back to back on this project's benchmark machine). Runs cut
 * short by a pause are dealt like any other, one ticket each; moves for saturation follow free connections
 * instead (pools of equal size keep those balanced by themselves); moves for eligibility follow the eligible list.
 * Runs are counted in choices; the only clock is the one that measures a thread's pause between two reads,
 * injected so that tests drive it. There is no randomness.
 *
 * <h2>Why runs this long</h2>
 * On the benchmark machine (docs/benchmarks.md, issue 16) point selects ran at 0.76 × one pool on one replica with
 * runs of 64 reads and at 0.97 × with runs that never end: a thread that moves gets another backend's connection
 * (and cold caches), and the cost falls with the number of moves. 4096 keeps that cost below one percent.
 *
 * <h2>Threads or sessions</h2>
 * By default the unit that keeps a replica is the thread. A caller whose sessions are not threads (the proxy)
 * passes each session's own {@link AffinitySlot}; everything above then holds per session instead of per thread.
 *
 * <h2>Concurrency</h2>
 * Each thread's current replica, the choices left in its run and the time of its last choice live in a
 * {@link ThreadLocal} owned by this balancer (an instance field, not static: two data sources never share it); they
 * are read and written by their own thread only, so they are plain fields. The only shared state is the ticket
 * counter, an {@link AtomicLong} taken once per run (once every {@code L} choices for a busy thread, where
 * round-robin takes it on every choice). The candidate a thread sticks to is compared by identity against the list it
 * is given, so a candidate that left the list (or a list rebuilt without it) simply starts a new run. A slot holds a
 * reference to the last candidate until its thread's next choice (a removed node is kept reachable by an idle thread
 * until then). Nothing is allocated per choice; the slot is allocated once per thread.
 */
final class AffinityBalancer extends AbstractBalancer {

    /** Choices per run: long enough that switching costs nothing measurable, short enough for a stated bound. */
    static final int DEFAULT_RUN_LENGTH = 4096;

    /** A thread whose previous choice is older than this starts a new run: 10 ms. */
    static final long DEFAULT_MAX_GAP_NANOS = 10_000_000L;

    private final AtomicLong tickets;
    private final int runLength;
    private final long maxGapNanos;
    private final LongSupplier nanoClock;
    private final ThreadLocal<AffinitySlot> slots = ThreadLocal.withInitial(AffinitySlot::new);

    AffinityBalancer(String localZone, int runLength, long initialTicket) {
        this(localZone, runLength, DEFAULT_MAX_GAP_NANOS, System::nanoTime, initialTicket);
    }

    /**
     * @param runLength   choices per run, at least 1
     * @param maxGapNanos a thread whose previous choice is older than this starts a new run (at least 0)
     * @param nanoClock   a monotonic clock in nanoseconds ({@link System#nanoTime()} in production)
     */
    AffinityBalancer(String localZone, int runLength, long maxGapNanos, LongSupplier nanoClock, long initialTicket) {
        super(localZone, false);
        if (runLength < 1) {
            throw new IllegalArgumentException("runLength must be at least 1: " + runLength);
        }
        if (maxGapNanos < 0) {
            throw new IllegalArgumentException("maxGapNanos must not be negative: " + maxGapNanos);
        }
        this.runLength = runLength;
        this.maxGapNanos = maxGapNanos;
        this.nanoClock = java.util.Objects.requireNonNull(nanoClock, "nanoClock");
        this.tickets = new AtomicLong(initialTicket);
    }

    @Override
    int select(List<? extends Candidate> list, String zone, int count) {
        return select(list, zone, count, null);
    }

    @Override
    int select(List<? extends Candidate> list, String zone, int count, AffinitySlot session) {
        AffinitySlot slot = session != null ? session : slots.get();
        Candidate last = slot.last;
        long now = nanoClock.getAsLong();
        boolean reading = now - slot.lastChoice <= maxGapNanos;
        slot.lastChoice = now;
        if (last != null && slot.left > 0 && reading) {
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

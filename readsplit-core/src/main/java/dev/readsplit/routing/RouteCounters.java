package dev.readsplit.routing;

import dev.readsplit.RouteReason;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The router's counters: decisions by reason (applied, and what shadow mode would have done), read retries,
 * misroutes, consistency waits. Thread-safe ({@link LongAdder}s: contention-free increments, summed on read).
 */
public final class RouteCounters {

    private static final RouteReason[] REASONS = RouteReason.values();

    private final LongAdder[] routes = new LongAdder[REASONS.length];
    private final LongAdder[] shadow = new LongAdder[REASONS.length];
    private final LongAdder retries = new LongAdder();
    private final LongAdder misroutes = new LongAdder();
    private final LongAdder waits = new LongAdder();
    private final LongAdder waitNanos = new LongAdder();
    private final LongAdder hedgesStarted = new LongAdder();
    private final LongAdder hedgesWon = new LongAdder();
    private final LongAdder hedgesLost = new LongAdder();
    private final LongAdder hedgesFailed = new LongAdder();
    private final LongAdder hedgesDenied = new LongAdder();

    public RouteCounters() {
        for (int i = 0; i < REASONS.length; i++) {
            routes[i] = new LongAdder();
            shadow[i] = new LongAdder();
        }
    }

    void route(RouteReason reason) {
        routes[reason.ordinal()].increment();
    }

    void shadow(RouteReason reason) {
        shadow[reason.ordinal()].increment();
    }

    void misroute() {
        misroutes.increment();
    }

    /** A read is being retried on another node. */
    public void retry() {
        retries.increment();
    }

    /** A read waited {@code nanos} for a replica to replay its causal position (whatever the outcome). */
    public void consistencyWait(long nanos) {
        waits.increment();
        waitNanos.add(nanos);
    }

    /** A read past its latency budget was hedged on another node. */
    public void hedgeStarted() {
        hedgesStarted.increment();
    }

    /** A hedge answered first. */
    public void hedgeWon() {
        hedgesWon.increment();
    }

    /** The hedged read answered first; its hedge was aborted. */
    public void hedgeLost() {
        hedgesLost.increment();
    }

    /** A hedge failed on its own node or was dropped before it ran. */
    public void hedgeFailed() {
        hedgesFailed.increment();
    }

    /** A read past its budget was not hedged: hedges had used up their share. */
    public void hedgeDenied() {
        hedgesDenied.increment();
    }

    public long hedgesStarted() {
        return hedgesStarted.sum();
    }

    public long hedgesWon() {
        return hedgesWon.sum();
    }

    public long hedgesLost() {
        return hedgesLost.sum();
    }

    public long hedgesFailed() {
        return hedgesFailed.sum();
    }

    public long hedgesDenied() {
        return hedgesDenied.sum();
    }

    /** Decisions applied so far, by reason (reasons never used are left out). */
    public Map<RouteReason, Long> routes() {
        return snapshot(routes);
    }

    /** In shadow mode: where statements would have gone, by reason. */
    public Map<RouteReason, Long> shadowRoutes() {
        return snapshot(shadow);
    }

    public long retries() {
        return retries.sum();
    }

    public long misroutes() {
        return misroutes.sum();
    }

    public long consistencyWaits() {
        return waits.sum();
    }

    public long consistencyWaitNanos() {
        return waitNanos.sum();
    }

    private static Map<RouteReason, Long> snapshot(LongAdder[] counts) {
        Map<RouteReason, Long> out = new EnumMap<>(RouteReason.class);
        for (int i = 0; i < counts.length; i++) {
            long n = counts[i].sum();
            if (n > 0) {
                out.put(REASONS[i], n);
            }
        }
        return out;
    }
}

package dev.readsplit.balance;

import java.util.Locale;

/** How reads are spread over the eligible replicas. See {@link Balancers}. */
public enum BalancerKind {
    /**
     * Each eligible replica in turn, read by read: what a single thread that must alternate needs (a placement test,
     * a job spreading a few reads); it pays a node switch on every read.
     */
    ROUND_ROBIN,
    /** Uniformly at random. */
    RANDOM,
    /** At random, in proportion to each node's {@code weight}. */
    WEIGHTED,
    /** The replica with the fewest statements in flight; ties broken in turn. */
    LEAST_OUTSTANDING,
    /** Prefers replicas with a low moving average of response time, without starving the others. */
    LATENCY_AWARE,
    /**
     * The default. Each thread (or, in the proxy, each client session) keeps the replica it used last, in runs of up to
     * 4096 reads dealt out in weighted round-robin order; a read more than 10 ms after the thread's previous one starts
     * a new run. Moves at once off a replica that is no longer eligible, out of the preferred zone while one in it is
     * eligible, or whose pool is saturated while another has idle connections. Balance: within
     * 4096 × (threads + weight) reads of each replica's weighted share (docs/routing.md, "Affinity").
     */
    AFFINITY;

    /**
     * The kind named {@code text}, case-insensitively, {@code -} and {@code _} interchangeable
     * ({@code least-outstanding}); {@code null} when no kind has that name (the configuration reports it).
     */
    public static BalancerKind byName(String text) {
        String norm = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (BalancerKind k : values()) {
            if (k.name().equals(norm)) {
                return k;
            }
        }
        return null;
    }
}

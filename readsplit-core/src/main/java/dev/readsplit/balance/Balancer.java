package dev.readsplit.balance;

import java.util.List;

/**
 * Chooses one node among the eligible ones (healthy, fresh enough for the consistency asked). Implementations
 * are made by {@link Balancers#create}; they are thread-safe, lock-free, and allocate nothing per call.
 */
public interface Balancer {

    /**
     * Chooses one element of {@code eligible}.
     *
     * @param eligible the eligible candidates; must be a {@link java.util.RandomAccess} list (it is read by
     *                 index, never iterated) and must not change during the call; it is not modified
     * @return one element of {@code eligible}, or null if it is empty
     */
    <T extends Candidate> T choose(List<T> eligible);

    /**
     * {@link #choose(List)} for a session that keeps its own {@link AffinitySlot} instead of its thread's: only
     * {@link BalancerKind#AFFINITY} reads it; every other kind chooses as {@link #choose(List)} does.
     *
     * @param slot the session's slot, or null for the calling thread's
     */
    default <T extends Candidate> T choose(List<T> eligible, AffinitySlot slot) {
        return choose(eligible);
    }
}

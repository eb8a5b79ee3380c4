package dev.readsplit.failover;

import java.util.Collection;

/**
 * Who gets promoted: the replica with the highest replay position, ties broken by the smallest name. A pure
 * function of its input, so every Readsplit instance that sees the same positions elects the same node (the
 * first line of defence against two instances promoting two different nodes; the second is that a promotion
 * is skipped when the elected node already reports itself primary).
 */
final class Election {

    /** A replica that answered the survey, and the WAL position it will be at when promoted. */
    record Candidate(String name, long position) {
    }

    private Election() {
    }

    /** The winner, or null when there are no candidates. */
    static Candidate elect(Collection<Candidate> candidates) {
        Candidate best = null;
        for (Candidate c : candidates) {
            if (best == null || c.position() > best.position()
                    || (c.position() == best.position() && c.name().compareTo(best.name()) < 0)) {
                best = c;
            }
        }
        return best;
    }
}

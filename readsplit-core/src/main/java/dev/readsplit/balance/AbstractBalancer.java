package dev.readsplit.balance;

import java.util.List;

/**
 * The zone-preference and idle-connection wrapper shared by every kind. {@link #choose} counts the candidates in
 * the local zone (one pass, no allocation) and hands the strategy the zone to filter on (or null for all) and the
 * number of candidates that pass; strategies only look at candidates for which {@link #matches} is true.
 *
 * <h2>Idle connections first</h2>
 * When the strategy's choice reports no idle connection in its pool ({@link Candidate#idleConnections()} is 0)
 * while another matching candidate has some, the one with the most idle connections is taken instead: a read
 * never waits on a saturated pool while an equally eligible replica could serve it at once. The alternatives come
 * from the same eligible list and the same zone filter, so consistency and zone preference are kept; a strategy's
 * proportions (round-robin's exact shares, weights) hold whenever the pools have idle connections, and yield to
 * free connections when they do not. Candidates that do not know their pool report -1 and are never moved.
 */
abstract class AbstractBalancer implements Balancer {

    /** Zone to prefer, or null. Immutable. */
    final String localZone;

    /** Whether {@link #choose} applies {@link #preferIdle} to the strategy's choice (false: the strategy does). */
    private final boolean idleFirst;

    AbstractBalancer(String localZone) {
        this(localZone, true);
    }

    AbstractBalancer(String localZone, boolean idleFirst) {
        this.localZone = localZone;
        this.idleFirst = idleFirst;
    }

    @Override
    public final <T extends Candidate> T choose(List<T> eligible) {
        return choose(eligible, null);
    }

    @Override
    public final <T extends Candidate> T choose(List<T> eligible, AffinitySlot slot) {
        int n = eligible.size();
        if (n == 0) {
            return null;
        }
        String zone = null;
        int count = n;
        if (localZone != null) {
            int local = 0;
            for (int i = 0; i < n; i++) {
                if (localZone.equals(eligible.get(i).zone())) {
                    local++;
                }
            }
            if (local > 0) {
                zone = localZone;
                count = local;
            }
        }
        if (count == 1) {
            return eligible.get(kth(eligible, zone, 0));
        }
        int i = select(eligible, zone, count, slot);
        return eligible.get(idleFirst ? preferIdle(eligible, zone, i) : i);
    }

    /** {@link #select(List, String, int)}, for a session with its own {@link AffinitySlot} (null: none). */
    int select(List<? extends Candidate> list, String zone, int count, AffinitySlot slot) {
        return select(list, zone, count);
    }

    /**
     * {@code chosen}, unless its pool has no idle connection and another matching candidate's has: then the
     * matching candidate with the most idle connections (the first of them, in list order, on a tie).
     */
    static int preferIdle(List<? extends Candidate> list, String zone, int chosen) {
        if (list.get(chosen).idleConnections() != 0) {
            return chosen; // idle connections, or unknown
        }
        int best = chosen;
        int bestIdle = 0;
        for (int i = 0, n = list.size(); i < n; i++) {
            if (i == chosen) {
                continue;
            }
            Candidate c = list.get(i);
            if (matches(c, zone)) {
                int idle = c.idleConnections();
                if (idle > bestIdle) {
                    best = i;
                    bestIdle = idle;
                }
            }
        }
        return best;
    }

    /**
     * The index of the chosen candidate.
     *
     * @param list  the eligible candidates (size at least 1)
     * @param zone  only candidates in this zone may be chosen; null for all
     * @param count how many candidates may be chosen (at least 1)
     */
    abstract int select(List<? extends Candidate> list, String zone, int count);

    static boolean matches(Candidate c, String zone) {
        return zone == null || zone.equals(c.zone());
    }

    /** The index in {@code list} of the {@code k}-th (0-based) candidate that matches {@code zone}. */
    static int kth(List<? extends Candidate> list, String zone, int k) {
        if (zone == null) {
            return k;
        }
        int seen = 0;
        int n = list.size();
        for (int i = 0; i < n; i++) {
            if (zone.equals(list.get(i).zone())) {
                if (seen == k) {
                    return i;
                }
                seen++;
            }
        }
        // The list changed under us (contract violation); stay total.
        return n - 1;
    }
}

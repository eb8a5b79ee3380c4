package dev.readsplit.balance;

import java.util.List;

/**
 * The zone-preference wrapper shared by every kind. {@link #choose} counts the candidates in the local zone
 * (one pass, no allocation) and hands the strategy the zone to filter on (or null for all) and the number of
 * candidates that pass; strategies only look at candidates for which {@link #matches} is true.
 */
abstract class AbstractBalancer implements Balancer {

    /** Zone to prefer, or null. Immutable. */
    final String localZone;

    AbstractBalancer(String localZone) {
        this.localZone = localZone;
    }

    @Override
    public final <T extends Candidate> T choose(List<T> eligible) {
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
        return eligible.get(select(eligible, zone, count));
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

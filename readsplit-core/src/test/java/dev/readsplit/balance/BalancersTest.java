package dev.readsplit.balance;

import dev.readsplit.balance.BalancerKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BalancersTest {

    static List<TestCandidate> candidates(int n) {
        List<TestCandidate> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(new TestCandidate("n" + i));
        }
        return list;
    }

    static Balancer balancer(BalancerKind kind, String zone) {
        return Balancers.create(kind, zone, new SplittableRandom(42));
    }

    /**
     * {@code base} choices, or, for {@link BalancerKind#AFFINITY} (which keeps one thread on one candidate for a run
     * of {@link AffinityBalancer#DEFAULT_RUN_LENGTH} choices), enough for that thread to be dealt every one of
     * {@code candidates} candidates.
     */
    static int choicesToReachAll(BalancerKind kind, int base, int candidates) {
        return kind == BalancerKind.AFFINITY ? Math.max(base, AffinityBalancer.DEFAULT_RUN_LENGTH * (candidates + 1)) : base;
    }

    static Map<TestCandidate, Integer> pick(Balancer b, List<TestCandidate> list, int times) {
        Map<TestCandidate, Integer> counts = new HashMap<>();
        for (int i = 0; i < times; i++) {
            counts.merge(b.choose(list), 1, Integer::sum);
        }
        return counts;
    }

    // ---- every kind ---------------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(BalancerKind.class)
    void nullOnEmpty(BalancerKind kind) {
        assertThat(balancer(kind, null).choose(List.<TestCandidate>of())).isNull();
        assertThat(balancer(kind, "eu-1a").choose(List.<TestCandidate>of())).isNull();
    }

    @ParameterizedTest
    @EnumSource(BalancerKind.class)
    void singleCandidateIsAlwaysChosen(BalancerKind kind) {
        List<TestCandidate> one = candidates(1);
        Balancer b = balancer(kind, "elsewhere");
        for (int i = 0; i < 10; i++) {
            assertThat(b.choose(one)).isSameAs(one.get(0));
        }
    }

    @ParameterizedTest
    @EnumSource(BalancerKind.class)
    void onlyEverChoosesAnEligibleCandidateAndReachesEveryOne(BalancerKind kind) {
        List<TestCandidate> all = candidates(5);
        all.get(0).weight(3).latency(1_000_000).inFlight(2);
        all.get(1).latency(5_000_000);
        all.get(3).weight(2).inFlight(1);
        Balancer b = balancer(kind, null);
        for (int size = 1; size <= all.size(); size++) {
            List<TestCandidate> eligible = all.subList(0, size);
            int runs = eligible.stream().mapToInt(c -> Math.max(1, c.weight())).sum(); // weighted: a run per weight unit
            Map<TestCandidate, Integer> counts = pick(b, eligible, choicesToReachAll(kind, 2_000, runs));
            assertThat(eligible).containsAll(counts.keySet());
            if (kind != BalancerKind.LEAST_OUTSTANDING) {
                assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(eligible);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BalancerKind.class)
    void zonePreferenceChoosesLocalCandidatesOnly(BalancerKind kind) {
        List<TestCandidate> list = candidates(5);
        list.get(1).zone("eu-1a").latency(9_000_000).inFlight(5);
        list.get(3).zone("eu-1a").latency(8_000_000).inFlight(5);
        list.get(0).zone("eu-1b").latency(1_000).weight(100);
        list.get(2).zone("eu-1b");
        Map<TestCandidate, Integer> counts = pick(balancer(kind, "eu-1a"), list, choicesToReachAll(kind, 3_000, 2));
        assertThat(counts.keySet()).isSubsetOf(list.get(1), list.get(3));
        if (kind != BalancerKind.LEAST_OUTSTANDING) {
            assertThat(counts.keySet()).containsExactlyInAnyOrder(list.get(1), list.get(3));
        }
    }

    @ParameterizedTest
    @EnumSource(BalancerKind.class)
    void zonePreferenceFallsBackToOtherZones(BalancerKind kind) {
        List<TestCandidate> list = candidates(3);
        list.get(0).zone("eu-1b");
        list.get(1).zone("us-1");
        Map<TestCandidate, Integer> counts = pick(balancer(kind, "eu-1a"), list, choicesToReachAll(kind, 3_000, list.size()));
        assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(list);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(NullPointerException.class, () -> Balancers.create(null, null, new SplittableRandom()));
        assertThrows(NullPointerException.class, () -> Balancers.create(BalancerKind.RANDOM, null, null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Balancers.create(BalancerKind.RANDOM, " ", new SplittableRandom()));
        assertThat(e).hasMessage("localZone must not be blank: ' '");
    }

    @ParameterizedTest
    @EnumSource(BalancerKind.class)
    void productionRandomIsUsable(BalancerKind kind) {
        List<TestCandidate> list = candidates(3);
        Balancer b = Balancers.create(kind, null);
        for (int i = 0; i < 100; i++) {
            assertThat(list).contains(b.choose(list));
        }
    }

    // ---- round-robin ----------------------------------------------------------------------------------------------

    @Test
    void roundRobinIsExactlyEven() {
        List<TestCandidate> list = candidates(3);
        Balancer b = balancer(BalancerKind.ROUND_ROBIN, null);
        List<TestCandidate> order = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            order.add(b.choose(list));
        }
        assertThat(order).containsExactly(list.get(0), list.get(1), list.get(2), list.get(0), list.get(1),
                list.get(2));
        assertThat(pick(b, list, 30_000).values()).containsOnly(10_000);
    }

    @Test
    void roundRobinStaysInRangeAndEvenAcrossCounterWrap() {
        List<TestCandidate> list = candidates(3);
        RoundRobinBalancer b = new RoundRobinBalancer(null, Long.MAX_VALUE - 1_000);
        Map<TestCandidate, Integer> counts = pick(b, list, 3_000);
        assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(999, 1_001));
        assertThat(counts.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(3_000);
    }

    @Test
    void roundRobinNearIntegerMaxDoesNotGoNegative() {
        // Regression guard for Math.abs(counter++) % n, which is negative at Integer.MIN_VALUE.
        List<TestCandidate> list = candidates(3);
        RoundRobinBalancer b = new RoundRobinBalancer(null, Integer.MAX_VALUE - 10L);
        assertThat(pick(b, list, 30).values()).containsOnly(10);
        RoundRobinBalancer wrapped = new RoundRobinBalancer(null, Long.MIN_VALUE);
        assertThat(pick(wrapped, list, 30).values()).containsOnly(10);
    }

    @Test
    void roundRobinSpreadsEvenlyWhenTheListShrinksAndGrows() {
        List<TestCandidate> all = candidates(4);
        Balancer b = balancer(BalancerKind.ROUND_ROBIN, null);
        pick(b, all, 7);
        assertThat(pick(b, all.subList(0, 3), 300).values()).containsOnly(100);
        assertThat(pick(b, all, 400).values()).containsOnly(100);
    }

    @Test
    void roundRobinWithZonePreferenceIsEvenOverLocalCandidates() {
        List<TestCandidate> list = candidates(5);
        list.get(0).zone("a");
        list.get(2).zone("a");
        list.get(4).zone("a");
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.ROUND_ROBIN, "a"), list, 3_000);
        assertThat(counts).containsOnlyKeys(list.get(0), list.get(2), list.get(4));
        assertThat(counts.values()).containsOnly(1_000);
    }

    @Test
    void roundRobinUnderRealThreadsGivesExactTotals() throws Exception {
        List<TestCandidate> list = candidates(3);
        Balancer b = balancer(BalancerKind.ROUND_ROBIN, null);
        int threads = 8;
        int perThread = 100_000;
        AtomicLongArray counts = new AtomicLongArray(list.size());
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread w = new Thread(() -> {
                long[] local = new long[list.size()];
                try {
                    start.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    TestCandidate c = b.choose(list);
                    local[list.indexOf(c)]++;
                }
                for (int i = 0; i < local.length; i++) {
                    counts.addAndGet(i, local[i]);
                }
            });
            w.start();
            workers.add(w);
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        long total = 0;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (int i = 0; i < counts.length(); i++) {
            total += counts.get(i);
            min = Math.min(min, counts.get(i));
            max = Math.max(max, counts.get(i));
        }
        assertThat(total).isEqualTo((long) threads * perThread);
        assertThat(max - min).isLessThanOrEqualTo(1);
    }

    // ---- random -----------------------------------------------------------------------------------------------------

    @Test
    void randomIsRoughlyUniform() {
        List<TestCandidate> list = candidates(4);
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.RANDOM, null), list, 100_000);
        assertThat(counts.values()).allSatisfy(n -> assertThat(n / 100_000.0).isCloseTo(0.25, within(0.01)));
    }

    @Test
    void randomIsDeterministicWithASeededSource() {
        List<TestCandidate> list = candidates(5);
        Balancer a = balancer(BalancerKind.RANDOM, null);
        Balancer b = balancer(BalancerKind.RANDOM, null);
        for (int i = 0; i < 100; i++) {
            assertThat(a.choose(list)).isSameAs(b.choose(list));
        }
    }

    // ---- weighted ---------------------------------------------------------------------------------------------------

    @Test
    void weightedFollowsWeightsWithinTolerance() {
        List<TestCandidate> list = candidates(3);
        list.get(0).weight(1);
        list.get(1).weight(3);
        list.get(2).weight(6);
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.WEIGHTED, null), list, 100_000);
        assertThat(counts.get(list.get(0)) / 100_000.0).isCloseTo(0.1, within(0.01));
        assertThat(counts.get(list.get(1)) / 100_000.0).isCloseTo(0.3, within(0.01));
        assertThat(counts.get(list.get(2)) / 100_000.0).isCloseTo(0.6, within(0.01));
    }

    @Test
    void weightedWithZonePreferenceIgnoresOtherZonesWeights() {
        List<TestCandidate> list = candidates(3);
        list.get(0).weight(1).zone("a");
        list.get(1).weight(1000).zone("b");
        list.get(2).weight(3).zone("a");
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.WEIGHTED, "a"), list, 100_000);
        assertThat(counts).containsOnlyKeys(list.get(0), list.get(2));
        assertThat(counts.get(list.get(2)) / 100_000.0).isCloseTo(0.75, within(0.01));
    }

    // ---- least outstanding ------------------------------------------------------------------------------------------

    @Test
    void leastOutstandingPicksTheLeastLoaded() {
        List<TestCandidate> list = candidates(4);
        list.get(0).inFlight(5);
        list.get(1).inFlight(3);
        list.get(2).inFlight(1);
        list.get(3).inFlight(7);
        Balancer b = balancer(BalancerKind.LEAST_OUTSTANDING, null);
        for (int i = 0; i < 20; i++) {
            assertThat(b.choose(list)).isSameAs(list.get(2));
        }
    }

    @Test
    void leastOutstandingBreaksTiesInTurn() {
        List<TestCandidate> list = candidates(4);
        list.get(1).inFlight(2);
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.LEAST_OUTSTANDING, null), list, 3_000);
        assertThat(counts).containsOnlyKeys(list.get(0), list.get(2), list.get(3));
        assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(500, 1_500));
    }

    @Test
    void leastOutstandingFollowsChangingLoad() {
        List<TestCandidate> list = candidates(2);
        Balancer b = balancer(BalancerKind.LEAST_OUTSTANDING, null);
        for (int i = 0; i < 10; i++) {
            TestCandidate c = b.choose(list);
            c.inFlight(c.inFlight + 1);
        }
        assertThat(list.get(0).inFlight).isEqualTo(5);
        assertThat(list.get(1).inFlight).isEqualTo(5);
    }

    // ---- latency aware ----------------------------------------------------------------------------------------------

    @Test
    void latencyAwareSendsMostTrafficToTheFastestButStarvesNone() {
        List<TestCandidate> list = candidates(3);
        list.get(0).latency(10_000_000);
        list.get(1).latency(1_000_000);
        list.get(2).latency(5_000_000);
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.LATENCY_AWARE, null), list, 100_000);
        assertThat(counts.get(list.get(1))).isGreaterThan(counts.get(list.get(2)));
        assertThat(counts.get(list.get(2))).isGreaterThan(counts.get(list.get(0)));
        assertThat(counts.get(list.get(1))).isGreaterThan(50_000);
        assertThat(counts.get(list.get(0))).isGreaterThan(1_000);
    }

    @Test
    void latencyAwareDoesNotStarveTheSlowerOfTwo() {
        List<TestCandidate> list = candidates(2);
        list.get(0).latency(1_000_000);
        list.get(1).latency(4_000_000);
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.LATENCY_AWARE, null), list, 100_000);
        assertThat(counts.get(list.get(0)) / 100_000.0).isCloseTo(0.8, within(0.01));
        assertThat(counts.get(list.get(1)) / 100_000.0).isCloseTo(0.2, within(0.01));
    }

    @Test
    void latencyAwareExploresCandidatesWithoutASample() {
        List<TestCandidate> list = candidates(3);
        list.get(0).latency(2_000_000);
        list.get(1).latency(8_000_000);
        // list.get(2) has no sample yet: it is treated as fast as the fastest.
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.LATENCY_AWARE, null), list, 100_000);
        assertThat(counts.get(list.get(2)) / 100_000.0).isCloseTo(4.0 / 9, within(0.01));
        assertThat(counts.get(list.get(1))).isGreaterThan(0);
    }

    @Test
    void latencyAwareWithNoSamplesIsUniform() {
        List<TestCandidate> list = candidates(4);
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.LATENCY_AWARE, null), list, 100_000);
        assertThat(counts.values()).allSatisfy(n -> assertThat(n / 100_000.0).isCloseTo(0.25, within(0.01)));
    }

    @Test
    void latencyAwareMovesTrafficAwayFromABusyFastNode() {
        List<TestCandidate> list = candidates(2);
        list.get(0).latency(1_000_000).inFlight(9);
        list.get(1).latency(2_000_000);
        Map<TestCandidate, Integer> counts = pick(balancer(BalancerKind.LATENCY_AWARE, null), list, 10_000);
        assertThat(counts.get(list.get(1))).isGreaterThan(counts.get(list.get(0)));
    }
}

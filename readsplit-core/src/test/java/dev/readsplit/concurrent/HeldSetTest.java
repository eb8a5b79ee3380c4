package dev.readsplit.concurrent;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.Collections;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HeldSetTest {

    @Test
    void holdsWhatWasAddedUntilItIsRemovedByIdentity() {
        HeldSet<String> set = new HeldSet<>();
        String a = new String("x");
        String b = new String("x"); // equal, not the same object
        set.add(a);
        set.add(b);
        assertThat(set.size()).isEqualTo(2);
        assertThat(set.remove(new String("x"))).isFalse();
        assertThat(set.remove(a)).isTrue();
        assertThat(set.remove(a)).isFalse();
        assertThat(set).containsExactly(b);
        assertThat(set.remove(b)).isTrue();
        assertThat(set).isEmpty();
        assertThat(set.remove(null)).isFalse();
        assertThatThrownBy(() -> set.add(null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void growsPastOneSegmentAndKeepsEveryObject() {
        HeldSet<Object> set = new HeldSet<>();
        List<Object> items = new ArrayList<>();
        for (int i = 0; i < HeldSet.SEGMENT * 3 + 5; i++) {
            Object o = new Object();
            items.add(o);
            set.add(o);
        }
        assertThat(set.size()).isEqualTo(items.size());
        assertThat(set.capacity()).isEqualTo(HeldSet.SEGMENT * 4);
        assertThat(set).containsExactlyInAnyOrderElementsOf(items);
        for (int i = 0; i < items.size(); i += 2) {
            assertThat(set.remove(items.get(i))).isTrue();
        }
        List<Object> left = new ArrayList<>();
        for (int i = 1; i < items.size(); i += 2) {
            left.add(items.get(i));
        }
        assertThat(set).containsExactlyInAnyOrderElementsOf(left);
        // freed slots are taken again: no new segment for as many objects as were removed
        for (int i = 0; i < items.size() - left.size(); i++) {
            set.add(new Object());
        }
        assertThat(set.capacity()).isEqualTo(HeldSet.SEGMENT * 4);
        assertThat(set.size()).isEqualTo(items.size());
    }

    /**
     * Threads adding and removing their own objects at once (as borrowers do) never lose one, never see one twice,
     * and never remove another's: each thread's objects are in the set exactly while it holds them, and an iteration
     * meanwhile always sees the objects every thread holds for the whole run.
     */
    @Test
    void concurrentAddsAndRemovesKeepTheSetExact() throws Exception {
        HeldSet<Object> set = new HeldSet<>();
        int threads = 8;
        int rounds = 20_000;
        List<Object> longHeld = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            Object o = new Object();
            longHeld.add(o);
            set.add(o);
        }
        CyclicBarrier start = new CyclicBarrier(threads + 1);
        CountDownLatch done = new CountDownLatch(threads);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int t = 0; t < threads; t++) {
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    for (int r = 0; r < rounds; r++) {
                        Object a = new Object();
                        Object b = new Object();
                        set.add(a);
                        set.add(b);
                        if (!set.remove(a) || !set.remove(b) || set.remove(a)) {
                            throw new AssertionError("lost or removed twice in round " + r);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                } finally {
                    done.countDown();
                }
            });
            th.start();
        }
        start.await();
        while (done.getCount() > 0) {
            Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
            for (Object o : set) {
                assertThat(seen.add(o)).as("seen twice in one iteration").isTrue();
            }
            assertThat(seen).containsAll(longHeld);
        }
        done.await();
        assertThat(failure.get()).isNull();
        assertThat(set.size()).isEqualTo(longHeld.size());
        assertThat(set).containsExactlyInAnyOrderElementsOf(longHeld);
    }
}

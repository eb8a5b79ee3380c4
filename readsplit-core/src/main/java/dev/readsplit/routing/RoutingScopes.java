package dev.readsplit.routing;

import dev.readsplit.Consistency;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The API scopes of one data source that apply to the current thread: {@code forcePrimary()} blocks (nested) and
 * {@code withConsistency(...)} blocks. Owned by the data source (no static state).
 *
 * <p>Concurrency: the scopes are thread-locals; {@link #openScopes} counts the scopes open on any thread so that
 * routing reads the thread-locals only while one is open (a volatile read instead of two thread-local lookups per
 * statement, for applications that never open a scope).
 */
public final class RoutingScopes {

    private final Consistency defaultConsistency;
    private final ThreadLocal<int[]> primaryDepth = ThreadLocal.withInitial(() -> new int[1]);
    private final ThreadLocal<Consistency> consistency = new ThreadLocal<>();
    private final AtomicInteger openScopes = new AtomicInteger();

    public RoutingScopes(Consistency defaultConsistency) {
        this.defaultConsistency = Objects.requireNonNull(defaultConsistency, "defaultConsistency");
    }

    /** Whether a {@code forcePrimary()} scope is open on this thread. */
    public boolean primaryForced() {
        return openScopes.get() != 0 && primaryDepth.get()[0] > 0;
    }

    /** The consistency for a session without its own override, on this thread. */
    public Consistency defaultConsistency() {
        if (openScopes.get() == 0) {
            return defaultConsistency;
        }
        Consistency scoped = consistency.get();
        return scoped != null ? scoped : defaultConsistency;
    }

    /** Opens a forced-primary scope on this thread; the returned action closes it (once). */
    public Runnable openPrimaryScope() {
        int[] depth = primaryDepth.get();
        depth[0]++;
        openScopes.incrementAndGet();
        return new Once(() -> {
            depth[0]--;
            if (depth[0] == 0) {
                primaryDepth.remove();
            }
            openScopes.decrementAndGet();
        });
    }

    /** Opens a consistency scope on this thread; the returned action restores the previous one (once). */
    public Runnable openConsistencyScope(Consistency level) {
        Objects.requireNonNull(level, "consistency");
        Consistency previous = consistency.get();
        consistency.set(level);
        openScopes.incrementAndGet();
        return new Once(() -> {
            if (previous == null) {
                consistency.remove();
            } else {
                consistency.set(previous);
            }
            openScopes.decrementAndGet();
        });
    }

    private static final class Once implements Runnable {
        private Runnable action;

        Once(Runnable action) {
            this.action = action;
        }

        @Override
        public void run() {
            Runnable a = action;
            action = null;
            if (a != null) {
                a.run();
            }
        }
    }
}

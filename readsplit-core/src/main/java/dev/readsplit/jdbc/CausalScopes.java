package dev.readsplit.jdbc;

import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.consistency.CausalScope;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which causal position a new logical connection shares, by the data source's {@link CausalScope}, unless an
 * explicit {@link CausalContext} is attached to the opening thread (then the context's).
 *
 * <p>Data structures, chosen so that a session that never writes pays nothing per read: the position is looked up
 * once, when the connection opens (one thread-local read under the thread scope; none under the connection scope,
 * whose position is created at the first write). A read then tests two volatile fields of the position. Contexts
 * are thread-locals read only while one is attached somewhere ({@link #attached} counts them).
 *
 * <p>Concurrency: positions are thread-safe ({@link CausalPosition}); the thread-locals belong to this data source
 * (no static state) and are removed when a context detaches.
 */
final class CausalScopes {

    private final CausalScope scope;
    private final CausalPosition dataSourceWide = new CausalPosition();
    private final ThreadLocal<CausalPosition> perThread = ThreadLocal.withInitial(CausalPosition::new);
    private final ThreadLocal<CausalPosition> context = new ThreadLocal<>();
    private final AtomicInteger attached = new AtomicInteger();

    CausalScopes(CausalScope scope) {
        this.scope = scope;
    }

    CausalScope scope() {
        return scope;
    }

    /** The position a connection opened now on this thread shares; null for a connection-scoped one (made on write). */
    CausalPosition forNewConnection() {
        if (attached.get() != 0) {
            CausalPosition p = context.get();
            if (p != null) {
                return p;
            }
        }
        return switch (scope) {
            case CONNECTION -> null;
            case THREAD -> perThread.get();
            case DATA_SOURCE -> dataSourceWide;
        };
    }

    /** Attaches {@code position} to this thread; returns what to restore on detach. */
    CausalPosition attach(CausalPosition position) {
        CausalPosition previous = context.get();
        context.set(position);
        attached.incrementAndGet();
        return previous;
    }

    void detach(CausalPosition previous) {
        if (previous == null) {
            context.remove();
        } else {
            context.set(previous);
        }
        attached.decrementAndGet();
    }
}

package dev.readsplit.jdbc;

import dev.readsplit.topology.TopologyEvent;
import dev.readsplit.topology.TopologyListener;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The data source's own bounded record of topology events (newest last) and its count of primary
 * changes, kept by a listener registered when the data source is built, so that the status page shows
 * events from the start.
 *
 * <p>Concurrency: events arrive on health-check and routing threads and are read by status requests; a
 * single lock over a small deque is enough (events are rare: state changes, not queries).
 */
final class RecentEvents implements TopologyListener {

    private final int capacity;
    private final ArrayDeque<TopologyEvent> ring;
    private final LongAdder primaryChanges = new LongAdder();

    RecentEvents(int capacity) {
        this.capacity = capacity;
        this.ring = new ArrayDeque<>(capacity);
    }

    @Override
    public void onEvent(TopologyEvent event) {
        if (event.kind() == TopologyEvent.Kind.PRIMARY_CHANGE) {
            primaryChanges.increment();
        }
        synchronized (ring) {
            if (ring.size() == capacity) {
                ring.removeFirst();
            }
            ring.addLast(event);
        }
    }

    List<TopologyEvent> snapshot() {
        synchronized (ring) {
            return List.copyOf(new ArrayList<>(ring));
        }
    }

    long primaryChanges() {
        return primaryChanges.sum();
    }
}

package dev.readsplit.topology;

import java.time.Clock;
import java.util.List;

/**
 * The nodes behind one data source as applications see them ({@code ds.topology()}): which one takes writes, every
 * node's {@link NodeView}, the recent events and a subscription to new ones. Live and read-only: nothing here changes
 * a node, the primary or the state machine; operator actions go through {@code ds.operations()}
 * ({@code docs/architecture.md}, "Public API").
 */
public interface TopologyView {

    /** The node writes go to now. */
    NodeView primary();

    /** Every node, primary first, in configuration order (runtime additions last). */
    List<NodeView> nodes();

    /** The nodes currently observed as replicas (whatever their state), the primary excluded. */
    List<NodeView> replicas();

    /** The node named {@code name}, or null. */
    NodeView node(String name);

    /** The clock the data source times events and checks by. */
    Clock clock();

    /** The recent events, oldest first (the data source keeps the last ones). */
    List<TopologyEvent> recentEvents();

    /**
     * Calls {@code listener} with every event from now on, on the thread that made the change and while the topology
     * is locked: it must be quick and must not call back into the data source.
     */
    void addListener(TopologyListener listener);

    void removeListener(TopologyListener listener);
}

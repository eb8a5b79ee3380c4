package dev.readsplit.topology;

/** Receives topology events (state changes, role changes, primary changes, fencing, lag alerts). */
@FunctionalInterface
public interface TopologyListener {
    void onEvent(TopologyEvent event);
}

package dev.readsplit.topology;

/**
 * A node's health as Readsplit sees it. Only {@link #UP} nodes take new traffic; a {@link #SUSPECT} node
 * (a connection error seen by live traffic, or failed checks below the threshold) is skipped until a
 * check clears it; {@link #DOWN} after {@code failureThreshold} consecutive failed checks; {@link #FENCED}
 * nodes (a second primary on an older timeline) get no traffic at all until an operator acts.
 */
public enum NodeState {
    UP(true),
    SUSPECT(false),
    DOWN(false),
    FENCED(false),
    /** Being drained by an operator: running work finishes, nothing new is routed there. */
    DRAINING(false);

    private final boolean takesNewTraffic;

    NodeState(boolean takesNewTraffic) {
        this.takesNewTraffic = takesNewTraffic;
    }

    public boolean takesNewTraffic() {
        return takesNewTraffic;
    }
}

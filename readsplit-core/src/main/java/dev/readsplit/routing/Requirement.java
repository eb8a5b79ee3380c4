package dev.readsplit.routing;

/**
 * What the adapter must do before a decision names a node. The router does no I/O: when it needs a fact only a
 * server can give, it says so and the adapter asks, then routes again.
 */
public enum Requirement {
    /** None: the decision names its node. */
    NONE,
    /** The session wrote and its causal position must be read from the primary first. */
    CAUSAL_POSITION,
    /**
     * No replica is known to have replayed the session's position: ask the candidates themselves (the monitor's
     * positions may be a check old), waiting up to {@code readYourWritesWait}, then route again.
     */
    REPLAY_WAIT,
    /** A switchover is moving the primary: wait for writes to reopen (bounded), then route again. */
    WRITE_GATE,
    /** No node may serve it (fallback to the primary is off): the adapter fails the call with the message. */
    REFUSED
}

package dev.readsplit.failover;

/**
 * What a switchover calls to take the old primary out of service once the target has caught up. Readsplit
 * cannot stop a remote server: on a real cluster the operator supplies this (an SSH or orchestration call that
 * runs {@code pg_ctl stop -m fast}), or uses the switchover without one, which fences the old primary and sets
 * it read-only ({@code default_transaction_read_only}) and leaves the shutdown to the operator. Tests pass
 * {@code name -> cluster.node(name).stop()}.
 */
@FunctionalInterface
public interface OldPrimaryStopper {

    /** Stops (fast shutdown) or demotes the node called {@code nodeName}; returns once it no longer accepts writes. */
    void stop(String nodeName) throws Exception;
}

package dev.readsplit.balance;

/**
 * Where {@link BalancerKind#AFFINITY} keeps one session's current replica, the reads left in its run and the time of
 * its last read. By default a balancer keeps one per thread (a JDBC application's threads are its sessions: Spring,
 * Hibernate and jOOQ borrow a connection per call on the same thread); a caller whose sessions are not threads — the
 * wire-protocol proxy, which serves many clients on one event-loop thread — gives each session its own slot
 * ({@link Balancer#choose(java.util.List, AffinitySlot)}), so that a client, not a thread, keeps its replica.
 *
 * <p>Concurrency: none; a slot is used by one session at a time, as the session itself is. Other balancers ignore it.
 */
public final class AffinitySlot {

    Candidate last;
    int left;
    long lastChoice;

    public AffinitySlot() {
    }
}

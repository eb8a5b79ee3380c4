package dev.readsplit.failover;

import dev.readsplit.topology.FakeClock;
import dev.readsplit.cluster.Node;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Scripted servers: each node answers the next queued status (the last one forever), or fails when unreachable.
 * Every call advances the fake clock by {@link #callMillis} and is recorded.
 */
final class FakeActions implements ClusterActions {

    final FakeClock clock;
    final Map<String, Deque<Status>> statuses = new ConcurrentHashMap<>();
    final Set<String> unreachable = ConcurrentHashMap.newKeySet();
    final List<String> calls = new CopyOnWriteArrayList<>();
    /** node name -> the primary it streams from. */
    final Map<String, String> streamsFrom = new ConcurrentHashMap<>();
    final Set<String> refuseRepoint = new HashSet<>();
    volatile boolean lockAvailable = true;
    volatile boolean promoteFinishes = true;
    volatile long callMillis = 5;
    volatile long promoteMillis = 0;
    volatile Consumer<String> onStatus = name -> { };
    /** Promotion locks, one per node, shared by every instance using these servers (real, as advisory locks are). */
    final Map<String, java.util.concurrent.Semaphore> locks = new ConcurrentHashMap<>();

    FakeActions(FakeClock clock) {
        this.clock = clock;
    }

    static Status standby(long replay) {
        return new Status(true, replay, replay, -1, 1);
    }

    static Status primary(long current, long timeline) {
        return new Status(false, -1, -1, current, timeline);
    }

    FakeActions answer(String node, Status... sequence) {
        statuses.put(node, new ArrayDeque<>(List.of(sequence)));
        return this;
    }

    private void call(String what) {
        calls.add(what);
        clock.advance(callMillis);
    }

    long count(String prefix) {
        return calls.stream().filter(c -> c.startsWith(prefix)).count();
    }

    @Override
    public Status status(Node node, Duration timeout) throws SQLException {
        call("status " + node.name());
        onStatus.accept(node.name());
        if (unreachable.contains(node.name())) {
            throw new SQLException("Connection refused", "08001");
        }
        Deque<Status> q = statuses.get(node.name());
        if (q == null || q.isEmpty()) {
            throw new SQLException("no scripted status for " + node.name(), "08001");
        }
        return q.size() > 1 ? q.poll() : q.peek();
    }

    @Override
    public AutoCloseable lockPromotion(Node node, Duration timeout) {
        call("lock " + node.name());
        if (!lockAvailable) {
            clock.advance(timeout.toMillis());
            return null;
        }
        java.util.concurrent.Semaphore lock = locks.computeIfAbsent(node.name(), k -> new java.util.concurrent.Semaphore(1));
        try {
            if (!lock.tryAcquire(10, java.util.concurrent.TimeUnit.SECONDS)) {
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        return () -> {
            calls.add("unlock " + node.name());
            lock.release();
        };
    }

    @Override
    public synchronized boolean promote(Node node, Duration timeout) {
        call("promote " + node.name());
        if (!statuses.get(node.name()).peek().inRecovery()) {
            return false; // "recovery is not in progress"
        }
        try {
            Thread.sleep(promoteMillis); // a real promotion takes a while: the other instance is then waiting
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!promoteFinishes) {
            clock.advance(timeout.toMillis());
            return false;
        }
        answer(node.name(), primary(1_000_000, 2));
        return true;
    }

    @Override
    public void repoint(Node standby, Node primary, Duration timeout) throws SQLException {
        call("repoint " + standby.name() + " -> " + primary.name());
        if (refuseRepoint.contains(standby.name())) {
            throw new SQLException("must be superuser to execute ALTER SYSTEM command", "42501");
        }
        streamsFrom.put(standby.name(), primary.name());
    }

    @Override
    public boolean streamingFrom(Node standby, Node primary, Duration timeout) {
        call("streaming? " + standby.name());
        return primary.name().equals(streamsFrom.get(standby.name()));
    }

    @Override
    public void readOnly(Node node, boolean on, Duration timeout) {
        call("readOnly " + node.name() + " " + on);
    }

    /** Where each node's WAL ends when asked after it returns (name to LSN); unknown nodes fail. */
    final Map<String, Long> endOfWal = new ConcurrentHashMap<>();

    @Override
    public long endOfWal(Node node, java.time.Duration timeout) throws java.sql.SQLException {
        calls.add("endOfWal " + node.name());
        Long lsn = endOfWal.get(node.name());
        if (lsn == null || unreachable.contains(node.name())) {
            throw new java.sql.SQLException(node.name() + " unreachable", "08001");
        }
        return lsn;
    }
}

package dev.readsplit.proxy;

import dev.readsplit.topology.Node;
import dev.readsplit.topology.Topology;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;

import java.io.IOException;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The proxy's backend connections, pooled per node in session mode: a client session borrows at most one per node
 * and returns it when the client leaves, reset ({@code DISCARD ALL}) if the session changed server state. Idle
 * connections per node are bounded; a connection opened before its node's epoch changed (the node failed or changed
 * role) is closed instead of reused. A failure to connect is reported to the topology, like a failure of traffic.
 *
 * <p>Concurrency: one lock per node's idle deque; opening and resetting happen outside it.
 */
final class BackendPool implements AutoCloseable {

    private final ProxyConfig config;
    private final Topology topology;
    private final SecureRandom random;
    private final Map<Node, ArrayDeque<BackendConnection>> idle = new ConcurrentHashMap<>();
    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> channelClass;
    private volatile boolean closed;

    BackendPool(ProxyConfig config, Topology topology, SecureRandom random, EventLoopGroup group,
                Class<? extends SocketChannel> channelClass) {
        this.group = group;
        this.channelClass = channelClass;
        this.config = config;
        this.topology = topology;
        this.random = random;
    }

    /** An idle connection to {@code node}, or a new one (blocking: never on the event loop). */
    BackendConnection borrow(Node node) throws IOException {
        if (closed) {
            throw new IOException("the proxy is shutting down");
        }
        ArrayDeque<BackendConnection> q = idle.computeIfAbsent(node, n -> new ArrayDeque<>());
        while (true) {
            BackendConnection c;
            synchronized (q) {
                c = q.pollFirst();
            }
            if (c == null) {
                break;
            }
            if (c.epoch() == node.epoch() && !c.broken()) {
                return c;
            }
            c.close();
        }
        try {
            return BackendConnection.open(node, group, channelClass, (int) config.connectTimeout().toMillis(), random);
        } catch (IOException e) {
            topology.onTrafficError(node, asSqlException(node, e));
            throw e;
        }
    }

    /** An idle connection to {@code node} if there is one now, else null; never blocks (the event loop's borrow). */
    BackendConnection idle(Node node) {
        if (closed) {
            return null;
        }
        ArrayDeque<BackendConnection> q = idle.get(node);
        if (q == null) {
            return null;
        }
        while (true) {
            BackendConnection c;
            synchronized (q) {
                c = q.pollFirst();
            }
            if (c == null) {
                return null;
            }
            if (c.epoch() == node.epoch() && !c.broken()) {
                return c;
            }
            c.close();
        }
    }

    /**
     * Takes a connection back. {@code dirty}: the session changed server-side state, which {@code DISCARD ALL} resets
     * (settings, prepared statements, temp tables, advisory locks, LISTEN). A connection left inside a transaction,
     * broken, or of an older epoch is closed.
     */
    void release(BackendConnection c, boolean dirty, boolean idleStatus) {
        Node node = c.node();
        if (closed || c.broken() || !idleStatus || c.epoch() != node.epoch()) {
            c.close();
            return;
        }
        if (dirty || !c.prepared.isEmpty()) {
            try {
                c.queryValue("DISCARD ALL");
                c.prepared.clear();
            } catch (IOException | BackendConnection.BackendError e) {
                c.close();
                return;
            }
        }
        ArrayDeque<BackendConnection> q = idle.computeIfAbsent(node, n -> new ArrayDeque<>());
        synchronized (q) {
            if (q.size() < config.maxIdlePerNode()) {
                q.addFirst(c);
                return;
            }
        }
        c.close();
    }

    /** Idle connections per node name, for status. */
    Map<String, Integer> idleCounts() {
        Map<String, Integer> m = new java.util.TreeMap<>();
        idle.forEach((n, q) -> {
            synchronized (q) {
                m.put(n.name(), q.size());
            }
        });
        return m;
    }

    @Override
    public void close() {
        closed = true;
        List<BackendConnection> all = new ArrayList<>();
        idle.values().forEach(q -> {
            synchronized (q) {
                all.addAll(q);
                q.clear();
            }
        });
        all.forEach(BackendConnection::close);
    }

    /** An I/O failure as the SQLException the topology's failure rules read (connection failure, class 08). */
    static SQLException asSqlException(Node node, IOException e) {
        return new SQLException(node.name() + ": " + e.getMessage(), "08006", e);
    }
}

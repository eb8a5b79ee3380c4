package dev.readsplit.proxy;

import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;
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
    /** Idle connections per node and login user (a passed-through client's backends serve only that user). */
    private final Map<Key, ArrayDeque<BackendConnection>> idle = new ConcurrentHashMap<>();
    /** Open connections per node name (idle and in use), for status and metrics. */
    private final Map<String, java.util.concurrent.atomic.AtomicInteger> open = new ConcurrentHashMap<>();
    private final EventLoopGroup group;
    private final Class<? extends SocketChannel> channelClass;

    /** A pool of idle connections: one node, one login user (null: the node's configured user). */
    private record Key(Node node, String user) {
        static Key of(Node node, BackendLogin login) {
            return new Key(node, login == null ? null : login.user());
        }

        static Key of(BackendConnection c) {
            return of(c.node(), c.login());
        }
    }
    private volatile boolean closed;
    /** Each node configuration's TLS settings, read at its first connection (the nodes known at start: at once). */
    private final Map<dev.readsplit.config.NodeConfig, BackendTls> tls = new ConcurrentHashMap<>();

    /** @param knownTls the TLS settings already read (the nodes known at start), by node configuration */
    BackendPool(ProxyConfig config, Topology topology, SecureRandom random, EventLoopGroup group,
                Class<? extends SocketChannel> channelClass, Map<dev.readsplit.config.NodeConfig, BackendTls> knownTls) {
        this.group = group;
        this.channelClass = channelClass;
        this.config = config;
        this.topology = topology;
        this.random = random;
        this.tls.putAll(knownTls);
    }

    /**
     * The TLS settings of {@code node}'s connections (its pgjdbc properties), read once per node configuration. A
     * setting the proxy cannot follow fails the connection with the reason.
     */
    BackendTls tls(Node node) throws IOException {
        try {
            return tls.computeIfAbsent(node.config(), BackendTls::of);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** An idle connection to {@code node}, or a new one (blocking: never on the event loop). */
    BackendConnection borrow(Node node) throws IOException {
        return borrow(node, null);
    }

    /** An idle connection to {@code node} logged in as {@code login} (null: the configured user), or a new one. */
    BackendConnection borrow(Node node, BackendLogin login) throws IOException {
        if (closed) {
            throw new IOException("the proxy is shutting down");
        }
        ArrayDeque<BackendConnection> q = idle.computeIfAbsent(Key.of(node, login), n -> new ArrayDeque<>());
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
        return open(node, login);
    }

    /**
     * A new connection to {@code node} as {@code login} (never an idle one: a pass-through login is checked by the
     * server each time). A login the server refuses for a client's credentials (class 28) says nothing of the node's
     * health and is not reported to the topology.
     */
    BackendConnection open(Node node, BackendLogin login) throws IOException {
        BackendTls nodeTls = tls(node); // a setting the proxy cannot follow says nothing of the node's health
        BackendConnection c;
        try {
            c = BackendConnection.open(node, login, nodeTls, group, channelClass,
                    (int) config.connectTimeout().toMillis(), random);
        } catch (BackendConnection.LoginRefused e) {
            if (login == null || e.sqlState == null || !e.sqlState.startsWith("28")) {
                topology.onTrafficError(node, asSqlException(node, e));
            }
            throw e;
        } catch (IOException e) {
            topology.onTrafficError(node, asSqlException(node, e));
            throw e;
        }
        java.util.concurrent.atomic.AtomicInteger n = open.computeIfAbsent(node.name(),
                k -> new java.util.concurrent.atomic.AtomicInteger());
        n.incrementAndGet();
        c.onClose(n::decrementAndGet);
        return c;
    }

    /** An idle connection to {@code node} if there is one now, else null; never blocks (the event loop's borrow). */
    BackendConnection idle(Node node) {
        return idle(node, null);
    }

    /**
     * An idle connection to {@code node} logged in as {@code login} (null: the configured user) if there is one now,
     * else null; never blocks (the event loop's borrow).
     */
    BackendConnection idle(Node node, BackendLogin login) {
        if (closed) {
            return null;
        }
        ArrayDeque<BackendConnection> q = idle.get(Key.of(node, login));
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
                c.applied = List.of();
            } catch (IOException | BackendConnection.BackendError e) {
                c.close();
                return;
            }
        }
        keepIdleOrClose(c);
    }

    /** Prepared statements a backend may keep across clients in transaction pooling; past it, it is closed. */
    static final int MAX_KEPT_STATEMENTS = 1000;

    /**
     * Takes back, without resetting it, a connection a client session leaves idle between transactions (transaction
     * pooling; or one the event loop took and cannot use as it is): its settings ({@link BackendConnection#applied})
     * and prepared statements stay, for the next session to reset or reuse. Never blocks (event loop).
     */
    void giveBack(BackendConnection c) {
        Node node = c.node();
        if (closed || c.broken() || c.epoch() != node.epoch() || c.prepared.size() > MAX_KEPT_STATEMENTS) {
            c.close();
            return;
        }
        keepIdleOrClose(c);
    }

    /** Puts {@code c} first in its node's idle queue, or closes it when that queue holds {@code maxIdlePerNode}. */
    private void keepIdleOrClose(BackendConnection c) {
        ArrayDeque<BackendConnection> q = idle.computeIfAbsent(Key.of(c), n -> new ArrayDeque<>());
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
        idle.forEach((k, q) -> {
            synchronized (q) {
                m.merge(k.node().name(), q.size(), Integer::sum);
            }
        });
        return m;
    }

    /**
     * Connections with client exchanges pipelined on them now, per node and login user, in the order they became so
     * (docs/proxy.md, "Pipelining"). Event loop only: every pipelined exchange starts and ends there.
     */
    private final Map<Key, ArrayDeque<BackendConnection>> pipelining = new java.util.HashMap<>();

    /**
     * A connection to {@code node} as {@code login} that may take one more client's autocommit read, sent behind those
     * in flight (pipelining, event loop only): the first with fewer than {@code depth} in flight, the settings
     * {@code settings} applied and its current statement younger than {@link ProxyConfig#pipelineMaxWait}; else an idle
     * one with those settings; else null (the caller takes a connection of its own). Connections are filled in turn,
     * so as few as the load needs stay busy: each server process answers several statements per wake-up.
     */
    BackendConnection pipelined(Node node, BackendLogin login, List<String> settings, int depth) {
        if (closed) {
            return null;
        }
        Key key = Key.of(node, login);
        ArrayDeque<BackendConnection> busy = pipelining.get(key);
        if (busy != null) {
            long now = System.nanoTime();
            long maxWait = config.pipelineMaxWait().toNanos();
            for (BackendConnection c : busy) {
                if (c.epoch() == node.epoch() && c.applied.equals(settings) && c.takesMore(depth, now, maxWait)) {
                    return c;
                }
            }
        }
        BackendConnection c = idle(node, login);
        if (c != null && !c.applied.equals(settings)) {
            giveBack(c); // another client's settings: the caller's own path resets it
            return null;
        }
        return c;
    }

    /** {@code c} has its first pipelined exchange in flight (event loop only). */
    void pipelining(BackendConnection c) {
        pipelining.computeIfAbsent(Key.of(c), k -> new ArrayDeque<>()).addLast(c);
    }

    /**
     * {@code c}'s last pipelined exchange is over (event loop only): back to the idle connections, or closed if it
     * is broken, of an older epoch or {@linkplain BackendConnection#retire() retired}. Its unnamed statement is
     * forgotten: its clients' Parse and simple queries took turns with it, and what was recorded of it followed the
     * answers, not the order they ran in, so no later client may count on it.
     */
    void pipelined(BackendConnection c) {
        ArrayDeque<BackendConnection> busy = pipelining.get(Key.of(c));
        if (busy != null) {
            busy.remove(c);
        }
        c.prepared.remove("");
        if (c.retiring()) {
            c.close();
            return;
        }
        giveBack(c);
    }

    /** Connections held by client sessions (open, not idle) per node name, for status. */
    Map<String, Integer> inUseCounts() {
        Map<String, Integer> idleNow = idleCounts();
        Map<String, Integer> m = new java.util.TreeMap<>();
        open.forEach((n, c) -> m.put(n, Math.max(0, c.get() - idleNow.getOrDefault(n, 0))));
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

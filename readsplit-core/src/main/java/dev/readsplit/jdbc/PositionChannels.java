package dev.readsplit.jdbc;

import dev.readsplit.cluster.Node;
import dev.readsplit.concurrent.SharedQuestion;
import dev.readsplit.config.ConnectionProperties;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.SqlStates;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Asks a PostgreSQL node for a WAL position (the primary's insert position after a session's writes, a standby's
 * replay position) without waiting for its pool: over a connection idle in the pool at that moment (questions then
 * run in parallel), and when none is idle, over one connection per node kept for these questions and shared by every
 * session of the data source ({@link SharedQuestion}), where sessions that ask together share one round trip. A
 * session that must learn where its writes end so never queues for a primary pool its own writes keep busy. See
 * docs/consistency.md, "What read-your-writes costs".
 *
 * <p>Where the channel cannot serve (the node is down or fenced, or the connection cannot be opened), the question
 * goes the way it went before: over a connection borrowed from the node's pool ({@link Fallback}), whose failures
 * say what is wrong with the node; a channel that could not connect is tried again after {@value #RETRY_OPEN_MILLIS}
 * ms. A question that fails on the channel's open connection throws (the caller sends it through the failure
 * funnel), and the connection is dropped and opened afresh next time.
 *
 * <p>Concurrency: thread-safe. One question runs on a channel at a time; its connection is tracked on the node while
 * it runs, so a node going DOWN aborts a question the server stopped answering.
 */
final class PositionChannels implements AutoCloseable {

    /** The same question over a pool's connection, where the channel cannot serve. */
    @FunctionalInterface
    interface Fallback {
        long ask() throws SQLException;
    }

    static final long RETRY_OPEN_MILLIS = 1_000;

    private final ReadsplitConfig config;
    private final ConcurrentHashMap<Node, Channel> insertChannels = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Node, Channel> replayChannels = new ConcurrentHashMap<>();
    private volatile boolean closed;

    PositionChannels(ReadsplitConfig config) {
        this.config = config;
    }

    /**
     * The primary's WAL insert position, asked at or after {@code notBefore} (a {@link System#nanoTime()} after the
     * writes it must cover returned: {@link dev.readsplit.consistency.CausalPosition#notBefore()}).
     */
    long insertLsn(Node primary, long notBefore, Fallback fallback) throws SQLException {
        if (insertChannels.size() > 1 || (insertChannels.size() == 1 && !insertChannels.containsKey(primary))) {
            // the primary moved: the old one's channel is closed, not left open on a demoted or dead server
            for (Node n : insertChannels.keySet()) {
                if (n != primary) {
                    Channel old = insertChannels.remove(n);
                    if (old != null) {
                        old.close();
                    }
                }
            }
        }
        return channel(insertChannels, primary).ask(notBefore, WalPositions::currentInsertLsn, fallback);
    }

    /** A standby's replay position, asked after this call. */
    long replayLsn(Node standby, Fallback fallback) throws SQLException {
        return channel(replayChannels, standby).ask(System.nanoTime(), WalPositions::replayLsn, fallback);
    }

    private Channel channel(ConcurrentHashMap<Node, Channel> channels, Node node) {
        Channel c = channels.get(node);
        if (c == null) {
            if (channels.size() >= 64) {
                // nodes added and removed at runtime: never grow without bound (the dropped channels' connections close)
                closeAll(channels);
            }
            c = channels.computeIfAbsent(node, Channel::new);
        }
        return c;
    }

    @Override
    public void close() {
        closed = true;
        closeAll(insertChannels);
        closeAll(replayChannels);
    }

    private static void closeAll(ConcurrentHashMap<Node, Channel> channels) {
        for (Node n : channels.keySet()) {
            Channel c = channels.remove(n);
            if (c != null) {
                c.close();
            }
        }
    }

    /** One node's connection for one question. */
    private final class Channel {
        private final Node node;
        private final SharedQuestion shared = new SharedQuestion();
        /** Only touched by the thread asking (one at a time, {@link SharedQuestion}) and by {@link #close}. */
        private volatile Connection connection;
        private int epoch;
        private volatile long openFailedAtNanos;
        private volatile boolean openFailed;

        Channel(Node node) {
            this.node = node;
        }

        long ask(long notBefore, PhysicalConnections.Question question, Fallback fallback) throws SQLException {
            NodeState state = node.state();
            if (closed || !node.isPostgres() || state == NodeState.DOWN || state == NodeState.FENCED
                    || (openFailed && System.nanoTime() - openFailedAtNanos
                    < TimeUnit.MILLISECONDS.toNanos(RETRY_OPEN_MILLIS))) {
                return fallback.ask();
            }
            if (node.idleNow() > 0) {
                // the pool has a connection idle now: ask over it at once, in parallel with the other sessions, rather
                // than queue on the one channel (with 8 connections per node the channel's queue cost more than it saved)
                return fallback.ask();
            }
            return shared.ask(notBefore, () -> {
                for (boolean retried = false; ; retried = true) {
                    boolean reused = connection != null;
                    Connection c = open();
                    if (c == null) {
                        return fallback.ask();
                    }
                    try {
                        return askOver(c, question);
                    } catch (SQLException e) {
                        // an idle connection the server closed meanwhile (a restart, an idle timeout) is not news about
                        // the node now, as a pool validates an idle connection before lending it: once, a fresh one
                        if (retried || !reused || !SqlStates.isConnectionLevel(e)) {
                            throw e;
                        }
                    }
                }
            });
        }

        private long askOver(Connection c, PhysicalConnections.Question question) throws SQLException {
            node.track(c);
            try {
                return question.ask(c);
            } catch (SQLException e) {
                drop();
                throw e;
            } finally {
                node.untrack(c);
            }
        }

        /** The channel's connection, opened now if it has none that is still good; null when it cannot open one. */
        private Connection open() {
            Connection c = connection;
            try {
                if (c != null && epoch == node.epoch() && !c.isClosed()) {
                    return c;
                }
            } catch (SQLException e) {
                // isClosed failed: treat it as closed
            }
            drop();
            int now = node.epoch();
            try {
                // the health checks' timeouts: a node that stops answering is found DOWN first, which aborts the question
                c = new org.postgresql.Driver().connect(node.config().jdbcUrl(),
                        ConnectionProperties.dedicated(config, node.config(), "positions").build());
            } catch (SQLException e) {
                c = null;
            }
            if (c == null) {
                openFailedAtNanos = System.nanoTime();
                openFailed = true;
                return null;
            }
            openFailed = false;
            epoch = now;
            connection = c;
            if (closed) {
                close();
                return null;
            }
            return c;
        }

        private void drop() {
            Connection c = connection;
            connection = null;
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // broken already
                }
            }
        }

        void close() {
            Connection c = connection;
            connection = null;
            if (c != null) {
                try {
                    c.abort(Runnable::run); // a question may be running: never wait on it
                } catch (SQLException | RuntimeException e) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // broken already
                    }
                }
            }
        }
    }
}

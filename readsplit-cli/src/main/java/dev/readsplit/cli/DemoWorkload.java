package dev.readsplit.cli;

import dev.readsplit.consistency.CausalToken;
import dev.readsplit.jdbc.ReadsplitConnection;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.jdbc.CausalContext;
import dev.readsplit.jdbc.RouteDecision;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The demo's traffic: N sessions, each a thread acting like a user of a web app. Every "request" takes a
 * fresh logical connection, imports the session's causal token (the cookie) and either writes (insert a
 * unique row, then read it back through Readsplit) or reads (and checks that its latest write is visible).
 * Any row a session wrote and then did not see is a read-your-writes violation.
 *
 * <p>Threads: one per session ({@code readsplit-demo-session-N}); counters are {@link LongAdder}s and each
 * node's latencies go to an HdrHistogram {@link Recorder} (lock-free for the recording threads). Only the
 * display thread calls {@link #sample()}, which swaps the recorders' interval histograms and adds them to the
 * cumulative ones, so the cumulative histograms have a single writer.
 */
final class DemoWorkload {

    static final String TABLE = "readsplit_demo";

    /** Per node: what the workload measured there. */
    static final class NodeStats {
        final LongAdder reads = new LongAdder();
        final LongAdder writes = new LongAdder();
        final Recorder readLatency = new Recorder(3);
        final Histogram totalReadLatency = new Histogram(3);
        long lastReads;
        long lastWrites;
    }

    /** One interval's view of a node. */
    record NodeSample(String node, long reads, long writes, double readsPerSecond, double writesPerSecond,
                      double p99Millis, long intervalReads) {
    }

    private final ReadsplitDataSource ds;
    private final int sessions;
    private final double writeRatio;
    private final DemoEvents events;
    private final Map<String, NodeStats> nodes = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    final LongAdder writes = new LongAdder();
    final LongAdder failedWrites = new LongAdder();
    final LongAdder reads = new LongAdder();
    final LongAdder failedReads = new LongAdder();
    final LongAdder rywViolations = new LongAdder();
    final LongAdder errors = new LongAdder();
    private volatile boolean stopping;
    private volatile long lastReadFailureEvent;
    private volatile long lastWriteFailureEvent;
    private long lastSampleNanos;

    DemoWorkload(ReadsplitDataSource ds, int sessions, double writeRatio, DemoEvents events) {
        this.ds = ds;
        this.sessions = sessions;
        this.writeRatio = writeRatio;
        this.events = events;
        for (var n : ds.topology().nodes()) {
            nodes.put(n.name(), new NodeStats());
        }
    }

    /**
     * Creates the table and returns the causal token of its creation: every session starts with it (as a
     * web app hands a fresh visitor the deployment's token), so no read ever runs on a replica that has not
     * replayed the table yet.
     */
    CausalToken setUp() throws SQLException {
        try (ReadsplitConnection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (session_id int NOT NULL, seq bigint NOT NULL,"
                    + " payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
                    + " PRIMARY KEY (session_id, seq))");
            return c.causalToken();
        }
    }

    void start(CausalToken initial) {
        lastSampleNanos = System.nanoTime();
        for (int i = 1; i <= sessions; i++) {
            Session s = new Session(i, initial == null ? null : initial.export());
            Thread t = new Thread(s, "readsplit-demo-session-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    /** From now on failures are shutdown noise and are not counted; sessions finish their request and stop. */
    void requestStop() {
        stopping = true;
    }

    /** Stops the sessions and waits for them. */
    void stop(long joinMillis) throws InterruptedException {
        stopping = true;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(joinMillis);
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
    }

    boolean stopping() {
        return stopping;
    }

    NodeStats stats(String node) {
        return nodes.computeIfAbsent(node, k -> new NodeStats());
    }

    Map<String, NodeStats> nodeStats() {
        return nodes;
    }

    /** The interval since the previous call, per node (display thread only). */
    synchronized List<NodeSample> sample() {
        long now = System.nanoTime();
        double seconds = Math.max(0.001, (now - lastSampleNanos) / 1e9);
        lastSampleNanos = now;
        List<NodeSample> out = new ArrayList<>();
        for (var node : ds.topology().nodes()) {
            NodeStats st = stats(node.name());
            Histogram interval = st.readLatency.getIntervalHistogram();
            st.totalReadLatency.add(interval);
            long r = st.reads.sum();
            long w = st.writes.sum();
            long dr = r - st.lastReads;
            long dw = w - st.lastWrites;
            st.lastReads = r;
            st.lastWrites = w;
            double p99 = interval.getTotalCount() == 0 ? -1 : interval.getValueAtPercentile(99) / 1000.0;
            out.add(new NodeSample(node.name(), r, w, dr / seconds, dw / seconds, p99, dr));
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------

    private final class Session implements Runnable {
        private final int id;
        private String cookie;
        private long nextSeq;
        private long lastSeq;

        Session(int id, String cookie) {
            this.id = id;
            this.cookie = cookie;
        }

        @Override
        public void run() {
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            while (!stopping) {
                try {
                    request(rnd.nextDouble() < writeRatio);
                } catch (Throwable t) {
                    if (!stopping) {
                        errors.increment();
                        events.add("session " + id + ": unexpected " + t);
                    }
                }
                try {
                    Thread.sleep(2 + rnd.nextInt(16)); // think time
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        /**
         * One request of a web app: a fresh causal context holding the cookie's token (a request may run on any
         * thread: the cookie, not the thread, carries the session's writes, so this checks the token path under the
         * default thread scope too), a fresh connection, a write or a read.
         */
        @SuppressWarnings("try") // the context is used by being attached while the connection opens
        private void request(boolean write) throws SQLException {
            try (CausalContext request = cookie == null ? ds.causalContext() : ds.causalContext(CausalToken.parse(cookie));
                 ReadsplitConnection c = ds.getConnection()) {
                if (write) {
                    writeAndReadBack(c);
                } else {
                    readOwnWrites(c);
                }
            }
        }

        private void writeAndReadBack(ReadsplitConnection c) {
            long seq = ++nextSeq;
            CausalToken token;
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO " + TABLE + " (session_id, seq, payload) VALUES (?, ?, ?)")) {
                ps.setInt(1, id);
                ps.setLong(2, seq);
                ps.setString(3, "session " + id + " row " + seq);
                ps.executeUpdate();
                node(c.lastRoute()).writes.increment();
                token = c.causalToken();
            } catch (SQLException e) {
                writeFailed(c.lastRoute(), e);
                return;
            }
            writes.increment();
            lastSeq = seq;
            if (token != null) {
                cookie = token.export();
            }
            long t0 = System.nanoTime();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT payload FROM " + TABLE + " WHERE session_id = ? AND seq = ?")) {
                ps.setInt(1, id);
                ps.setLong(2, seq);
                try (ResultSet rs = ps.executeQuery()) {
                    boolean found = rs.next();
                    readDone(c.lastRoute(), t0);
                    if (!found) {
                        violation("did not see row " + seq + " it had just written", c.lastRoute());
                    }
                }
            } catch (SQLException e) {
                readFailed(c.lastRoute(), e);
            }
        }

        private void readOwnWrites(ReadsplitConnection c) {
            long t0 = System.nanoTime();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT count(*), coalesce(max(seq), 0) FROM " + TABLE + " WHERE session_id = ?")) {
                ps.setInt(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    long max = rs.getLong(2);
                    readDone(c.lastRoute(), t0);
                    if (max < lastSeq) {
                        violation("saw its rows only up to " + max + " after writing row " + lastSeq
                                + " in an earlier request", c.lastRoute());
                    }
                }
            } catch (SQLException e) {
                readFailed(c.lastRoute(), e);
            }
        }

        private void readDone(RouteDecision route, long t0) {
            long micros = (System.nanoTime() - t0) / 1000;
            NodeStats st = node(route);
            st.reads.increment();
            st.readLatency.recordValue(Math.max(1, micros));
            reads.increment();
        }

        private void violation(String what, RouteDecision route) {
            if (stopping) {
                return;
            }
            rywViolations.increment();
            events.add("READ-YOUR-WRITES VIOLATION: session " + id + " " + what + " (read on "
                    + (route == null ? "?" : route.toString()) + ")");
        }

        private void readFailed(RouteDecision route, SQLException e) {
            if (stopping) {
                return;
            }
            failedReads.increment();
            long now = System.nanoTime();
            if (now - lastReadFailureEvent > 1_000_000_000L) {
                lastReadFailureEvent = now;
                events.add("read failed" + (route == null ? "" : " on " + route.nodeName()) + ": " + brief(e)
                        + " (" + failedReads.sum() + " so far)");
            }
        }

        private void writeFailed(RouteDecision route, SQLException e) {
            if (stopping) {
                return;
            }
            failedWrites.increment();
            long now = System.nanoTime();
            if (now - lastWriteFailureEvent > 1_000_000_000L) {
                lastWriteFailureEvent = now;
                events.add("write failed" + (route == null ? "" : " on " + route.nodeName()) + ": " + brief(e)
                        + " (" + failedWrites.sum() + " so far)");
            }
        }

        private NodeStats node(RouteDecision route) {
            return stats(route == null ? "?" : route.nodeName());
        }
    }

    static String brief(SQLException e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replace('\n', ' ');
        if (m.length() > 90) {
            m = m.substring(0, 87) + "...";
        }
        return m + (e.getSQLState() == null ? "" : " [" + e.getSQLState() + "]");
    }
}

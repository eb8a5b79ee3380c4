package dev.readsplit.proxy;

import dev.readsplit.cluster.Node;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The proxy's running counters: client connections accepted and refused, failed logins, bytes to and from clients,
 * errors sent to clients, backend failures, statements routed per node, and the replay checks that led reads after
 * a write (and how many of them found the replica short), the client steps run on a worker thread, and the reads
 * pipelined behind other clients'. Lock-free ({@link LongAdder}s), fed by
 * the event loop, the workers and the sessions ({@link SessionListener}); read by {@link ProxyStatus} and the
 * Micrometer meters ({@link ProxyMetrics}).
 */
final class ProxyStats implements SessionListener {

    final LongAdder accepted = new LongAdder();
    final LongAdder refused = new LongAdder();
    final LongAdder loginFailures = new LongAdder();
    final LongAdder bytesReceived = new LongAdder();
    final LongAdder bytesSent = new LongAdder();
    final LongAdder errorsToClients = new LongAdder();
    final LongAdder backendFailures = new LongAdder();
    /** Replay checks sent with a read (docs/proxy.md, "Read-your-writes"), and those that found the replica short. */
    final LongAdder replayChecks = new LongAdder();
    final LongAdder replayChecksShort = new LongAdder();
    /** Client steps run on a worker thread: logins, session ends, and messages the event loop does not take itself. */
    final LongAdder workerSteps = new LongAdder();
    /**
     * Client reads sent behind another client's statement on one backend connection (pipelining,
     * {@link ProxyConfig#pipelineDepth}), and pipelined reads that ran again elsewhere because their connection was
     * closed to stop another client's cancelled statement.
     */
    final LongAdder pipelined = new LongAdder();
    final LongAdder pipelinedAgain = new LongAdder();
    private final Map<String, LongAdder> statements = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> nodeFailures = new ConcurrentHashMap<>();
    private volatile Consumer<String> onNewNode = n -> { };

    @Override
    public void statementRouted(Node node) {
        counter(statements, node.name()).increment();
    }

    @Override
    public void backendFailed(Node node) {
        backendFailures.increment();
        counter(nodeFailures, node.name()).increment();
    }

    long statements(String node) {
        LongAdder a = statements.get(node);
        return a == null ? 0 : a.sum();
    }

    long backendFailures(String node) {
        LongAdder a = nodeFailures.get(node);
        return a == null ? 0 : a.sum();
    }

    /** Called with each node name the first time a statement or failure is counted for it (meters per node). */
    void onNewNode(Consumer<String> callback) {
        onNewNode = callback;
    }

    private LongAdder counter(Map<String, LongAdder> m, String node) {
        LongAdder a = m.get(node);
        if (a == null) {
            a = m.computeIfAbsent(node, k -> new LongAdder());
            onNewNode.accept(node);
        }
        return a;
    }
}

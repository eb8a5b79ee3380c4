package dev.readsplit.proxy;

import dev.readsplit.cluster.Node;

/**
 * What a {@link ClientSession} reports of its work for the proxy's metrics ({@link ProxyStats}): kept this small so
 * the session's relaying stays free of counting.
 */
interface SessionListener {

    /** A statement (a simple query or a pipeline up to its Sync or Flush) was sent to {@code node}'s backend. */
    void statementRouted(Node node);

    /** A backend connection to {@code node} failed under the session (connect or mid-exchange). */
    void backendFailed(Node node);
}

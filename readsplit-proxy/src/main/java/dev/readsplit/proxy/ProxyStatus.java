package dev.readsplit.proxy;

import java.util.List;

/**
 * A snapshot of the proxy for status pages: its clients, its backends per node, and its counters since start.
 * Immutable; {@link #toJson()} is what the admin server's {@code /proxy} serves (see {@code docs/proxy.md},
 * "Metrics and status"). No secret appears in it.
 *
 * @param listen  where the proxy listens, {@code host:port}
 * @param auth    the client authentication method ({@link ClientAuth#label()})
 * @param poolMode how backends are pooled: {@code session} or {@code transaction} ({@link PoolMode})
 * @param clients the client connections now and since start
 * @param nodes   per node: backends in use and idle, statements routed, backend failures
 * @param bytesReceived bytes received from clients since start (protocol messages, headers included)
 * @param bytesSent     bytes sent to clients since start
 * @param errorsToClients ErrorResponses sent to clients (relayed from PostgreSQL or the proxy's own)
 * @param backendFailures backend connections that failed (connect or mid-exchange)
 * @param replayChecks    the replay checks that led reads after a write
 * @param workerSteps     client steps run on a worker thread rather than the event loop (logins, session ends, and
 *                        what would block: docs/proxy.md, "Threads and pooling")
 * @param pipelined       client reads sent behind another client's statement on one backend connection, and those
 *                        of them run again elsewhere after a cancel closed that connection (docs/proxy.md, "Pipelining")
 */
public record ProxyStatus(String listen, String auth, String poolMode, Clients clients, List<NodeBackends> nodes,
                          long bytesReceived, long bytesSent, long errorsToClients, long backendFailures,
                          ReplayChecks replayChecks, long workerSteps, Pipelined pipelined) {

    public ProxyStatus {
        nodes = List.copyOf(nodes);
    }

    /**
     * Client connections: {@code active} run a statement or are inside a transaction, {@code idle} are logged in and
     * waiting, {@code login} have not finished authenticating; {@code total} is their sum, {@code max} the limit;
     * {@code accepted}, {@code refused} (over the limit) and {@code loginFailures} count since start.
     */
    public record Clients(int active, int idle, int login, int total, int max, long accepted, long refused,
                          long loginFailures) {
    }

    /**
     * Replay checks since start (docs/proxy.md, "Read-your-writes"): {@code sent} led a read on a replica in its round
     * trip; {@code shortOfPosition} found the replica short of the session's position (the read's rows were dropped and
     * it ran again later, or on the primary).
     */
    public record ReplayChecks(long sent, long shortOfPosition) {
    }

    /**
     * Pipelining: {@code sent}, client reads sent behind another client's statement on one backend connection;
     * {@code ranAgain}, those run again on another connection because theirs was closed to stop a cancelled statement.
     */
    public record Pipelined(long sent, long ranAgain) {
    }

    /** One node's backends: {@code inUse} (held by client sessions), {@code idle} (pooled), and its counters. */
    public record NodeBackends(String node, String role, String state, int inUse, int idle, long statements,
                               long backendFailures) {
    }

    /** The snapshot as one JSON object. */
    public String toJson() {
        StringBuilder sb = new StringBuilder(256 + nodes.size() * 128);
        sb.append("{\"listen\":").append(quote(listen)).append(",\"auth\":").append(quote(auth))
                .append(",\"poolMode\":").append(quote(poolMode))
                .append(",\"clients\":{\"active\":").append(clients.active()).append(",\"idle\":").append(clients.idle())
                .append(",\"login\":").append(clients.login()).append(",\"total\":").append(clients.total())
                .append(",\"max\":").append(clients.max()).append(",\"accepted\":").append(clients.accepted())
                .append(",\"refused\":").append(clients.refused()).append(",\"loginFailures\":")
                .append(clients.loginFailures()).append("},\"nodes\":[");
        for (int i = 0; i < nodes.size(); i++) {
            NodeBackends n = nodes.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"node\":").append(quote(n.node())).append(",\"role\":")
                    .append(quote(n.role())).append(",\"state\":").append(quote(n.state()))
                    .append(",\"backendsInUse\":").append(n.inUse()).append(",\"backendsIdle\":").append(n.idle())
                    .append(",\"statements\":").append(n.statements()).append(",\"backendFailures\":")
                    .append(n.backendFailures()).append('}');
        }
        sb.append("],\"bytes\":{\"received\":").append(bytesReceived).append(",\"sent\":").append(bytesSent)
                .append("},\"errors\":{\"toClients\":").append(errorsToClients).append(",\"backendFailures\":")
                .append(backendFailures).append("},\"replayChecks\":{\"sent\":").append(replayChecks.sent())
                .append(",\"short\":").append(replayChecks.shortOfPosition()).append("},\"workerSteps\":")
                .append(workerSteps).append(",\"pipelined\":{\"sent\":").append(pipelined.sent())
                .append(",\"ranAgain\":").append(pipelined.ranAgain()).append("}}");
        return sb.toString();
    }

    static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '<' -> sb.append("\\u003c");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}

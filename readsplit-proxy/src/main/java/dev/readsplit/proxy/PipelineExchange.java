package dev.readsplit.proxy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the {@link Exchange} that runs a client's extended-protocol pipeline on one backend, so that the backend
 * answers each message as the client's own server would: a statement the client prepared but this backend lacks (or
 * holds from an older Parse) is prepared there first; a statement the backend holds but the client does not (closed
 * elsewhere, or left by another client of a transaction pool) is closed first, so a Bind of it fails with
 * {@code 26000}; a Parse of a name the client already has goes to a backend that has it, so it fails with
 * {@code 42P05}. What the proxy injects is answered to it, not to the client.
 *
 * <p>Neither map is changed while the pipeline is built: each change is recorded when the backend confirms it (the
 * backend's map, {@link BackendConnection#prepared}) and when that confirmation reaches the client (the client's map).
 * A message the backend skips after an error, or a pipeline the proxy runs again elsewhere before the client saw
 * anything of it (a 25006 refusal, a replica found short of the session's writes), changes nothing there.
 */
final class PipelineExchange {

    /** In an overlay: the name was closed earlier in the pipeline. */
    private static final byte[] GONE = new byte[0];

    private final Map<String, byte[]> clientStatements;
    private final BackendConnection backend;
    private final Exchange x;
    /** What the pipeline's earlier messages will have changed, by name, over the two maps. */
    private final Map<String, byte[]> clientAfter = new HashMap<>();
    private final Map<String, byte[]> backendAfter = new HashMap<>();

    private PipelineExchange(Map<String, byte[]> clientStatements, BackendConnection backend, boolean sync) {
        this.clientStatements = clientStatements;
        this.backend = backend;
        this.x = new Exchange(sync);
    }

    /**
     * The exchange for {@code batch} (Parse, Bind, Describe, Execute, Close, and a final Sync when {@code sync}; else a
     * Flush is added) on {@code backend}.
     *
     * @param clientStatements the client's prepared statements (name, "" for the unnamed one, to its Parse body)
     */
    static Exchange build(List<Msg> batch, BackendConnection backend, boolean sync,
                          Map<String, byte[]> clientStatements) {
        PipelineExchange p = new PipelineExchange(clientStatements, backend, sync);
        for (Msg m : batch) {
            p.add(m);
        }
        if (!sync) {
            p.x.client(Msg.builder('H').build(), null);
        }
        return p.x;
    }

    private void add(Msg m) {
        switch (m.type()) {
            case 'P' -> parse(m);
            case 'B' -> {
                ensure(m.bindStatement());
                x.client(m, "2");
            }
            case 'D' -> {
                if (m.body()[0] == 'S') {
                    ensure(m.cstring(1));
                }
                x.client(m, "Tn");
            }
            case 'E' -> x.client(m, "CIs");
            case 'C' -> {
                if (m.body()[0] == 'S') {
                    String name = m.cstring(1);
                    clientAfter.put(name, GONE);
                    backendAfter.put(name, GONE);
                    x.client(m, "3", () -> backend.prepared.remove(name), () -> clientStatements.remove(name));
                } else {
                    x.client(m, "3");
                }
            }
            case 'S' -> x.client(m, null);
            default -> throw new IllegalStateException("not a pipeline message: " + m);
        }
    }

    private void parse(Msg m) {
        String name = m.cstring(0);
        byte[] body = m.body();
        if (!name.isEmpty() && client(name) != null) {
            // PostgreSQL refuses a second Parse of a named statement (42P05): the backend, holding the client's
            // statement, answers so itself; nothing changes
            ensure(name);
            x.client(m, "1");
            return;
        }
        if (!name.isEmpty() && backend(name) != null) {
            closeOnBackend(name); // left by an older Parse (closed on another backend) or another client
        }
        clientAfter.put(name, body);
        backendAfter.put(name, body);
        x.client(m, "1", () -> backend.prepared.put(name, body), () -> clientStatements.put(name, body));
    }

    /** Makes the backend hold statement {@code name} as the client prepared it, or not at all if the client has none. */
    private void ensure(String name) {
        byte[] wanted = client(name);
        byte[] there = backend(name);
        if (wanted == there) {
            return;
        }
        if (there != null && (wanted == null || !name.isEmpty())) {
            closeOnBackend(name); // (a Parse of the unnamed statement replaces it: no Close needed)
        }
        if (wanted != null) {
            backendAfter.put(name, wanted);
            x.injected(new Msg((byte) 'P', wanted), '1', () -> backend.prepared.put(name, wanted));
        }
    }

    private void closeOnBackend(String name) {
        backendAfter.put(name, GONE);
        x.injected(Msg.builder('C').byte1('S').cstring(name).build(), '3', () -> backend.prepared.remove(name));
    }

    private byte[] client(String name) {
        return current(clientAfter, clientStatements, name);
    }

    private byte[] backend(String name) {
        return current(backendAfter, backend.prepared, name);
    }

    private static byte[] current(Map<String, byte[]> after, Map<String, byte[]> before, String name) {
        byte[] v = after.get(name);
        if (v == null) {
            v = before.get(name);
        }
        return v == GONE ? null : v;
    }
}

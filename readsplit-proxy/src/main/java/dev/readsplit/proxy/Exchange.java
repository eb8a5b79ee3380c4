package dev.readsplit.proxy;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One round of messages sent to a backend and its responses relayed to the client: a simple query, or an
 * extended-protocol pipeline up to its Sync (or Flush). It swallows the responses to the messages the proxy injected
 * itself (a Parse re-preparing a client's statement on this backend, the Close before it), refuses COPY FROM STDIN
 * (CopyFail, so the backend answers with an error), and, when asked to {@code hold}, keeps the responses back until
 * the first row or command completion, so a read refused with 25006 or lost to a connection failure can still run
 * elsewhere with the client none the wiser.
 */
final class Exchange {

    /** Holding stops (the held responses go out) past this many bytes. */
    static final int MAX_HELD_BYTES = 1 << 20;

    /** What the backend still owes, per message sent, in order. */
    private record Expect(String terminals, boolean swallow) {
    }

    private final ArrayDeque<Expect> expected = new ArrayDeque<>();
    private final List<Msg> toSend = new ArrayList<>();
    private final boolean endsWithSync;
    private boolean forwardedAny;
    private boolean misroute;
    private char status = 0;

    Exchange(boolean endsWithSync) {
        this.endsWithSync = endsWithSync;
    }

    /** A message of the client, whose responses are relayed. */
    void client(Msg m, String terminals) {
        toSend.add(m);
        if (terminals != null) {
            expected.add(new Expect(terminals, false));
        }
    }

    /** A message the proxy injects; its one response ({@code terminal}) is swallowed. */
    void injected(Msg m, char terminal) {
        toSend.add(m);
        expected.add(new Expect(String.valueOf(terminal), true));
    }

    /**
     * Sends the messages and relays the responses until the backend's ReadyForQuery (or, for a Flush, until every
     * message sent is answered or an error ends the pipeline).
     *
     * @throws IOException the backend connection failed; {@link #forwardedAny()} says whether the client saw anything
     */
    void run(BackendConnection b, ClientOutput client, boolean hold) throws IOException {
        for (Msg m : toSend) {
            b.write(m);
        }
        b.flush();
        List<Msg> held = hold && endsWithSync ? new ArrayList<>() : null;
        int heldBytes = 0;
        while (true) {
            if (!endsWithSync && expected.isEmpty()) {
                client.flush();
                return;
            }
            Msg m = b.read();
            byte t = m.type();
            if (t == 'G') {
                // COPY FROM STDIN cannot be relayed while the session waits on the backend: refuse it cleanly
                b.send(Msg.builder('f').cstring("COPY FROM STDIN is not supported by the readsplit proxy yet").build());
                continue;
            }
            if (t == 'Z') {
                status = (char) m.body()[0];
                if (misroute) {
                    return;
                }
                if (held != null) {
                    held.forEach(client::write);
                }
                client.write(m);
                client.flush();
                forwardedAny = true;
                return;
            }
            if (misroute) {
                continue; // drained until ReadyForQuery, never shown
            }
            if (t == 'E') {
                if (held != null && "25006".equals(m.field('C'))) {
                    misroute = true;
                    continue;
                }
                expected.clear(); // the backend skips everything up to Sync
                if (!endsWithSync) {
                    if (held != null) {
                        held.forEach(client::write);
                    }
                    client.write(m);
                    client.flush();
                    forwardedAny = true;
                    return;
                }
            } else {
                Expect head = expected.peek();
                if (head != null && head.terminals().indexOf((char) t) >= 0) {
                    expected.poll();
                    if (head.swallow()) {
                        continue;
                    }
                }
            }
            if (held != null) {
                held.add(m);
                heldBytes += m.body().length;
                if (t == 'D' || t == 'C' || t == 'H' || t == 's' || t == 'I' || heldBytes > MAX_HELD_BYTES) {
                    held.forEach(client::write);
                    held = null;
                    forwardedAny = true;
                }
            } else {
                client.write(m);
                forwardedAny = true;
            }
        }
    }

    boolean forwardedAny() {
        return forwardedAny;
    }

    /** A replica refused it with 25006 before any response reached the client. */
    boolean misroute() {
        return misroute;
    }

    /** The backend's transaction status at the end ({@code I}, {@code T}, {@code E}), or 0 after a Flush. */
    char status() {
        return status;
    }

    /** Where relayed messages go: the client's channel. */
    interface ClientOutput {
        void write(Msg m);

        void flush();
    }
}

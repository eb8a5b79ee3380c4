package dev.readsplit.proxy;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One round of messages sent to a backend and its responses relayed to the client: a simple query, or an
 * extended-protocol pipeline up to its Sync (or Flush). It swallows the responses to the messages the proxy injected
 * itself (a Parse re-preparing a client's statement on this backend, the Close before it), relays a COPY FROM STDIN
 * both ways (the backend's CopyInResponse to the client, then the client's CopyData, CopyDone or CopyFail, and the
 * Sync an extended-protocol client sends after them, to the backend: {@link #fromClient}), and, when asked to
 * {@code hold}, keeps the responses back until
 * the first row or command completion, so a read refused with 25006 or lost to a connection failure can still run
 * elsewhere with the client none the wiser.
 *
 * <p>It runs on the event loop that carries both the client's and the backend's channel ({@link #start}): the
 * messages are written to the backend and each response is relayed as the backend's channel delivers it, with no
 * thread in between; a worker that must wait for the result uses {@link #run}. Back-pressure: when the client's
 * channel stops being writable, the exchange stops reading the backend until it is writable again.
 */
final class Exchange {

    /** Holding stops (the held responses go out) past this many bytes. */
    static final int MAX_HELD_BYTES = 1 << 20;

    /**
     * What the backend still owes, per message sent, in order: the response types that answer it, whether that answer
     * is the proxy's (swallowed), and what its answer means for the backend's prepared statements and, once it reaches
     * the client, for the client's (either null).
     */
    private record Expect(String terminals, boolean swallow, Runnable onBackend, Runnable onClient) {
    }

    private final ArrayDeque<Expect> expected = new ArrayDeque<>();
    private final List<Msg> toSend = new ArrayList<>(4); // a statement is one to a few messages
    private final boolean endsWithSync;
    private boolean forwardedAny;
    private boolean misroute;
    private char status = 0;
    /** The backend sent CopyInResponse; the client's CopyDone or CopyFail has not gone by yet. */
    private boolean copyIn;
    /** A COPY FROM STDIN ran in this exchange (its client may send a Sync after CopyDone). */
    private boolean copied;
    /** The client's own Sync went to the backend after a COPY: the exchange ends at the ReadyForQuery it asks for. */
    private boolean syncRelayed;
    /** ReadyForQuery messages of {@link #leadingQuery leading queries} still to swallow. */
    private int swallowReady;
    /** The position a {@link #replayCheck replay check} must find replayed; -1 when there is no check. */
    private long checkMinLsn = -1;
    /** What the replay check found (-1 none, or an error). */
    private long checkedLsn = -1;
    /** The replay check found the standby short: the client's responses are drained, never shown. */
    private boolean stale;
    /** A {@link #trailingPosition trailing position query} was sent after the client's messages. */
    private boolean trailing;
    /** The client's ReadyForQuery went out: what follows answers the trailing position query. */
    private boolean inTrailing;
    /** What the trailing position query returned (-1 none, or an error). */
    private long trailingLsn = -1;
    /** The client's ReadyForQuery is kept for the caller to send ({@link #keepReady}). */
    private boolean keepReady;
    private Msg ready;

    Exchange(boolean endsWithSync) {
        this.endsWithSync = endsWithSync;
    }

    /** A message of the client, whose responses are relayed. */
    void client(Msg m, String terminals) {
        client(m, terminals, null, null);
    }

    /**
     * A message of the client, whose responses are relayed; when its answer ({@code terminals}) comes, {@code onBackend}
     * runs, and {@code onClient} once that answer has gone to the client (never if the exchange is drained unseen).
     */
    void client(Msg m, String terminals, Runnable onBackend, Runnable onClient) {
        toSend.add(m);
        if (terminals != null) {
            expected.add(new Expect(terminals, false, onBackend, onClient));
        }
    }

    /**
     * A simple query the proxy sends first (a deferred {@code BEGIN}), pipelined with the client's messages: all its
     * responses up to its ReadyForQuery are swallowed (an error of it would reach the client).
     */
    void leadingQuery(Msg q) {
        toSend.add(0, q);
        swallowReady++;
    }

    /**
     * A query of one {@code bigint} (a standby's replay position) sent first, pipelined with the client's read: if it
     * returns less than {@code minLsn} the standby has not replayed the session's writes, and the client's responses
     * are drained and never shown ({@link #stale()}), so the read can run elsewhere. Otherwise the read, run after it
     * in autocommit (its snapshot taken later), sees the session's writes. Only for an exchange that starts no
     * transaction and copies nothing.
     */
    void replayCheck(Msg q, long minLsn) {
        toSend.add(0, q);
        swallowReady++;
        checkMinLsn = minLsn;
    }

    /**
     * A query of one {@code bigint} (the primary's WAL insert position) sent after the client's messages, which it
     * runs after: the client's ReadyForQuery goes out as soon as it comes, then the exchange reads this answer
     * ({@link #trailingLsn()}) before it ends. Only for an exchange that ends with Sync and copies nothing.
     */
    void trailingPosition(Msg q) {
        toSend.add(q);
        trailing = true;
    }

    /**
     * The client's ReadyForQuery is not sent but kept ({@link #ready()}): a worker that still has to apply the
     * execution to the session (and, pooling by transaction, give its backends back) sends it after that, so the
     * client's next message, or another client's, finds the session and the pool as this execution left them.
     */
    void keepReady() {
        keepReady = true;
    }

    /** The kept ReadyForQuery, or null. */
    Msg ready() {
        return ready;
    }

    /** A message the proxy injects; its one response ({@code terminal}) is swallowed, then {@code onBackend} runs. */
    void injected(Msg m, char terminal, Runnable onBackend) {
        toSend.add(m);
        expected.add(new Expect(String.valueOf(terminal), true, onBackend, null));
    }

    /** Called once when the exchange is over, on the event loop: null, or the backend connection's failure. */
    interface Done {
        void done(IOException failure);
    }

    private BackendConnection backend;
    private ClientOutput client;
    private Done done;
    private List<Msg> held;
    /** What the held responses mean for the client's prepared statements, run when they are sent (null: nothing). */
    private List<Runnable> heldEffects;
    private int heldBytes;
    private boolean finished;

    /**
     * Sends the messages and relays the responses until the backend's ReadyForQuery (or, for a Flush, until every
     * message sent is answered or an error ends the pipeline), then calls {@code done}: with null, or with the
     * backend's failure ({@link #forwardedAny()} says whether the client saw anything). Event loop only; it returns
     * at once and relays as the backend's messages arrive.
     */
    void start(BackendConnection b, ClientOutput out, boolean hold, Done whenDone) {
        this.backend = b;
        this.client = out;
        this.done = whenDone;
        this.held = hold && endsWithSync ? new ArrayList<>() : null;
        for (Msg m : toSend) {
            b.write(m);
        }
        try {
            b.flush();
        } catch (IOException e) {
            finish(e);
            return;
        }
        if (!endsWithSync && expected.isEmpty()) {
            client.flush();
            finish(null);
            return;
        }
        b.listen(listener);
    }

    /**
     * The same, for a caller off the event loop: starts the exchange on the backend's event loop and waits for it.
     *
     * @throws IOException the backend connection failed; {@link #forwardedAny()} says whether the client saw anything
     */
    void run(BackendConnection b, ClientOutput out, boolean hold) throws IOException {
        java.util.concurrent.CompletableFuture<IOException> f = new java.util.concurrent.CompletableFuture<>();
        b.eventLoop().execute(() -> {
            try {
                start(b, out, hold, f::complete);
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        IOException failure;
        try {
            failure = f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            b.markBroken();
            throw new java.io.InterruptedIOException("interrupted while waiting for " + b);
        } catch (java.util.concurrent.ExecutionException e) {
            b.markBroken();
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(e.getCause());
        }
        if (failure != null) {
            throw failure;
        }
    }

    private final BackendConnection.Listener listener = new BackendConnection.Listener() {
        @Override
        public void message(Msg m) {
            if (!finished) {
                onMessage(m);
            }
        }

        @Override
        public void failed(IOException e) {
            if (inTrailing) {
                // the client has its whole answer: only the trailing position is lost, and the connection with it
                trailingLsn = -1;
                backend.markBroken();
                finish(null);
                return;
            }
            finish(e);
        }

        @Override
        public void readComplete() {
            if (!finished && !client.writable()) {
                // back-pressure: the client does not keep up; stop reading this backend until it does
                client.flush();
                backend.autoRead(false);
                BackendConnection b = backend;
                client.whenWritable(() -> b.autoRead(true));
            }
        }

        @Override
        public boolean forwardedAny() {
            return forwardedAny;
        }
    };

    /** Whether the backend answers this exchange now (not one pipelined before it). Event loop only. */
    boolean answeredNow() {
        return backend != null && backend.answering(listener);
    }

    private void finish(IOException failure) {
        if (finished) {
            return;
        }
        finished = true;
        if (backend != null) {
            backend.done(listener); // an exchange pipelined behind this one gets the messages from now on
            backend.autoRead(true);
        }
        done.done(failure);
    }

    private void onMessage(Msg m) {
        byte t = m.type();
        if (t == 'A' && (inTrailing || swallowReady > 0)) {
            client.write(m); // a notification (LISTEN) that came during the proxy's own query is the client's
            return;
        }
        if (inTrailing) {
            if (t == 'D') {
                trailingLsn = m.firstColumnLong();
            } else if (t == 'E') {
                trailingLsn = -1; // no position: the session's next read asks the primary itself
            } else if (t == 'Z') {
                client.flush();
                finish(null);
            }
            return;
        }
        if (swallowReady > 0) {
            if (checkMinLsn >= 0) {
                // the replay check (never shown: an error of it, a promoted standby's NULL, mean "not replayed")
                if (t == 'D') {
                    checkedLsn = m.firstColumnLong();
                } else if (t == 'E') {
                    checkedLsn = -1;
                } else if (t == 'Z') {
                    swallowReady--;
                    stale = checkedLsn < checkMinLsn;
                    checkMinLsn = -1;
                }
                return;
            }
            if (t == 'Z') {
                swallowReady--;
            } else if (t == 'E') {
                client.write(m); // the proxy's own BEGIN failed: the client sees why
                forwardedAny = true;
            }
            return;
        }
        if (t == 'G') {
            // COPY FROM STDIN: the client's data now flows to the backend (fromClient) until CopyDone or CopyFail
            releaseHeld();
            client.write(m);
            client.flush();
            forwardedAny = true;
            copyIn = true;
            copied = true;
            client.copyIn(this);
            return;
        }
        if (t == 'Z') {
            status = (char) m.body()[0];
            if (!misroute && !stale) {
                releaseHeld();
                if (keepReady) {
                    ready = m;
                } else {
                    client.write(m);
                }
                client.flush();
                forwardedAny = true;
            }
            if (trailing) {
                inTrailing = true; // the client has its answer; the position query's comes next
                return;
            }
            finish(null);
            return;
        }
        if (misroute || stale) {
            // drained until ReadyForQuery, never shown; what the backend did with its statements still holds there
            if (t == 'E') {
                expected.clear();
            } else {
                answered(t);
            }
            return;
        }
        Expect head = null;
        if (t == 'E') {
            expected.clear(); // the backend skips everything up to Sync
            if (held != null && "25006".equals(m.field('C'))) {
                misroute = true;
                return;
            }
            copyIn = false; // an error ends a COPY's copy-in mode too
            if (!endsWithSync && !syncRelayed) {
                releaseHeld();
                client.write(m);
                client.flush();
                forwardedAny = true;
                finish(null);
                return;
            }
        } else {
            head = answered(t);
            if (head != null && head.swallow()) {
                afterMessage();
                return;
            }
        }
        Runnable effect = head == null ? null : head.onClient();
        if (held != null) {
            held.add(m);
            if (effect != null) {
                if (heldEffects == null) {
                    heldEffects = new ArrayList<>(2);
                }
                heldEffects.add(effect);
            }
            heldBytes += m.body().length;
            if (t == 'D' || t == 'C' || t == 'H' || t == 's' || t == 'I' || heldBytes > MAX_HELD_BYTES) {
                releaseHeld();
                forwardedAny = true;
            }
        } else {
            client.write(m);
            if (effect != null) {
                effect.run();
            }
            forwardedAny = true;
        }
        afterMessage();
    }

    /** The message the backend has just answered with a response of type {@code t}, or null; its backend effect run. */
    private Expect answered(byte t) {
        Expect head = expected.peek();
        if (head == null || head.terminals().indexOf((char) t) < 0) {
            return null;
        }
        expected.poll();
        if (head.onBackend() != null) {
            head.onBackend().run();
        }
        return head;
    }

    /** Sends the held responses to the client, and records what they mean for its prepared statements. */
    private void releaseHeld() {
        if (held == null) {
            return;
        }
        held.forEach(client::write);
        if (heldEffects != null) {
            heldEffects.forEach(Runnable::run);
            heldEffects = null;
        }
        held = null;
    }

    /** After a Flush, the exchange ends once every message sent is answered. */
    private void afterMessage() {
        if (!endsWithSync && !syncRelayed && expected.isEmpty()) {
            client.flush();
            finish(null);
        }
    }

    /**
     * Whether a client message of type {@code type} goes to this exchange's backend now: CopyData, CopyDone, CopyFail
     * (and the Flush or Sync a client may send among them, which the backend ignores) while the backend is in
     * copy-in mode; after the COPY of an extended-protocol pipeline, the client's Sync that ends it. Event loop only.
     */
    boolean takes(byte type) {
        if (finished || !copied) {
            return false;
        }
        if (copyIn) {
            return type == 'd' || type == 'c' || type == 'f' || type == 'H' || type == 'S';
        }
        return !simple() && !syncRelayed && (type == 'S' || type == 'H');
    }

    /** In copy-in mode: the client's CopyDone or CopyFail has not gone by yet. */
    boolean copyingIn() {
        return copyIn && !finished;
    }

    private boolean simple() {
        return !toSend.isEmpty() && toSend.get(toSend.size() - 1).type() == 'Q';
    }

    /** Writes a client message {@link #takes} accepts to the backend (then {@link #flushToBackend}). Event loop only. */
    void fromClient(Msg m) {
        byte t = m.type();
        if (t == 'c' || t == 'f') {
            copyIn = false;
        } else if (t == 'S' && !copyIn) {
            syncRelayed = true;
        }
        backend.write(m);
    }

    void flushToBackend() {
        try {
            backend.flush();
        } catch (IOException e) {
            finish(e);
        }
    }

    /** Whether the backend's socket takes more client data now; else {@code r} runs once it does. Event loop only. */
    boolean backendWritable(Runnable r) {
        if (backend.writable()) {
            return true;
        }
        backend.whenWritable(r);
        return false;
    }

    boolean forwardedAny() {
        return forwardedAny;
    }

    /** The replay check found the standby short of the session's position: nothing reached the client. */
    boolean stale() {
        return stale;
    }

    /** What the replay check found the standby had replayed (-1 none). */
    long checkedLsn() {
        return checkedLsn;
    }

    /** What the trailing position query returned (-1 none). */
    long trailingLsn() {
        return trailingLsn;
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

        /** The client's channel takes more now (event loop). */
        boolean writable();

        /** Runs {@code r} on the event loop once the client's channel is writable again (or closed). */
        void whenWritable(Runnable r);

        /** The backend of {@code x} waits for the client's COPY data: relay its copy messages to {@code x}. */
        void copyIn(Exchange x);
    }
}

package dev.readsplit.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One client's connection: the startup phase (SSLRequest and GSSENCRequest answered {@code N}, CancelRequest, the
 * StartupMessage, authentication by the configured {@link ClientAuth} through a {@link ClientLogin}), then its
 * {@link ClientSession}. Messages are handled in
 * order, one at a time, by a driver on the event loop ({@link #pump()}): the common query runs there from end to end
 * (the session's {@link ClientSession#onLoop fast path}, its backend on the same event loop), anything that blocks
 * (the login, the proxy's own queries, opening a backend, read-your-writes waits, a retry, the end of the session)
 * runs on a worker thread, while later messages wait. The event loop stops reading while more than
 * {@link #MAX_QUEUED_BYTES} wait, so a client that sends faster than its backend answers is held back, not buffered
 * without bound; a client that reads slower than its backend answers holds that backend back (see {@link Exchange}).
 * Every message to the client goes through {@link #write(Msg)}, on either path, which counts bytes, errors and the
 * transaction status for the proxy's status ({@link ProxyStats}).
 *
 * <p>Concurrency: the inbox, its byte count and {@link #busy} are written on the event loop only; the rest is
 * touched by whichever runs the current step (the event loop, or the one worker it handed the step to, which hands it back
 * through the event loop's task queue).
 */
final class ClientConnection extends ChannelInboundHandlerAdapter implements Exchange.ClientOutput, ClientSession.Driver {

    private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);
    static final long MAX_QUEUED_BYTES = 4L << 20;
    private static final int FLUSH_AT = 64 * 1024;

    private enum Phase { STARTUP, AUTH, READY, CLOSED }

    private final ProxyServer server;
    private final Channel channel;
    private final ArrayDeque<Msg> inbox = new ArrayDeque<>();
    private long queuedBytes;
    /**
     * A step is under way (an exchange on the event loop, or a worker's): later messages wait in the inbox. Written on
     * the event loop only; volatile because status ({@link #state()}) reads it from other threads (a logged-in client
     * with a step under way is {@code active}).
     */
    private volatile boolean busy;
    private Runnable whenWritable;
    /** Event loop only: the exchange whose COPY FROM STDIN takes the client's copy messages now, or null. */
    private Exchange copying;
    private final Object writability = new Object();
    private final int pid;
    private final int secret;
    /** Written by the step's thread, read by status ({@link #state()}) from other threads. */
    private volatile Phase phase = Phase.STARTUP;
    /** The transaction status of the last ReadyForQuery sent to the client (for status). */
    private volatile char lastStatus = 'I';
    private ByteBuf pending;
    private String user;
    /** Only during the login: dropped once the session has them. */
    private Map<String, String> startupSettings;
    private Map<String, String> readsplitSettings;
    private ClientLogin login;
    /** The authTimeout timer, cancelled once the client is logged in. */
    private volatile java.util.concurrent.Future<?> loginDeadline;
    private volatile ClientSession session;
    /** Event-loop confined: the StartupMessage went by (an SSLRequest after it is a protocol error); TLS is on. */
    private boolean startupSeen;
    private boolean tlsStarted;

    ClientConnection(ProxyServer server, Channel channel, int pid, int secret) {
        this.server = server;
        this.channel = channel;
        this.pid = pid;
        this.secret = secret;
    }

    int pid() {
        return pid;
    }

    int secret() {
        return secret;
    }

    // ---------------------------------------------------------------------------------------------
    // Netty side (event loop)

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Msg m = (Msg) msg;
        if (!startupSeen && m.type() == Msg.STARTUP && m.body().length == 4) {
            if (m.int32(0) == Msg.SSL_REQUEST && server.tls() != null && !tlsStarted) {
                // on the event loop, before the client's TLS handshake can arrive: 'S', then TLS under the decoder
                tlsStarted = true;
                ctx.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'S'}));
                ctx.pipeline().addFirst("tls", server.tls().newHandler(ctx.alloc()));
                return;
            }
        } else if (m.type() == Msg.STARTUP && m.body().length >= 4 && (m.int32(0) >>> 16) == 3) {
            startupSeen = true;
        }
        server.stats().bytesReceived.add(m.body().length + (m.type() == Msg.STARTUP ? 4L : 5L));
        inbox.add(m);
        queuedBytes += m.body().length + 5L;
        if (queuedBytes > MAX_QUEUED_BYTES) {
            channel.config().setAutoRead(false);
        }
        pump();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ClientSession s = session;
        if (s != null && s.running()) {
            server.workers().execute(s::hungUp); // a client that hung up mid-query does not keep its backend busy
        }
        inbox.add(new Msg((byte) 'X', new byte[0]));
        pump();
        synchronized (writability) {
            writability.notifyAll();
        }
        runWhenWritable();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        synchronized (writability) {
            writability.notifyAll();
        }
        if (channel.isWritable()) {
            runWhenWritable();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void runWhenWritable() {
        Runnable r = whenWritable;
        whenWritable = null;
        if (r != null) {
            r.run();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("readsplit proxy: client {} failed: {}", channel.remoteAddress(), cause.toString());
        ctx.close();
    }

    // ---------------------------------------------------------------------------------------------
    // the driver (event loop)

    /** Handles the waiting messages in order until one needs a step that has not ended yet. Event loop only. */
    private void pump() {
        relayCopy();
        while (!busy) {
            ClientSession s = session;
            if (phase == Phase.READY && s.terminated()) {
                s.active();
                offload(this::end);
                return;
            }
            Msg m = inbox.poll();
            if (m == null) {
                if (server.draining() && phase != Phase.CLOSED && (phase != Phase.READY || lastStatus == 'I')) {
                    // the proxy is shutting down and this client waits for nothing, outside a transaction (or has
                    // not finished its login: as PostgreSQL refuses logins at shutdown)
                    Phase at = phase;
                    offload(() -> {
                        switch (at) {
                            case READY -> fatal("57P01", "terminating connection due to administrator command:"
                                    + " the readsplit proxy is shutting down");
                            case AUTH -> fatal("57P03", "the readsplit proxy is shutting down");
                            default -> end(); // no startup packet yet: nothing to answer in
                        }
                    });
                    return;
                }
                if (phase == Phase.READY && s != null) {
                    s.idle();
                }
                return;
            }
            if (phase == Phase.READY && s != null) {
                s.active();
            }
            queuedBytes -= m.body().length + 5L;
            if (queuedBytes < MAX_QUEUED_BYTES / 4 && !channel.config().isAutoRead() && phase != Phase.CLOSED) {
                channel.config().setAutoRead(true);
            }
            if (phase == Phase.CLOSED) {
                continue;
            }
            if (phase != Phase.READY) {
                offload(() -> handleOnWorker(m));
                return;
            }
            ClientSession.Step step;
            busy = true; // an exchange may end (resume) before onLoop returns
            try {
                step = s.onLoop(m, this);
            } catch (RuntimeException e) {
                log.warn("readsplit proxy: client {} session failed", channel.remoteAddress(), e);
                offload(() -> fatal("XX000", "readsplit proxy internal error: " + e));
                return;
            }
            switch (step) {
                case DONE -> busy = false;
                case PENDING -> {
                    return; // resume() (already, or later) goes on
                }
                case BLOCKING -> {
                    offload(() -> handleOnWorker(m));
                    return;
                }
            }
        }
    }

    /**
     * While a COPY FROM STDIN runs ({@link #copying}): the client's CopyData, CopyDone and CopyFail (and the Sync after
     * them) go straight to its backend as they arrive, while the step that runs the COPY is still under way; other
     * messages wait their turn. Stops while the backend's socket is full (resumed when it drains), so the inbox bound
     * holds the client back. A client that hangs up mid-COPY aborts it (CopyFail). Event loop only.
     */
    private void relayCopy() {
        Exchange x = copying;
        if (x == null) {
            return;
        }
        boolean sent = false;
        Msg m;
        while ((m = inbox.peek()) != null) {
            if (m.type() == 'X' && x.copyingIn()) {
                x.fromClient(Msg.builder('f').cstring("the client closed the connection during COPY").build());
                sent = true;
                break;
            }
            if (!x.takes(m.type())) {
                break;
            }
            if (!x.backendWritable(this::pump)) {
                break;
            }
            inbox.poll();
            queuedBytes -= m.body().length + 5L;
            if (queuedBytes < MAX_QUEUED_BYTES / 4 && !channel.config().isAutoRead() && phase != Phase.CLOSED) {
                channel.config().setAutoRead(true);
            }
            x.fromClient(m);
            sent = true;
        }
        if (sent) {
            x.flushToBackend();
        }
        if (!x.takes((byte) 'd') && !x.takes((byte) 'S')) {
            copying = null; // nothing more of the client's goes to it
        }
    }

    @Override
    public void copyIn(Exchange x) {
        copying = x;
        relayCopy();
    }

    /** The pending step is over (event loop). */
    @Override
    public void resume() {
        busy = false;
        pump();
    }

    @Override
    public void blocking(Runnable rest) {
        busy = true;
        offload(() -> {
            try {
                rest.run();
            } catch (RuntimeException e) {
                log.warn("readsplit proxy: client {} session failed", channel.remoteAddress(), e);
                fatal("XX000", "readsplit proxy internal error: " + e);
            }
        });
    }

    /** Runs {@code step} on a worker; then the event loop goes on with the next message. */
    private void offload(Runnable step) {
        busy = true;
        server.stats().workerSteps.increment();
        try {
            server.workers().execute(() -> {
                try {
                    step.run();
                } finally {
                    channel.eventLoop().execute(this::resume);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the proxy is shutting down: nothing will run this client's messages any more
            log.debug("readsplit proxy: client {} dropped at shutdown", channel.remoteAddress());
            phase = Phase.CLOSED;
            server.closed(this);
            channel.close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // worker side

    private void handleOnWorker(Msg m) {
        if (phase == Phase.CLOSED) {
            return;
        }
        try {
            handle(m);
        } catch (ClientSession.ProtocolError e) {
            if (phase != Phase.READY) {
                server.stats().loginFailures.increment();
            }
            fatal(e.sqlState, e.getMessage());
        } catch (RuntimeException e) {
            log.warn("readsplit proxy: client {} session failed", channel.remoteAddress(), e);
            fatal("XX000", "readsplit proxy internal error: " + e);
        }
    }

    private void handle(Msg m) throws ClientSession.ProtocolError {
        switch (phase) {
            case STARTUP -> startup(m);
            case AUTH -> authenticate(m);
            case READY -> {
                if (!session.handle(m)) {
                    end();
                }
            }
            case CLOSED -> { }
        }
    }

    private void startup(Msg m) throws ClientSession.ProtocolError {
        if (m.type() == 'X') {
            end();
            return;
        }
        if (m.type() != Msg.STARTUP || m.body().length < 4) {
            throw new ClientSession.ProtocolError("08P01", "invalid startup packet");
        }
        int code = m.int32(0);
        switch (code) {
            case Msg.SSL_REQUEST, Msg.GSSENC_REQUEST -> {
                // no TLS configured (an SSLRequest with TLS is answered on the event loop), GSSAPI encryption is not
                // offered: 'N', and the client goes on in plain text (or gives up, with its own clear message)
                channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
                return;
            }
            case Msg.CANCEL_REQUEST -> {
                if (m.body().length == 12) {
                    server.cancel(m.int32(4), m.int32(8));
                }
                end();
                return;
            }
            default -> { }
        }
        if ((code >>> 16) != 3) {
            throw new ClientSession.ProtocolError("0A000", "unsupported frontend protocol " + (code >>> 16) + "."
                    + (code & 0xffff) + ": the readsplit proxy speaks 3.0");
        }
        Map<String, String> params = new LinkedHashMap<>();
        int at = 4;
        while (at < m.body().length && m.body()[at] != 0) {
            String k = m.cstring(at);
            at = m.end(at);
            if (at >= m.body().length) {
                throw new ClientSession.ProtocolError("08P01", "invalid startup packet: parameter " + k + " has no value");
            }
            String v = m.cstring(at);
            at = m.end(at);
            params.put(k, v);
        }
        user = params.get("user");
        if (user == null || user.isEmpty()) {
            throw new ClientSession.ProtocolError("28000", "no PostgreSQL user name specified in startup packet");
        }
        if (params.containsKey("replication")) {
            throw new ClientSession.ProtocolError("0A000", "readsplit proxy: replication connections are not supported");
        }
        String database = params.getOrDefault("database", user);
        String served = server.database();
        if (!served.equals(database)) {
            throw new ClientSession.ProtocolError("3D000", "database \"" + database
                    + "\" does not exist (the readsplit proxy serves \"" + served + "\")");
        }
        List<String> unrecognized = new ArrayList<>();
        startupSettings = new LinkedHashMap<>();
        readsplitSettings = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : params.entrySet()) {
            String k = e.getKey();
            switch (k) {
                case "user", "database" -> { }
                case "options" -> parseOptions(e.getValue());
                default -> {
                    if (k.startsWith("_pq_.")) {
                        unrecognized.add(k);
                    } else {
                        setting(k, e.getValue());
                    }
                }
            }
        }
        if ((code & 0xffff) != 0 || !unrecognized.isEmpty()) {
            Msg.Builder b = Msg.builder('v').int32(PROTOCOL_MINOR).int32(unrecognized.size());
            unrecognized.forEach(b::cstring);
            write(b.build());
        }
        if (server.config().trust()) {
            authenticated(null);
            return;
        }
        login = ClientLogin.begin(server.credentials(), user, server::checkAtPrimary, server.random());
        write(login.request());
        flush();
        phase = Phase.AUTH;
    }

    private void authenticate(Msg m) throws ClientSession.ProtocolError {
        if (m.type() == 'X') {
            end();
            return;
        }
        ClientLogin.Step step = login.next(m);
        if (step.reply() != null) {
            write(step.reply());
        }
        if (step.done()) {
            login = null;
            authenticated(step.backendLogin());
        } else {
            flush();
        }
    }

    private static final int PROTOCOL_MINOR = 0;

    /** {@code -c name=value} and {@code --name=value} in the startup {@code options}. */
    private void parseOptions(String options) throws ClientSession.ProtocolError {
        String[] words = options.trim().split("\\s+");
        for (int i = 0; i < words.length; i++) {
            String w = words[i];
            String kv;
            if (w.isEmpty()) {
                continue;
            } else if (w.equals("-c") && i + 1 < words.length) {
                kv = words[++i];
            } else if (w.startsWith("-c")) {
                kv = w.substring(2);
            } else if (w.startsWith("--")) {
                kv = w.substring(2);
            } else {
                throw new ClientSession.ProtocolError("22023", "readsplit proxy: unsupported startup option " + w
                        + " (only -c name=value and --name=value)");
            }
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new ClientSession.ProtocolError("22023", "invalid startup option " + kv + " (name=value)");
            }
            setting(kv.substring(0, eq).replace('-', '_'), kv.substring(eq + 1));
        }
    }

    private void setting(String name, String value) throws ClientSession.ProtocolError {
        if (!name.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
            throw new ClientSession.ProtocolError("22023", "invalid configuration parameter name in startup: " + name);
        }
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.startsWith("readsplit.")) {
            readsplitSettings.put(lower.substring("readsplit.".length()), value);
        } else {
            startupSettings.put(name, value);
        }
    }

    private void authenticated(BackendLogin as) throws ClientSession.ProtocolError {
        write(Msg.builder('R').int32(0).build());
        ClientSession s = new ClientSession(server, this, startupSettings);
        if (as != null) {
            s.loginAs(as);
        }
        for (Map.Entry<String, String> e : readsplitSettings.entrySet()) {
            s.startupSetting(e.getKey(), e.getValue());
        }
        Map<String, String> reported = new LinkedHashMap<>(server.serverParameters());
        for (Map.Entry<String, String> e : startupSettings.entrySet()) {
            for (String k : reported.keySet()) {
                if (k.equalsIgnoreCase(e.getKey())) {
                    reported.put(k, e.getValue());
                }
            }
        }
        reported.forEach((k, v) -> write(Msg.parameterStatus(k, v)));
        write(Msg.builder('K').int32(pid).int32(secret).build());
        write(Msg.ready('I'));
        flush();
        session = s;
        startupSettings = null;
        readsplitSettings = null;
        phase = Phase.READY;
        java.util.concurrent.Future<?> timer = loginDeadline;
        if (timer != null) {
            timer.cancel(false);
            loginDeadline = null;
        }
        server.authenticated(this);
    }

    private void fatal(String sqlState, String message) {
        write(Msg.fatal(sqlState, message));
        flush();
        end();
    }

    private void end() {
        if (phase == Phase.CLOSED) {
            return;
        }
        phase = Phase.CLOSED;
        ClientSession s = session;
        if (s != null) {
            s.close();
        }
        server.closed(this);
        flush();
        channel.close();
    }

    /**
     * The proxy is shutting down ({@link ProxyServer#close()}): looks at this client on its event loop, and closes it
     * there if it is idle outside a transaction or has not finished its login; a busy one is looked at again as its
     * step ends ({@link #pump()}).
     */
    void drainWhenIdle() {
        channel.eventLoop().execute(() -> {
            if (!busy) {
                pump();
            }
        });
    }

    /** For status: {@code login} until authenticated, then {@code active} (running, or in a transaction) or {@code idle}. */
    String state() {
        Phase p = phase;
        if (p == Phase.STARTUP || p == Phase.AUTH) {
            return "login";
        }
        return busy || lastStatus != 'I' ? "active" : "idle";
    }

    void loginDeadline(java.util.concurrent.Future<?> timer) {
        loginDeadline = timer;
    }

    boolean authenticatedYet() {
        return phase == Phase.READY || phase == Phase.CLOSED;
    }

    void cancel() {
        ClientSession s = session;
        if (s != null) {
            s.cancel();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // output (worker side)

    @Override
    public void write(Msg m) {
        if (m.type() == 'E') {
            server.stats().errorsToClients.increment();
        } else if (m.type() == 'Z' && m.body().length == 1) {
            lastStatus = (char) m.body()[0];
        }
        server.stats().bytesSent.add(m.body().length + 5L);
        if (pending == null) {
            pending = channel.alloc().buffer(Math.max(256, m.body().length + 5));
        }
        pending.writeByte(m.type());
        pending.writeInt(m.body().length + 4);
        pending.writeBytes(m.body());
        if (pending.readableBytes() >= FLUSH_AT) {
            flush();
        }
    }

    @Override
    public void flush() {
        ByteBuf b = pending;
        pending = null;
        if (b != null) {
            channel.writeAndFlush(b);
        }
        if (channel.eventLoop().inEventLoop()) {
            return; // the event loop never waits: an exchange stops reading its backend instead (whenWritable)
        }
        // back-pressure on a worker: a slow client holds its session (and so its backend), never the proxy's memory
        synchronized (writability) {
            while (!channel.isWritable() && channel.isActive()) {
                try {
                    writability.wait(TimeUnit.MILLISECONDS.toMillis(100));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    @Override
    public boolean writable() {
        return channel.isWritable() || !channel.isActive();
    }

    @Override
    public void whenWritable(Runnable r) {
        if (writable()) {
            r.run();
        } else {
            whenWritable = r;
        }
    }
}

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
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One client's connection: the startup phase (SSLRequest and GSSENCRequest answered {@code N}, CancelRequest, the
 * StartupMessage, authentication by the configured {@link ClientAuth} through a {@link ClientLogin}), then its
 * {@link ClientSession}. Netty's event loop only
 * frames and queues messages; they are handled one at a time on a worker thread (the session blocks on its backends),
 * and the event loop stops reading while more than {@link #MAX_QUEUED_BYTES} wait, so a client that sends faster
 * than its backend answers is held back, not buffered without bound.
 *
 * <p>Concurrency: the queue and its byte count are concurrent; everything else is touched by the worker draining the
 * queue (at most one at a time, guarded by {@link #scheduled}) or, for the output's writability, under its lock.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter implements Exchange.ClientOutput {

    private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);
    static final long MAX_QUEUED_BYTES = 4L << 20;
    private static final int SSL_REQUEST = 80877103;
    private static final int GSSENC_REQUEST = 80877104;
    private static final int CANCEL_REQUEST = 80877102;
    private static final int FLUSH_AT = 64 * 1024;

    private enum Phase { STARTUP, AUTH, READY, CLOSED }

    private final ProxyServer server;
    private final Channel channel;
    private final Queue<Msg> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicLong queuedBytes = new AtomicLong();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Object writability = new Object();
    private final int pid;
    private final int secret;
    /** Written by the worker, read by status ({@link #state()}) from other threads. */
    private volatile Phase phase = Phase.STARTUP;
    /** The worker is handling a message of the logged-in client now (for status). */
    private volatile boolean busy;
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
            if (m.int32(0) == SSL_REQUEST && server.tls() != null && !tlsStarted) {
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
        if (queuedBytes.addAndGet(m.body().length + 5L) > MAX_QUEUED_BYTES) {
            channel.config().setAutoRead(false);
        }
        schedule();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        ClientSession s = session;
        if (s != null) {
            s.cancel(); // a client that hung up mid-query does not keep its backend busy
        }
        inbox.add(new Msg((byte) 'X', new byte[0]));
        schedule();
        synchronized (writability) {
            writability.notifyAll();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        synchronized (writability) {
            writability.notifyAll();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("readsplit proxy: client {} failed: {}", channel.remoteAddress(), cause.toString());
        ctx.close();
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            server.workers().execute(this::drain);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // worker side

    private void drain() {
        try {
            Msg m;
            while ((m = inbox.poll()) != null) {
                long left = queuedBytes.addAndGet(-(m.body().length + 5L));
                if (left < MAX_QUEUED_BYTES / 4 && !channel.config().isAutoRead() && phase != Phase.CLOSED) {
                    channel.config().setAutoRead(true);
                }
                if (phase == Phase.CLOSED) {
                    continue;
                }
                try {
                    if (phase == Phase.READY) {
                        busy = true;
                    }
                    handle(m);
                } catch (ClientSession.ProtocolError e) {
                    if (phase != Phase.READY) {
                        server.stats().loginFailures.increment();
                    }
                    fatal(e.sqlState, e.getMessage());
                } catch (RuntimeException e) {
                    log.warn("readsplit proxy: client {} session failed", channel.remoteAddress(), e);
                    fatal("XX000", "readsplit proxy internal error: " + e);
                } finally {
                    busy = false;
                }
            }
        } finally {
            scheduled.set(false);
        }
        if (!inbox.isEmpty()) {
            schedule();
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
            case SSL_REQUEST, GSSENC_REQUEST -> {
                // no TLS configured (an SSLRequest with TLS is answered on the event loop), GSSAPI encryption is not
                // offered: 'N', and the client goes on in plain text (or gives up, with its own clear message)
                channel.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {'N'}));
                return;
            }
            case CANCEL_REQUEST -> {
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
        // back-pressure: a slow client holds its session (and so its backend), never the proxy's memory
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
}

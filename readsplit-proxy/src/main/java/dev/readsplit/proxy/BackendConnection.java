package dev.readsplit.proxy;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.cluster.Node;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One connection of the proxy to a PostgreSQL node, over the wire protocol, on a Netty channel of the proxy's event
 * loop: the startup and authentication (trust, cleartext, md5 or SCRAM-SHA-256, with the node's configured user and
 * password), then messages in and out. It also records which prepared statements exist on it ({@link #prepared}),
 * so a client's statement is re-prepared on whichever backend executes it.
 *
 * <p>Two ways to read, never both at once: on the event loop, a {@link Listener} (an {@link Exchange} relaying a
 * client's query) gets each message as it is framed; off the event loop (a worker thread doing the proxy's own
 * queries: login, settings, {@code DISCARD ALL}, LSN positions), {@link #read()} blocks on the messages that arrived
 * while no listener was set. Messages that arrive while the connection is idle (a notice, a notification) wait for
 * whichever reads next, as they waited in the socket before.
 *
 * <p>Concurrency: used by one client session at a time (the pool hands it out exclusively), which drives it from
 * one thread at a time (the event loop, or its worker while the event loop does not touch it); {@link #cancelKey}
 * fields are read by the cancel path from other threads. The exception is pipelining
 * ({@link ProxyConfig#pipelineDepth}): then several sessions' autocommit reads are in flight on it at once, all sent,
 * answered and ended on the event loop, each exchange's listener getting the messages in turn ({@link #done}).
 */
final class BackendConnection implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BackendConnection.class);

    /** Bound on a message a backend may send (a DataRow of a huge value included). */
    static final int MAX_BACKEND_MESSAGE = 1 << 30;

    /** Gets a backend's messages on the event loop. */
    interface Listener {
        void message(Msg m);

        /** The connection failed or closed; no message follows. */
        void failed(IOException e);

        /** The end of one read from the socket (a moment to check the client's writability). */
        void readComplete();

        /** Whether the client has been sent any of this listener's messages yet (nothing: it may still run again). */
        default boolean forwardedAny() {
            return false;
        }
    }

    private final Node node;
    private final int epoch;
    private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final Map<String, String> parameters = new LinkedHashMap<>();
    /** Statement name -> the client's Parse body it was prepared from (identity compared). */
    final Map<String, byte[]> prepared = new HashMap<>();
    /**
     * The session settings (the client's startup parameters and SETs, as {@code SET} statements) applied on it since it
     * was opened or reset; in transaction pooling a backend serves clients with the same settings without a round trip.
     */
    List<String> applied = List.of();
    private Channel channel;
    private ByteBuf out;
    private Listener listener;
    /**
     * Listeners of exchanges sent behind the one answered now (pipelining: {@link ProxyConfig#pipelineDepth}), in the
     * order their messages went out; each gets the messages once the one before it is {@link #done}. Event loop only.
     */
    private final java.util.ArrayDeque<Listener> behind = new java.util.ArrayDeque<>();
    /** Since when (System.nanoTime) the exchange answered now has been answered: the pipelining wait bound. */
    private long answeringSince;
    /** Client sessions' exchanges in flight on it while it is pipelined (shared), event loop only. */
    private int pipelined;
    /** No more exchanges go behind those in flight, and it is closed, not pooled, once they are over (a cancel). */
    private volatile boolean retiring;
    /** The proxy closed it to stop a cancelled statement that others were pipelined with. */
    private volatile boolean closedForCancel;
    /** Event loop only: what waits for the socket to take more (a client's COPY data relayed). */
    private Runnable whenWritable;
    /** The passed-through client login it was opened with, or null: the node's configured user. */
    private final BackendLogin login;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Runnable onClose;
    private volatile int pid;
    private volatile int secret;
    private volatile boolean broken;
    private volatile String failure;

    private BackendConnection(Node node, BackendLogin login) {
        this.node = node;
        this.login = login;
        this.epoch = node.epoch();
    }

    /**
     * Connects and logs in to {@code node} on a channel of {@code group}, as {@code login} (null: the node's
     * configured user); the connection is ready for queries (status idle). Blocks: never call it on the event loop.
     */
    static BackendConnection open(Node node, BackendLogin login, BackendTls tls, EventLoopGroup group,
                                  Class<? extends SocketChannel> channelClass, int connectTimeoutMillis,
                                  SecureRandom random) throws IOException {
        NodeConfig nc = node.config();
        BackendConnection c = new BackendConnection(node, login);
        java.util.concurrent.CompletableFuture<Void> negotiated = new java.util.concurrent.CompletableFuture<>();
        ChannelFuture f = new Bootstrap().group(group).channel(channelClass)
                .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls.mode().asks()) {
                            ch.pipeline().addLast(c.new TlsNegotiation(tls, negotiated));
                        }
                        ch.pipeline().addLast(new Decoder(node.name()), c.new Handler());
                    }
                })
                .connect(new InetSocketAddress(nc.host(), nc.port()));
        try {
            if (!f.await(connectTimeoutMillis + 1000L, TimeUnit.MILLISECONDS)) {
                f.cancel(false);
                throw new IOException(node.name() + ": connect timed out after " + connectTimeoutMillis + " ms");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(false);
            throw new InterruptedIOException(node.name() + ": interrupted while connecting");
        }
        if (!f.isSuccess()) {
            Throwable cause = f.cause();
            throw cause instanceof IOException io ? new IOException(node.name() + ": " + io.getMessage(), io)
                    : new IOException(node.name() + ": cannot connect: " + cause, cause);
        }
        c.channel = f.channel();
        try {
            if (tls.mode().asks()) {
                c.negotiateTls(negotiated, connectTimeoutMillis);
            }
            // startup is bounded; queries are not (cancel and health cover them)
            c.login(nc, login == null ? nc.user() : login.user(),
                    login == null ? nc.password() : login.password(), random, connectTimeoutMillis);
            return c;
        } catch (IOException | RuntimeException e) {
            c.broken = true;
            c.channel.close();
            throw e;
        }
    }

    /** Sends the SSLRequest and waits for {@link TlsNegotiation} to end it: TLS set up, or plain text allowed. */
    private void negotiateTls(java.util.concurrent.CompletableFuture<Void> negotiated, int timeoutMillis)
            throws IOException {
        channel.writeAndFlush(channel.alloc().buffer(8).writeInt(8).writeInt(Msg.SSL_REQUEST));
        try {
            negotiated.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IOException(node.name() + ": no TLS answer from the server in " + timeoutMillis + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(node.name() + ": interrupted while setting up TLS");
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null) {
                cause = cause.getCause(); // the handshake's own reason (an untrusted or misnamed certificate)
            }
            throw new IOException(node.name() + ": TLS: " + cause.getMessage(), cause);
        }
    }

    private void login(NodeConfig nc, String user, dev.readsplit.config.Secret credential, SecureRandom random,
                       int timeoutMillis) throws IOException {
        Msg.Builder b = Msg.builder('\0').int32(196608).cstring("user").cstring(user)
                .cstring("database").cstring(nc.database()).cstring("application_name").cstring("readsplit-proxy")
                .byte1(0);
        byte[] body = b.build().body();
        byte[] startup = new byte[body.length + 4];
        int len = startup.length;
        startup[0] = (byte) (len >>> 24);
        startup[1] = (byte) (len >>> 16);
        startup[2] = (byte) (len >>> 8);
        startup[3] = (byte) len;
        System.arraycopy(body, 0, startup, 4, body.length);
        buffer().writeBytes(startup);
        flush();
        String password = credential == null ? null : credential.reveal();
        String clientFirstBare = null;
        String nonce = null;
        String expectedSignature = null;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            Msg m = read(deadline);
            switch (m.type()) {
                case 'R' -> {
                    int code = m.int32(0);
                    switch (code) {
                        case 0 -> { }
                        case 3 -> send(Msg.builder('p').cstring(requirePassword(password)).build());
                        case 5 -> {
                            byte[] salt = java.util.Arrays.copyOfRange(m.body(), 4, 8);
                            send(Msg.builder('p').cstring(md5(requirePassword(password), user, salt)).build());
                        }
                        case 10 -> {
                            if (!new String(m.body(), StandardCharsets.UTF_8).contains(Scram.MECHANISM)) {
                                throw new IOException(node.name() + ": the server offers no SASL mechanism the proxy speaks");
                            }
                            nonce = Scram.nonce(random);
                            clientFirstBare = "n=,r=" + nonce;
                            byte[] first = ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8);
                            requirePassword(password);
                            send(Msg.builder('p').cstring(Scram.MECHANISM).int32(first.length).bytes(first).build());
                        }
                        case 11 -> {
                            if (clientFirstBare == null) {
                                throw new IOException(node.name() + ": SASL continue before SASL start");
                            }
                            String serverFirst = new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8);
                            String[] fin = Scram.clientFinal(password, clientFirstBare, serverFirst, nonce);
                            expectedSignature = fin[1];
                            send(Msg.builder('p').bytes(fin[0].getBytes(StandardCharsets.UTF_8)).build());
                        }
                        case 12 -> {
                            String serverFinal = new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8);
                            String v = Scram.attribute(serverFinal, 'v');
                            if (expectedSignature == null || !expectedSignature.equals(v)) {
                                throw new IOException(node.name() + ": the server's SCRAM signature does not match");
                            }
                        }
                        default -> throw new IOException(node.name() + ": unsupported authentication request " + code);
                    }
                }
                case 'S' -> parameters.put(m.cstring(0), m.cstring(m.end(0)));
                case 'K' -> {
                    pid = m.int32(0);
                    secret = m.int32(4);
                }
                case 'N' -> { }
                case 'E' -> throw new LoginRefused(node.name(), m.field('C'), m.field('M'));
                case 'Z' -> {
                    return;
                }
                default -> throw new IOException(node.name() + ": unexpected message during login: " + (char) m.type());
            }
        }
    }

    private String requirePassword(String password) throws IOException {
        if (password == null || password.isEmpty()) {
            throw new IOException(node.name() + ": the server asks for a password and none is configured");
        }
        return password;
    }

    private static String md5(String password, String user, byte[] salt) {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            String inner = hex(md.digest((password + user).getBytes(StandardCharsets.UTF_8)));
            md.reset();
            md.update(inner.getBytes(StandardCharsets.US_ASCII));
            md.update(salt);
            return "md5" + hex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return sb.toString();
    }

    private ByteBuf buffer() {
        if (out == null) {
            out = channel.alloc().buffer(256);
        }
        return out;
    }

    /** Writes {@code m} to the send buffer (call {@link #flush()}). */
    void write(Msg m) {
        ByteBuf b = buffer();
        b.writeByte(m.type());
        b.writeInt(m.body().length + 4);
        b.writeBytes(m.body());
    }

    /** Sends what {@link #write} buffered; a failure closes the channel (and so reaches the reader). */
    void flush() throws IOException {
        ByteBuf b = out;
        out = null;
        if (!channel.isActive()) {
            if (b != null) {
                b.release();
            }
            broken = true;
            throw new EOFException(node.name() + ": the connection is closed" + (failure == null ? "" : ": " + failure));
        }
        if (b != null) {
            channel.writeAndFlush(b).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
    }

    void send(Msg m) throws IOException {
        write(m);
        flush();
    }

    /** The next message from the server, blocking (off the event loop only). */
    Msg read() throws IOException {
        return read(0);
    }

    private Msg read(long deadlineNanos) throws IOException {
        if (channel.eventLoop().inEventLoop()) {
            throw new IllegalStateException("blocking read on the event loop");
        }
        Object o;
        try {
            if (deadlineNanos == 0) {
                o = inbox.take();
            } else {
                o = inbox.poll(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
                if (o == null) {
                    broken = true;
                    channel.close();
                    throw new IOException(node.name() + ": no answer from the server in time");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            broken = true;
            channel.close();
            throw new InterruptedIOException(node.name() + ": interrupted while waiting for the server");
        }
        if (o instanceof IOException e) {
            inbox.add(e); // every later read fails the same way
            throw new IOException(e.getMessage(), e);
        }
        return (Msg) o;
    }

    /**
     * Hands the messages to {@code l} on the event loop from now on (first those that arrived while idle), or back
     * to {@link #read()} with null; while pipelined, a listener that comes while another one listens waits behind it
     * until it is {@link #done}. Event loop only.
     */
    void listen(Listener l) {
        if (l != null && listener != null && listener != l && pipelined > 0) {
            behind.addLast(l); // pipelined: its answers come after those of every exchange sent before it
            return;
        }
        listener = l;
        if (l != null) {
            answeringSince = System.nanoTime();
        }
        Object o;
        while (l != null && listener == l && (o = inbox.poll()) != null) {
            if (o instanceof IOException e) {
                inbox.add(e);
                listener = null;
                l.failed(new IOException(e.getMessage(), e));
                return;
            }
            l.message((Msg) o);
        }
    }

    /**
     * {@code l}'s exchange is over (event loop only): the exchange pipelined next, if any, gets the messages from now
     * on; none: {@link #read()} gets them. A listener still waiting behind others is just dropped.
     */
    void done(Listener l) {
        if (listener == l) {
            listener = null;
            Listener next = behind.pollFirst();
            if (next != null) {
                listen(next);
            }
        } else {
            behind.remove(l);
        }
    }

    /** Whether {@code l}'s exchange is the one being answered now (the others wait behind it). Event loop only. */
    boolean answering(Listener l) {
        return listener == l;
    }

    /** Whether the exchange being answered now has sent its client anything yet. Event loop only. */
    boolean answeringForwarded() {
        Listener l = listener;
        return l != null && l.forwardedAny();
    }

    /** Exchanges in flight behind the one answered now. Event loop only. */
    int waitingBehind() {
        return behind.size();
    }

    /**
     * Whether one more client's exchange may be sent behind those in flight (pipelining, event loop only): fewer than
     * {@code depth} in flight, and the one answered now has been answered for less than {@code maxWaitNanos}, so a
     * statement never queues behind a long one.
     */
    boolean takesMore(int depth, long now, long maxWaitNanos) {
        return pipelined < depth && !retiring && !broken && channel.isActive()
                && (listener == null || now - answeringSince < maxWaitNanos);
    }

    /** One more client exchange in flight while pipelined; true if it is the first (event loop only). */
    boolean pipelinedBegin() {
        return pipelined++ == 0;
    }

    /** One pipelined exchange over; true if it was the last (event loop only). */
    boolean pipelinedEnd() {
        return --pipelined == 0;
    }

    /** Takes no more exchanges behind those in flight, and is closed rather than pooled once they end. */
    void retire() {
        retiring = true;
    }

    boolean retiring() {
        return retiring;
    }

    /**
     * Closes it to stop a cancelled client's statement that other clients' exchanges are pipelined with (event loop):
     * every exchange in flight fails; {@link #closedForCancel()} tells them the failure says nothing of the node.
     */
    void closeForCancel() {
        closedForCancel = true;
        retiring = true;
        broken = true;
        channel.close();
    }

    boolean closedForCancel() {
        return closedForCancel;
    }

    /** Stops handing messages to {@code l} if it has them (event loop only): {@link #read()} gets them again. */
    void unlisten(Listener l) {
        if (listener == l) {
            listener = null;
        }
    }

    /**
     * A message (or failure) a listener got but does not take: back to {@link #read()}, before anything that arrives
     * later (the listener is dropped). Event loop only.
     */
    void requeue(Object messageOrFailure) {
        listener = null;
        inbox.add(messageOrFailure);
    }

    /** Stops or resumes reading from the server (back-pressure from a slow client). */
    void autoRead(boolean on) {
        if (channel.config().isAutoRead() != on) {
            channel.config().setAutoRead(on);
        }
    }

    /** Whether the socket takes more now (event loop). */
    boolean writable() {
        return channel.isWritable() || !channel.isActive();
    }

    /** Runs {@code r} on the event loop once the socket takes more, or the connection closed. Event loop only. */
    void whenWritable(Runnable r) {
        if (writable()) {
            r.run();
        } else {
            whenWritable = r;
        }
    }

    private void runWhenWritable() {
        Runnable r = whenWritable;
        whenWritable = null;
        if (r != null) {
            r.run();
        }
    }

    EventLoop eventLoop() {
        return channel.eventLoop();
    }

    /** How many NotificationResponses {@link #queryValue} keeps for the client at most; later ones are dropped. */
    static final int MAX_KEPT_NOTIFICATIONS = 10_000;

    /** NotificationResponses that arrived during a query of the proxy's own: the client's, until it is given them. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Msg> kept = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final java.util.concurrent.atomic.AtomicInteger keptCount = new java.util.concurrent.atomic.AtomicInteger();
    /** Notifications dropped because {@link #MAX_KEPT_NOTIFICATIONS} were already kept (the first one is logged). */
    private final java.util.concurrent.atomic.AtomicLong droppedNotifications = new java.util.concurrent.atomic.AtomicLong();

    /** Whether notifications are kept for the client ({@link #takeKept}). */
    boolean hasKept() {
        return keptCount.get() > 0;
    }

    /** The next kept notification, or null. */
    Msg takeKept() {
        Msg m = kept.poll();
        if (m != null) {
            keptCount.decrementAndGet();
        }
        return m;
    }

    private void keep(Msg notification) {
        if (keptCount.incrementAndGet() > MAX_KEPT_NOTIFICATIONS) {
            keptCount.decrementAndGet();
            if (droppedNotifications.getAndIncrement() == 0) {
                log.warn("{}: more than {} notifications arrived while the proxy ran its own queries; later ones are"
                        + " dropped", this, MAX_KEPT_NOTIFICATIONS);
            }
            return;
        }
        kept.add(notification);
    }

    /**
     * Runs {@code sql} (simple query) and returns the first column of the first row (null if none); errors throw.
     * A NotificationResponse that arrives meanwhile (the session ran LISTEN on this backend) is kept for the client.
     */
    String queryValue(String sql) throws IOException, BackendError {
        send(Msg.query(sql));
        String value = null;
        boolean seen = false;
        Msg error = null;
        while (true) {
            Msg m = read();
            switch (m.type()) {
                case 'D' -> {
                    if (!seen) {
                        seen = true;
                        value = m.firstColumn();
                    }
                }
                case 'E' -> error = m;
                case 'A' -> keep(m);
                case 'Z' -> {
                    if (error != null) {
                        throw new BackendError(error);
                    }
                    return value;
                }
                default -> { }
            }
        }
    }

    Node node() {
        return node;
    }

    int epoch() {
        return epoch;
    }

    boolean broken() {
        return broken;
    }

    void markBroken() {
        broken = true;
    }

    /** The passed-through login it was opened with, or null (the node's configured user). */
    BackendLogin login() {
        return login;
    }

    /** Runs once when the connection closes (the pool's count of open connections). */
    void onClose(Runnable r) {
        onClose = r;
    }

    Map<String, String> parameters() {
        return parameters;
    }

    /** Sends a CancelRequest for whatever this connection runs now, over a new socket to its node. */
    void cancel(int timeoutMillis) {
        NodeConfig nc = node.config();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(nc.host(), nc.port()), timeoutMillis);
            Msg m = Msg.builder('\0').int32(16).int32(Msg.CANCEL_REQUEST).int32(pid).int32(secret).build();
            s.getOutputStream().write(m.body());
            s.getOutputStream().flush();
            s.getInputStream().read(); // the server closes the socket when done
        } catch (IOException e) {
            // best effort, as PostgreSQL's own cancel is
        }
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Runnable r = onClose;
        if (r != null) {
            r.run();
        }
        Channel ch = channel;
        if (ch == null) {
            return;
        }
        if (!broken && ch.isActive()) {
            ByteBuf b = out;
            out = null;
            if (b != null) {
                b.release();
            }
            ch.writeAndFlush(ch.alloc().buffer(5).writeByte('X').writeInt(4)).addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
        broken = true;
    }

    @Override
    public String toString() {
        return "backend[" + node.name() + ", pid " + pid + "]";
    }

    /** The server refused the login with an ErrorResponse (its SQLSTATE and message). */
    static final class LoginRefused extends IOException {
        final String sqlState;
        final String serverMessage;

        LoginRefused(String node, String sqlState, String message) {
            super(node + ": login refused: " + sqlState + " " + message);
            this.sqlState = sqlState;
            this.serverMessage = message;
        }
    }

    /** The channel's end of the connection, on the event loop: messages to the listener, or queued for read(). */
    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Listener l = listener;
            if (l != null) {
                l.message((Msg) msg);
            } else {
                inbox.add(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            Listener l = listener;
            if (l != null) {
                l.readComplete();
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                runWhenWritable();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            broken = true;
            runWhenWritable();
            IOException e = new EOFException(node.name() + ": the server closed the connection"
                    + (failure == null ? "" : ": " + failure));
            Listener l = listener;
            listener = null;
            List<Listener> waiting = new java.util.ArrayList<>(behind);
            behind.clear();
            if (l != null) {
                l.failed(e);
            } else {
                inbox.add(e);
            }
            for (Listener w : waiting) {
                w.failed(new EOFException(e.getMessage())); // pipelined behind it: nothing of theirs was answered
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            broken = true;
            if (failure == null) {
                failure = cause.toString();
            }
            ctx.close();
        }
    }

    /**
     * Reads the server's one-byte answer to the SSLRequest: {@code S} puts a TLS handler in its place (the negotiation
     * ends with its handshake), {@code N} removes it, or refuses the server when the mode requires TLS. Bytes after the
     * {@code S} and before the handshake are refused (they would not be protected: CVE-2021-23222).
     */
    private final class TlsNegotiation extends ByteToMessageDecoder {
        private final BackendTls tls;
        private final java.util.concurrent.CompletableFuture<Void> done;

        TlsNegotiation(BackendTls tls, java.util.concurrent.CompletableFuture<Void> done) {
            this.tls = tls;
            this.done = done;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            if (!in.isReadable() || done.isDone()) {
                return;
            }
            byte answer = in.readByte();
            if (answer == 'S' && !in.isReadable()) {
                NodeConfig nc = node.config();
                io.netty.handler.ssl.SslHandler ssl = tls.context().newHandler(ctx.alloc(), nc.host(), nc.port());
                ssl.handshakeFuture().addListener(h -> {
                    if (h.isSuccess()) {
                        done.complete(null);
                    } else {
                        done.completeExceptionally(h.cause());
                        ctx.channel().close();
                    }
                });
                ctx.pipeline().replace(this, "tls", ssl);
            } else if (answer == 'N' && !tls.mode().requires()) {
                ctx.pipeline().remove(this);
                done.complete(null);
            } else {
                done.completeExceptionally(new IOException(answer == 'N'
                        ? "the server does not accept TLS, and sslmode=" + tls.mode().label() + " requires it"
                        : answer == 'S' ? "the server sent data after accepting TLS, before the handshake"
                        : "unexpected answer to the TLS request: " + (answer & 0xff)));
                in.skipBytes(in.readableBytes());
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            done.completeExceptionally(new EOFException("the server closed the connection before TLS was set up"));
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
            ctx.close();
        }
    }

    /** Frames the server's bytes into {@link Msg}s (type, length, body), bounded by {@link #MAX_BACKEND_MESSAGE}. */
    static final class Decoder extends ByteToMessageDecoder {
        private final String nodeName;

        Decoder(String nodeName) {
            this.nodeName = nodeName;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            while (in.readableBytes() >= 5) {
                int start = in.readerIndex();
                int len = in.getInt(start + 1);
                if (len < 4 || len > MAX_BACKEND_MESSAGE) {
                    throw new TooLongFrameException(nodeName + ": invalid message length " + len);
                }
                if (in.readableBytes() < len + 1) {
                    return;
                }
                byte type = in.getByte(start);
                in.skipBytes(5);
                byte[] body = new byte[len - 4];
                in.readBytes(body);
                out.add(new Msg(type, body));
            }
        }
    }

    /** An ErrorResponse of the server to a query the proxy ran itself. */
    static final class BackendError extends Exception {
        final String sqlState;

        BackendError(Msg error) {
            super(error.field('M'));
            this.sqlState = error.field('C');
        }
    }
}

package dev.readsplit.proxy;

import dev.readsplit.cluster.Node;
import dev.readsplit.cluster.Topology;
import dev.readsplit.failover.FailoverManager;
import dev.readsplit.failover.WriteGate;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.routing.ReplayWait;
import dev.readsplit.routing.Router;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code readsplit proxy}: a PostgreSQL wire-protocol server in front of a {@link ReadsplitDataSource}'s nodes. Every
 * client is routed by the data source's own router, topology, balancer and consistency rules (see
 * {@code docs/proxy.md}); the data source keeps doing the health checks and lag measurement.
 *
 * <h2>Threads</h2>
 * One Netty event loop ({@code readsplit-proxy-io}) carries every socket, the clients' and the backends' alike
 * (backend connections are channels of the same loop), and runs the common query from end to end: a client's
 * simple query or pipeline up to its Sync is framed, classified, routed and written to a backend the session holds,
 * and the backend's responses are relayed to the client as they arrive, with no thread switch and no thread per
 * client. What blocks runs on a worker thread ({@code readsplit-proxy-worker-N}, created on demand, ended after 60 s
 * idle, at most one per client at a time, while that client's later messages wait): the login, opening a backend,
 * the proxy's own queries (session settings replayed, {@code DISCARD ALL}, the LSN positions of read-your-writes
 * and their waits, the write gate), retries after a failure or a misroute, and the end of a session. See
 * {@code docs/proxy.md}. {@link #close()} stops accepting, closes every client and the backend pool.
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    private final ReadsplitDataSource ds;
    /** The data source's state machine and router, which the proxy drives like the JDBC adapter does. */
    private final Topology topology;
    private final Router router;
    private final WriteGate writeGate;
    private final ReplayWait replayWait;
    private final ProxyConfig config;
    private final SecureRandom random = new SecureRandom();
    private final BackendPool pool;
    private final EventLoopGroup group;
    private final ThreadPoolExecutor workers;
    private final Channel listener;
    private final ClientCredentials credentials;
    private final ProxyStats stats = new ProxyStats();
    private final ProxyMetrics metrics;
    private final Map<Integer, ClientConnection> byPid = new ConcurrentHashMap<>();
    private final Map<Channel, ClientConnection> clients = new ConcurrentHashMap<>();
    private volatile boolean draining;
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<String, String> serverParameters;
    private final String database;
    private volatile long systemIdentifier;
    private final SslContext tls;

    private ProxyServer(ReadsplitDataSource ds, ProxyConfig config) throws IOException {
        this.ds = ds;
        this.topology = Topology.of(ds);
        try {
            this.router = ds.unwrap(Router.class);
            this.writeGate = ds.unwrap(FailoverManager.class).writeGate();
            this.replayWait = ds.unwrap(ReplayWait.class);
        } catch (java.sql.SQLException e) {
            throw new IllegalArgumentException(ds + " is not a Readsplit data source", e);
        }
        this.config = config;
        this.tls = config.tlsCertificate() == null ? null
                : SslContextBuilder.forServer(config.tlsCertificate().toFile(), config.tlsKey().toFile()).build();
        // every known node's TLS settings read before anything starts: one the proxy cannot follow fails the start
        Map<dev.readsplit.config.NodeConfig, BackendTls> backendTls = new java.util.HashMap<>();
        for (Node n : topology.nodes()) {
            backendTls.computeIfAbsent(n.config(), BackendTls::of);
        }
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(1, r -> {
            Thread t = new Thread(r, "readsplit-proxy-io");
            t.setDaemon(true);
            return t;
        }, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.pool = new BackendPool(config, topology, random, group,
                epoll ? EpollSocketChannel.class : NioSocketChannel.class, backendTls);
        this.credentials = new ClientCredentials(config, random);
        this.metrics = new ProxyMetrics(this, stats, ds.name());
        Node primary = topology.primary();
        this.database = primary.config().database();
        // learn what PostgreSQL reports to its clients (server_version, encodings...) from one login to the primary
        BackendConnection first;
        try {
            first = pool.borrow(primary);
        } catch (IOException | RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        Map<String, String> params = new LinkedHashMap<>(first.parameters());
        params.remove("session_authorization");
        params.remove("is_superuser");
        this.serverParameters = Collections.unmodifiableMap(params);
        pool.release(first, false, true);
        AtomicInteger n = new AtomicInteger();
        // at most one drain per client at a time; twice the bound leaves room for clients whose channel closed while
        // their last message is still being handled
        this.workers = new ThreadPoolExecutor(0, 2 * config.maxClients() + 16, 60, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, "readsplit-proxy-worker-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        try {
            ServerBootstrap b = new ServerBootstrap().group(group)
                    .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            accept(ch);
                        }
                    });
            this.listener = b.bind(config.listenHost(), config.listenPort()).syncUninterruptibly().channel();
        } catch (RuntimeException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownNow();
            pool.close();
            throw e;
        }
        log.info("readsplit proxy: listening on {} for {} ({} nodes, {} transport)", address(), ds.name(),
                topology.nodes().size(), epoll ? "epoll" : "NIO");
    }

    /**
     * Starts a proxy in front of {@code ds} (which stays owned by the caller and must outlive the proxy).
     *
     * @throws IOException if the primary cannot be reached to learn its server parameters
     */
    public static ProxyServer start(ReadsplitDataSource ds, ProxyConfig config) throws IOException {
        return new ProxyServer(ds, config);
    }

    private void accept(SocketChannel ch) {
        if (connections.incrementAndGet() > config.maxClients()) {
            connections.decrementAndGet();
            stats.refused.increment();
            byte[] m = Msg.fatal("53300", "sorry, too many clients already (readsplit proxy maxClients="
                    + config.maxClients() + ")").encode();
            ch.writeAndFlush(Unpooled.wrappedBuffer(m)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        stats.accepted.increment();
        int pid;
        ClientConnection c;
        do {
            pid = random.nextInt(Integer.MAX_VALUE - 1) + 1;
            c = new ClientConnection(this, ch, pid, random.nextInt());
        } while (byPid.putIfAbsent(pid, c) != null);
        clients.put(ch, c);
        ClientConnection conn = c;
        ch.closeFuture().addListener(f -> {
            if (clients.remove(ch) != null) {
                connections.decrementAndGet();
            }
            // byPid keeps the client until its session has ended (ClientConnection.end): close() waits for that
        });
        ch.pipeline().addLast(new FrontendDecoder(config.maxMessageBytes()), c);
        // cancelled at login: an idle client keeps no timer (docs/benchmarks.md, memory per idle client)
        conn.loginDeadline(ch.eventLoop().schedule(() -> {
            if (!conn.authenticatedYet()) {
                ch.close(); // a client that does not finish its login in time gives its slot back
            }
        }, config.authTimeout().toMillis(), TimeUnit.MILLISECONDS));
    }

    /** A CancelRequest: cancels what the client with that key runs now; a wrong key is ignored, as PostgreSQL does. */
    void cancel(int pid, int secret) {
        ClientConnection c = byPid.get(pid);
        if (c != null && c.secret() == secret) {
            c.cancel();
        }
    }

    void authenticated(ClientConnection c) {
        // counted by the channel already; nothing else to register yet (metrics: see docs/proxy.md)
    }

    void closed(ClientConnection c) {
        byPid.remove(c.pid(), c);
    }

    ClientCredentials credentials() {
        return credentials;
    }

    /**
     * Pass-through: logs in to the primary as the client's user with its password (a new connection, never a pooled
     * one, so the primary checks every login); the connection then waits in the pool for that client's session.
     */
    void checkAtPrimary(BackendLogin as) throws ClientSession.ProtocolError {
        Node primary = topology.primary();
        BackendConnection b;
        try {
            b = pool.open(primary, as);
        } catch (BackendConnection.LoginRefused e) {
            throw new ClientSession.ProtocolError(e.sqlState == null ? "28000" : e.sqlState,
                    e.serverMessage == null ? "authentication failed at the primary" : e.serverMessage);
        } catch (IOException e) {
            stats.backendFailed(primary);
            throw new ClientSession.ProtocolError("08006", ds.name() + ": cannot check the password at the primary "
                    + primary.name() + ": " + e.getMessage());
        }
        pool.release(b, false, true);
    }

    ProxyStats stats() {
        return stats;
    }

    SessionListener sessionListener() {
        return stats;
    }

    /** Client connections now by state ({@code active}, {@code idle}, {@code login}). */
    Map<String, Integer> clientCounts() {
        int active = 0;
        int idle = 0;
        int login = 0;
        for (ClientConnection c : clients.values()) {
            switch (c.state()) {
                case "active" -> active++;
                case "idle" -> idle++;
                default -> login++;
            }
        }
        return Map.of("active", active, "idle", idle, "login", login);
    }

    /** What the proxy serves now: clients, backends per node, counters (see {@code docs/proxy.md}). */
    public ProxyStatus status() {
        Map<String, Integer> counts = clientCounts();
        ProxyStatus.Clients clientsNow = new ProxyStatus.Clients(counts.get("active"), counts.get("idle"),
                counts.get("login"), counts.get("active") + counts.get("idle") + counts.get("login"),
                config.maxClients(), stats.accepted.sum(), stats.refused.sum(), stats.loginFailures.sum());
        Map<String, Integer> inUse = pool.inUseCounts();
        Map<String, Integer> idle = pool.idleCounts();
        java.util.List<ProxyStatus.NodeBackends> nodes = new java.util.ArrayList<>();
        for (Node n : topology.nodes()) {
            nodes.add(new ProxyStatus.NodeBackends(n.name(), n == topology.primary() ? "primary" : "replica",
                    n.state().name(), inUse.getOrDefault(n.name(), 0), idle.getOrDefault(n.name(), 0),
                    stats.statements(n.name()), stats.backendFailures(n.name())));
        }
        InetSocketAddress a = address();
        return new ProxyStatus(a.getHostString() + ":" + a.getPort(), config.auth().label(),
                config.poolMode().name().toLowerCase(java.util.Locale.ROOT), clientsNow, nodes,
                stats.bytesReceived.sum(), stats.bytesSent.sum(), stats.errorsToClients.sum(),
                stats.backendFailures.sum(), new ProxyStatus.ReplayChecks(stats.replayChecks.sum(),
                stats.replayChecksShort.sum()), stats.workerSteps.sum(),
                new ProxyStatus.Pipelined(stats.pipelined.sum(), stats.pipelinedAgain.sum()));
    }

    /** The proxy's Micrometer meters ({@code readsplit.proxy.*}): bind them to a registry, e.g. the admin server's. */
    public ProxyMetrics metrics() {
        return metrics;
    }

    /** The cluster's system identifier (causal tokens carry it), asked of the primary once. */
    long systemIdentifier() throws IOException, BackendConnection.BackendError {
        long id = systemIdentifier;
        if (id == 0) {
            BackendConnection b = pool.borrow(topology.primary());
            try {
                String v = b.queryValue("SELECT system_identifier FROM pg_control_system()");
                id = v == null ? 0 : Long.parseLong(v);
            } finally {
                pool.release(b, false, true);
            }
            systemIdentifier = id;
        }
        return id;
    }

    /** Where the proxy listens (the actual port when configured with 0). */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Client connections open now (authenticated or not). */
    public int clients() {
        return connections.get();
    }

    /** Idle backend connections per node. */
    public Map<String, Integer> idleBackends() {
        return pool.idleCounts();
    }

    /** The TLS context for clients that ask for TLS, or null when none is configured. */
    SslContext tls() {
        return tls;
    }

    Topology topology() {
        return topology;
    }

    Router router() {
        return router;
    }

    /** Writes wait at it while a failover or switchover moves the primary. */
    WriteGate writeGate() {
        return writeGate;
    }

    /** The data source's wait for a replica to replay a session's position, shared with its JDBC connections. */
    ReplayWait replayWait() {
        return replayWait;
    }

    ReadsplitDataSource dataSource() {
        return ds;
    }

    ProxyConfig config() {
        return config;
    }

    BackendPool pool() {
        return pool;
    }

    ExecutorService workers() {
        return workers;
    }

    SecureRandom random() {
        return random;
    }

    String database() {
        return database;
    }

    Map<String, String> serverParameters() {
        return serverParameters;
    }

    /**
     * Whether the proxy is shutting down: each client is closed with {@code 57P01} at its next moment outside a
     * transaction with nothing running (see {@link #close()}).
     */
    boolean draining() {
        return draining;
    }

    /**
     * Shuts down gracefully: stops accepting connections, then closes each client once it is outside a transaction
     * with no statement running (at once for an idle one; after its {@code COMMIT} or {@code ROLLBACK} for one inside a
     * transaction), with {@code FATAL 57P01}, as PostgreSQL closes sessions at shutdown. After
     * {@link ProxyConfig#drainTimeout()} it closes the clients still left (a transaction still open is rolled back by
     * its backend's reset), then the pool. Each session's backends go back to the pool as its client goes.
     */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        draining = true;
        long drainEnd = System.nanoTime() + config.drainTimeout().toNanos();
        for (ClientConnection c : clients.values()) {
            c.drainWhenIdle(); // each on its event loop; one that is busy is checked again as its step ends
        }
        while (!clients.isEmpty() && System.nanoTime() < drainEnd) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        if (!clients.isEmpty()) {
            log.info("readsplit proxy: closing {} clients still inside a transaction or a statement after the drain"
                    + " timeout ({})", clients.size(), config.drainTimeout());
        }
        for (Channel ch : clients.keySet()) {
            ch.close().syncUninterruptibly();
        }
        // each closed client's worker ends its session (its backends go back to the pool, reset): wait for that
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!byPid.isEmpty() && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownNow();
        }
        pool.close();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Override
    public String toString() {
        return "ProxyServer[" + ds.name() + " on " + address() + "]";
    }
}

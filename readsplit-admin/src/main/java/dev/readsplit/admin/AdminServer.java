package dev.readsplit.admin;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.metrics.ReadsplitMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP admin endpoint for one {@link ReadsplitDataSource}, on Netty (see the package documentation for
 * why). Start it with {@link #start(ReadsplitDataSource, AdminOptions)}; stop it with {@link #close()} (the data
 * source is not closed: the application owns it).
 *
 * <table>
 *   <caption>Endpoints ({@code HEAD} wherever {@code GET} is)</caption>
 *   <tr><td>{@code GET /}</td><td>the live dashboard</td></tr>
 *   <tr><td>{@code GET /healthz}</td><td>200 while the process serves requests (answered on the I/O thread:
 *       busy workers or slow clients do not delay it)</td></tr>
 *   <tr><td>{@code GET /readyz}</td><td>200 when the nodes {@link AdminOptions.Readiness} asks for answer a
 *       query now, within the readiness timeout; 503 otherwise; the body lists each node's answer</td></tr>
 *   <tr><td>{@code GET /replicas}, {@code /health/replicas}</td><td>the status snapshot as JSON</td></tr>
 *   <tr><td>{@code GET /stats}</td><td>seed 002's {@code get_replica_stats()}: primary and replica pools'
 *       {@code connections} and {@code available}</td></tr>
 *   <tr><td>{@code GET /history}</td><td>the last minutes per node, one sample a second (the charts)</td></tr>
 *   <tr><td>{@code GET /events}</td><td>recent topology events as JSON</td></tr>
 *   <tr><td>{@code GET /proxy}</td><td>the proxy's clients, backends and counters as JSON, when
 *       {@link AdminOptions.Builder#proxy} gave one (404 otherwise)</td></tr>
 *   <tr><td>{@code GET /metrics}</td><td>Prometheus text format</td></tr>
 *   <tr><td>{@code GET /shadow-mode}</td><td>shadow mode and its recorded decisions</td></tr>
 *   <tr><td>{@code POST /replicas}</td><td>add a replica: {@code {"host": ..., "port": ..., "name", "zone",
 *       "weight", "database", "user", "password"}}, checked field by field ({@link ReplicaRequest})</td></tr>
 *   <tr><td>{@code POST /replicas/{name}/drain}</td><td>drain a replica</td></tr>
 *   <tr><td>{@code DELETE /replicas/{name}}</td><td>drain and remove a replica</td></tr>
 *   <tr><td>{@code POST /shadow-mode}</td><td>body {@code on} or {@code off}</td></tr>
 * </table>
 *
 * <p>Mutations need {@code Authorization: Bearer <adminToken>} (the data source's {@code adminToken}),
 * compared in constant time. With no token configured they are disabled (403); a missing or wrong token is
 * 401. Reads need no token: bind to 127.0.0.1 (the default) or put the endpoint behind something that
 * authenticates.
 *
 * <p>Limits, all per server ({@link AdminOptions}): request line 4 KiB, headers 8 KiB, body 64 KiB (413 past it);
 * a request must arrive whole within {@code readTimeout} of its first byte (408 and close), a kept-alive
 * connection may idle {@code idleTimeout}; at most {@code maxConnections} open connections (503 and close past
 * it); one request at a time per connection (pipelined requests wait, reads are paused meanwhile); at most
 * {@code threads} requests work on the data source at once with {@code queue} waiting (503 with
 * {@code Retry-After} past it).
 *
 * <p>Threads, all daemon and named {@code readsplit-admin-<name>-...}: one acceptor, two I/O threads per core (parse
 * requests, answers probes and static files, writes responses; never blocks), {@code threads} workers, the
 * readiness checks' pool ({@link ReadinessCheck}) and one sampler for the charts' history. {@link #close()}
 * stops them all.
 */
public final class AdminServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    static final int MAX_BODY = 64 * 1024;
    static final int MAX_INITIAL_LINE = 4096;
    static final int MAX_HEADERS = 8192;
    /**
     * I/O threads: Netty's own default, two per core (at least two), so that a burst being parsed on one does not
     * hold a probe that lands on another.
     */
    static final int IO_THREADS = Math.max(2, 2 * Runtime.getRuntime().availableProcessors());

    private final ReadsplitDataSource ds;
    private final AdminOptions options;
    private final PrometheusMeterRegistry registry;
    private final boolean ownsRegistry;
    private final ReadsplitMetrics metrics;
    private final EventLoopGroup acceptor;
    private final EventLoopGroup io;
    private final ThreadPoolExecutor workers;
    private final ReadinessCheck readiness;
    private final ScheduledExecutorService sampler;
    private final AdminApi api;
    private final AtomicInteger connections = new AtomicInteger();
    private volatile Channel channel;
    private volatile boolean closed;

    private AdminServer(ReadsplitDataSource ds, AdminOptions options) {
        this.ds = ds;
        this.options = options;
        this.ownsRegistry = options.registry() == null;
        this.registry = ownsRegistry ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : options.registry();
        this.metrics = new ReadsplitMetrics(ds);
        metrics.bindTo(registry);
        if (options.proxyMeters() != null) {
            options.proxyMeters().bindTo(registry);
        }
        String prefix = "readsplit-admin-" + ds.name() + "-";
        this.acceptor = new MultiThreadIoEventLoopGroup(1, threads(prefix + "accept-"), NioIoHandler.newFactory());
        this.io = new MultiThreadIoEventLoopGroup(IO_THREADS, threads(prefix + "io-"), NioIoHandler.newFactory());
        // a full queue refuses without building a stack trace: under a flood the I/O thread answers 503 cheaply
        this.workers = new ThreadPoolExecutor(options.threads(), options.threads(), 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(options.queue()), threads(prefix), (r, pool) -> {
                    throw AdminApi.BUSY;
                });
        this.readiness = new ReadinessCheck(ds, options.readiness(), options.readinessTimeout());
        History history = new History(ds, options.historySize());
        this.sampler = Executors.newSingleThreadScheduledExecutor(threads(prefix + "history-"));
        ObjectMapper json = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
        this.api = new AdminApi(ds, options, registry, workers, readiness, history, json);
        sampler.scheduleAtFixedRate(() -> {
            try {
                history.sample();
            } catch (RuntimeException e) {
                log.debug("{}: history sample failed", ds.name(), e);
            }
        }, 0, 1, TimeUnit.SECONDS);
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /**
     * Starts an admin server for {@code ds}.
     *
     * @throws UncheckedIOException if the address cannot be bound (the message names it)
     */
    public static AdminServer start(ReadsplitDataSource ds, AdminOptions options) {
        Objects.requireNonNull(ds, "ds");
        Objects.requireNonNull(options, "options");
        AdminServer s = new AdminServer(ds, options);
        try {
            s.bind();
        } catch (Exception e) {
            s.close();
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new UncheckedIOException(ds.name() + ": cannot start the admin server on "
                    + options.bindAddress() + ":" + options.port() + ": " + why,
                    e instanceof java.io.IOException io ? io : new java.io.IOException(why, e));
        }
        log.info("{}: admin server on http://{}:{}/ (mutations {})", ds.name(), options.bindAddress(), s.port(),
                s.api.mutationsEnabled() ? "need the admin token" : "disabled: no admin token");
        return s;
    }

    /** Starts an admin server with {@link AdminOptions#defaults()} (127.0.0.1, ephemeral port). */
    public static AdminServer start(ReadsplitDataSource ds) {
        return start(ds, AdminOptions.defaults());
    }

    private void bind() throws UnknownHostException, InterruptedException {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByName(options.bindAddress()), options.port());
        ServerBootstrap b = new ServerBootstrap()
                .group(acceptor, io)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ConnectionGuard guard = new ConnectionGuard(connections, options.maxConnections(),
                                options.readTimeout().toMillis(), options.idleTimeout().toMillis());
                        ch.pipeline()
                                .addLast("guard", guard)
                                .addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADERS, 8192))
                                .addLast("aggregate", new HttpObjectAggregator(MAX_BODY))
                                .addLast("api", new HttpHandler(api, guard, ds.name()));
                    }
                });
        channel = b.bind(address).sync().channel();
    }

    /** The port the server listens on (the chosen one when {@code port} was 0). */
    public int port() {
        return address().getPort();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** {@code http://host:port/}. */
    public URI uri() {
        String host = address().getAddress().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return URI.create("http://" + host + ":" + port() + "/");
    }

    /** The registry {@code /metrics} scrapes. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Connections open now (for tests and the server's own limit). */
    int openConnections() {
        return connections.get();
    }

    /** Stops listening, closes every connection, stops every thread, unbinds the metrics. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (channel != null) {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        io.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        sampler.shutdownNow();
        workers.shutdownNow();
        readiness.close();
        try {
            acceptor.terminationFuture().await(5, TimeUnit.SECONDS);
            io.terminationFuture().await(5, TimeUnit.SECONDS);
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        metrics.close();
        if (ownsRegistry) {
            registry.close();
        }
    }

    @Override
    public String toString() {
        return "AdminServer[" + ds.name() + ", " + options.bindAddress() + ":" + (channel == null ? options.port() : port())
                + "]";
    }
}

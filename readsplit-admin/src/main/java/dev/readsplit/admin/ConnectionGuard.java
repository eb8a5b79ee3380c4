package dev.readsplit.admin;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The first handler of every admin connection, ahead of the HTTP codec so that it sees raw bytes: it enforces
 * the connection limit and the per-connection timeouts, whatever the client sends or withholds.
 *
 * <ul>
 *   <li>Over {@code maxConnections} open connections: a 503 and close, at once.</li>
 *   <li>Waiting for a request: a new connection must start one within {@code readTimeout}; a kept-alive one may
 *       idle {@code idleTimeout}; then the connection is closed.</li>
 *   <li>Reading a request: from its first byte it must arrive whole within {@code readTimeout}, however it
 *       trickles in (a byte a second does not extend it); else 408 and close.</li>
 *   <li>Handling: the request is complete; reading is paused (one request at a time per connection) and no timer
 *       runs: the work is bounded by the worker pool and the endpoints' own timeouts.</li>
 *   <li>Writing: the response must be taken by the client within {@code readTimeout}; else close.</li>
 * </ul>
 *
 * <p>Concurrency: every method runs on the connection's event loop (Netty's guarantee for a channel's handlers
 * and the tasks scheduled on its executor), so the state needs no synchronization.
 */
final class ConnectionGuard extends ChannelDuplexHandler {

    private enum Phase { WAITING, READING, HANDLING, WRITING, CLOSED }

    private final AtomicInteger open;
    private final int maxConnections;
    private final long readTimeoutMillis;
    private final long idleTimeoutMillis;
    private boolean counted;
    private Phase phase = Phase.WAITING;
    private ScheduledFuture<?> timer;

    ConnectionGuard(AtomicInteger open, int maxConnections, long readTimeoutMillis, long idleTimeoutMillis) {
        this.open = open;
        this.maxConnections = maxConnections;
        this.readTimeoutMillis = readTimeoutMillis;
        this.idleTimeoutMillis = idleTimeoutMillis;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        counted = true;
        if (open.incrementAndGet() > maxConnections) {
            phase = Phase.CLOSED;
            ctx.writeAndFlush(raw(503, "Service Unavailable", "too many connections (" + maxConnections
                    + " open); retry shortly")).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        arm(ctx, readTimeoutMillis, Phase.WAITING);
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        phase = Phase.CLOSED;
        cancel();
        if (counted) {
            counted = false;
            open.decrementAndGet();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (phase == Phase.CLOSED) {
            io.netty.util.ReferenceCountUtil.release(msg);
            return;
        }
        if (phase == Phase.WAITING && msg instanceof ByteBuf b && b.isReadable()) {
            arm(ctx, readTimeoutMillis, Phase.READING);
        }
        super.channelRead(ctx, msg);
    }

    /** The HTTP handler has a whole request: stop the read timer, pause reading until the response is out. */
    void requestComplete(ChannelHandlerContext ctx) {
        if (phase == Phase.CLOSED) {
            return;
        }
        cancel();
        phase = Phase.HANDLING;
        ctx.channel().config().setAutoRead(false);
    }

    /** The response is being written: bound the time the client takes to read it. */
    void writing(ChannelHandlerContext ctx) {
        if (phase != Phase.CLOSED) {
            arm(ctx, readTimeoutMillis, Phase.WRITING);
        }
    }

    /** The response went out: wait for the next request on a kept-alive connection, or close. */
    void responseWritten(ChannelHandlerContext ctx, boolean keepAlive) {
        if (phase == Phase.CLOSED) {
            return;
        }
        if (!keepAlive) {
            cancel();
            phase = Phase.CLOSED;
            ctx.close();
            return;
        }
        arm(ctx, idleTimeoutMillis, Phase.WAITING);
        ctx.channel().config().setAutoRead(true);
        ctx.read();
    }

    private void arm(ChannelHandlerContext ctx, long millis, Phase next) {
        cancel();
        phase = next;
        timer = ctx.executor().schedule(() -> expire(ctx, next), millis, TimeUnit.MILLISECONDS);
    }

    private void expire(ChannelHandlerContext ctx, Phase armedFor) {
        if (phase != armedFor) {
            return;
        }
        phase = Phase.CLOSED;
        if (armedFor == Phase.READING) {
            ctx.writeAndFlush(raw(408, "Request Timeout", "the request did not arrive whole within "
                    + readTimeoutMillis + " ms")).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }

    private void cancel() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    /** A complete response written below the HTTP codec (this handler sits ahead of it). */
    private static ByteBuf raw(int status, String reason, String message) {
        byte[] body = ("{\"error\":\"" + message + "\",\"status\":" + status + "}").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: " + AdminApi.JSON
                + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\nCache-Control: no-store\r\n"
                + (status == 503 ? "Retry-After: 1\r\n" : "") + "\r\n";
        return Unpooled.wrappedBuffer(head.getBytes(StandardCharsets.US_ASCII), body);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a reset by the peer and the like: nothing to answer
        phase = Phase.CLOSED;
        ctx.close();
    }
}

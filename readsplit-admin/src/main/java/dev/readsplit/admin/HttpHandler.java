package dev.readsplit.admin;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Turns each whole HTTP request into an {@link AdminApi.Request}, and the API's answer, whenever it is ready and
 * on whichever thread, into the response, written on the connection's event loop. A request the codec could not
 * parse is answered 400 (414, 431 for a line or headers too long) and the connection closed. Requests a client
 * pipelines are answered one after the other, in order (at most {@value #MAX_PIPELINED} waiting).
 */
final class HttpHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final AdminApi api;
    private final ConnectionGuard guard;
    private final String dataSource;

    HttpHandler(AdminApi api, ConnectionGuard guard, String dataSource) {
        this.api = api;
        this.guard = guard;
        this.dataSource = dataSource;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest msg) {
        guard.requestComplete(ctx);
        String method = msg.method().name().toUpperCase(Locale.ROOT);
        boolean head = method.equals("HEAD");
        DecoderResult decoded = msg.decoderResult();
        if (decoded.isFailure()) {
            Throwable cause = decoded.cause();
            int status = cause instanceof TooLongHttpLineException ? 414
                    : cause instanceof TooLongHttpHeaderException ? 431 : 400;
            write(ctx, head, false, api.errorResponse(status, dataSource + ": malformed HTTP request ("
                    + cause.getClass().getSimpleName() + ")", null));
            return;
        }
        Map<String, String> headers = new HashMap<>();
        msg.headers().forEach(e -> headers.putIfAbsent(e.getKey().toLowerCase(Locale.ROOT), e.getValue()));
        String path = new QueryStringDecoder(msg.uri()).rawPath();
        byte[] body = ByteBufUtil.getBytes(msg.content());
        Pending p = new Pending(new AdminApi.Request(method, path, headers, body), head, HttpUtil.isKeepAlive(msg));
        if (answering) {
            // a pipelined request (the codec had its bytes before reading paused): answered in order, after this one
            if (pipelined.size() >= MAX_PIPELINED) {
                ctx.close();
                return;
            }
            pipelined.add(p);
            return;
        }
        answer(ctx, p);
    }

    /** A parsed request waiting for its turn on this connection. */
    private record Pending(AdminApi.Request request, boolean head, boolean keepAlive) {
    }

    private static final int MAX_PIPELINED = 16;
    /** Requests read behind the one being answered (event loop only). */
    private final java.util.ArrayDeque<Pending> pipelined = new java.util.ArrayDeque<>();
    /** Whether a response is being produced or written on this connection (event loop only). */
    private boolean answering;

    private void answer(ChannelHandlerContext ctx, Pending p) {
        answering = true;
        boolean head = p.head();
        boolean keepAlive = p.keepAlive();
        api.handle(p.request()).whenComplete((response, e) -> {
            AdminApi.Response r = response != null ? response
                    : api.errorResponse(500, "internal error: " + e.getClass().getSimpleName(), null);
            if (ctx.executor().inEventLoop()) {
                write(ctx, head, keepAlive, r); // answered on the I/O thread (probes, files, refusals)
            } else {
                ctx.executor().execute(() -> write(ctx, head, keepAlive, r));
            }
        });
    }

    private void write(ChannelHandlerContext ctx, boolean head, boolean keepAlive, AdminApi.Response r) {
        if (!ctx.channel().isActive()) {
            return;
        }
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.valueOf(r.status()), head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(r.body()));
        var h = response.headers();
        h.set(HttpHeaderNames.CONTENT_TYPE, r.contentType());
        h.setInt(HttpHeaderNames.CONTENT_LENGTH, r.body().length);
        h.set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        h.set("X-Content-Type-Options", "nosniff");
        r.headers().forEach(h::set);
        h.set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        guard.writing(ctx);
        ctx.writeAndFlush(response).addListener(f -> {
            answering = false;
            if (!f.isSuccess()) {
                ctx.close();
            } else if (keepAlive && !pipelined.isEmpty()) {
                guard.requestComplete(ctx);
                answer(ctx, pipelined.poll());
            } else {
                guard.responseWritten(ctx, keepAlive);
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}

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
 * parse is answered 400 (414, 431 for a line or headers too long) and the connection closed.
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
        boolean keepAlive = HttpUtil.isKeepAlive(msg);
        api.handle(new AdminApi.Request(method, path, headers, body)).whenComplete((response, e) -> {
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
            if (f.isSuccess()) {
                guard.responseWritten(ctx, keepAlive);
            } else {
                ctx.close();
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}

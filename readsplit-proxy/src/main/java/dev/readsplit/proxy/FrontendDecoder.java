package dev.readsplit.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.TooLongFrameException;

import java.util.List;

/**
 * Frames a client's bytes into {@link Msg}s, bounded: startup-phase packets (length first, no type byte; at most
 * {@link #MAX_STARTUP} bytes, as PostgreSQL) until the StartupMessage proper, then typed messages of at most
 * {@code maxMessageBytes}. A length out of bounds is a {@link TooLongFrameException}: the connection is closed.
 */
final class FrontendDecoder extends ByteToMessageDecoder {

    static final int MAX_STARTUP = 10_000;
    static final int PROTOCOL_3 = 3 << 16;

    private final int maxMessageBytes;
    private boolean startupPhase = true;

    FrontendDecoder(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (true) {
            int header = startupPhase ? 4 : 5;
            if (in.readableBytes() < header) {
                return;
            }
            int start = in.readerIndex();
            byte type = startupPhase ? Msg.STARTUP : in.getByte(start);
            int len = in.getInt(start + header - 4);
            int max = startupPhase ? MAX_STARTUP : maxMessageBytes;
            if (len < 4 || len > max) {
                throw new TooLongFrameException("message length " + len + " out of bounds (4.." + max + ")");
            }
            if (in.readableBytes() < header - 4 + len) {
                return;
            }
            in.skipBytes(header);
            byte[] body = new byte[len - 4];
            in.readBytes(body);
            if (startupPhase && body.length >= 4) {
                int code = ((body[0] & 0xff) << 24) | ((body[1] & 0xff) << 16) | ((body[2] & 0xff) << 8) | (body[3] & 0xff);
                if ((code >>> 16) == 3) {
                    startupPhase = false; // the StartupMessage: typed messages from now on
                }
            }
            out.add(new Msg(type, body));
        }
    }
}

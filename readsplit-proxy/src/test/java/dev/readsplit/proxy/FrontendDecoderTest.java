package dev.readsplit.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FrontendDecoderTest {

    private static ByteBuf startup(int code, byte[] rest) {
        ByteBuf b = Unpooled.buffer();
        b.writeInt(8 + rest.length).writeInt(code).writeBytes(rest);
        return b;
    }

    @Test
    void startupPacketsUntilTheStartupMessageThenTypedMessagesSplitAnywhere() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrontendDecoder(1024));
        ch.writeInbound(startup(80877103, new byte[0]));
        Msg ssl = ch.readInbound();
        assertThat(ssl.type()).isEqualTo(Msg.STARTUP);
        assertThat(ssl.int32(0)).isEqualTo(80877103);
        ByteBuf all = Unpooled.buffer();
        all.writeBytes(startup(196608, "user\0u\0\0".getBytes()));
        all.writeBytes(Msg.query("SELECT 1").encode());
        byte[] bytes = new byte[all.readableBytes()];
        all.readBytes(bytes);
        for (byte x : bytes) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {x})); // one byte at a time
        }
        Msg start = ch.readInbound();
        assertThat(start.int32(0)).isEqualTo(196608);
        Msg q = ch.readInbound();
        assertThat((char) q.type()).isEqualTo('Q');
        assertThat(q.cstring(0)).isEqualTo("SELECT 1");
    }

    @Test
    void oversizedMessagesAreRefusedBeforeTheyAreBuffered() {
        EmbeddedChannel ch = new EmbeddedChannel(new FrontendDecoder(1024));
        ch.writeInbound(startup(196608, "user\0u\0\0".getBytes()));
        ch.readInbound();
        ByteBuf big = Unpooled.buffer().writeByte('Q').writeInt(1_000_000);
        assertThrows(DecoderException.class, () -> ch.writeInbound(big));
        EmbeddedChannel fresh = new EmbeddedChannel(new FrontendDecoder(1024));
        assertThrows(DecoderException.class, () -> fresh.writeInbound(Unpooled.buffer().writeInt(FrontendDecoder.MAX_STARTUP + 1)));
    }
}

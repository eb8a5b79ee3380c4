package dev.readsplit.proxy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * One protocol v3 message: its type byte and its body (without the length). Startup-phase messages (startup, SSL,
 * GSSENC and cancel requests) have type {@code 0}. Also the builder of outgoing messages and the reader of bodies.
 */
record Msg(byte type, byte[] body) {

    static final byte STARTUP = 0;
    /** The codes a startup-phase message carries in place of a protocol version: SSLRequest (1234 << 16 | 5679). */
    static final int SSL_REQUEST = 80877103;
    /** GSSENCRequest (1234 << 16 | 5680). */
    static final int GSSENC_REQUEST = 80877104;
    /** CancelRequest (1234 << 16 | 5678). */
    static final int CANCEL_REQUEST = 80877102;

    /** The message as it goes on the wire: type, length, body. */
    byte[] encode() {
        byte[] out = new byte[5 + body.length];
        out[0] = type;
        int len = body.length + 4;
        out[1] = (byte) (len >>> 24);
        out[2] = (byte) (len >>> 16);
        out[3] = (byte) (len >>> 8);
        out[4] = (byte) len;
        System.arraycopy(body, 0, out, 5, body.length);
        return out;
    }

    int int32(int at) {
        return ((body[at] & 0xff) << 24) | ((body[at + 1] & 0xff) << 16) | ((body[at + 2] & 0xff) << 8)
                | (body[at + 3] & 0xff);
    }

    int int16(int at) {
        return ((body[at] & 0xff) << 8) | (body[at + 1] & 0xff);
    }

    /** A DataRow's first column as text, or null for SQL NULL. */
    String firstColumn() {
        int len = int32(2);
        return len < 0 ? null : new String(body, 6, len, StandardCharsets.UTF_8);
    }

    /**
     * A DataRow's first column read as a decimal integer, without allocating (the proxy's own position queries, on the
     * event loop), or -1 for SQL NULL. The column must be an integer in text format.
     */
    long firstColumnLong() {
        int len = int32(2);
        if (len < 0) {
            return -1;
        }
        boolean negative = body[6] == '-';
        long v = 0;
        for (int i = negative ? 7 : 6; i < 6 + len; i++) {
            v = v * 10 + (body[i] - '0');
        }
        return negative ? -v : v;
    }

    /** The NUL-terminated string at {@code at}; {@link #end(int)} gives the offset after it. */
    String cstring(int at) {
        int end = end(at);
        return new String(body, at, end - at - 1, StandardCharsets.UTF_8);
    }

    /** The offset after the NUL-terminated string at {@code at} (the body's length if unterminated). */
    int end(int at) {
        int i = at;
        while (i < body.length && body[i] != 0) {
            i++;
        }
        return Math.min(i + 1, body.length + 1);
    }

    /** A Parse message's query text (after its statement name). */
    String parseQuery() {
        return cstring(end(0));
    }

    /** A Bind message's prepared statement name (after its portal name). */
    String bindStatement() {
        return cstring(end(0));
    }

    /** An ErrorResponse/NoticeResponse field ({@code 'C'} for the SQLSTATE, {@code 'M'} for the message), or null. */
    String field(char code) {
        int i = 0;
        while (i < body.length && body[i] != 0) {
            char f = (char) body[i];
            String v = cstring(i + 1);
            if (f == code) {
                return v;
            }
            i = end(i + 1);
        }
        return null;
    }

    @Override
    public String toString() {
        return "Msg[" + (type == 0 ? "startup" : String.valueOf((char) type)) + ", " + body.length + " bytes]";
    }

    static Builder builder(char type) {
        return new Builder((byte) type);
    }

    /** Builds one message body. */
    static final class Builder {
        private final byte type;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream(64);

        private Builder(byte type) {
            this.type = type;
        }

        Builder int32(int v) {
            out.write(v >>> 24);
            out.write(v >>> 16);
            out.write(v >>> 8);
            out.write(v);
            return this;
        }

        Builder int16(int v) {
            out.write(v >>> 8);
            out.write(v);
            return this;
        }

        Builder byte1(int v) {
            out.write(v);
            return this;
        }

        Builder cstring(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            out.write(0);
            return this;
        }

        Builder bytes(byte[] b) {
            out.writeBytes(b);
            return this;
        }

        Msg build() {
            return new Msg(type, out.toByteArray());
        }
    }

    // ---------------------------------------------------------------------------------------------
    // messages the proxy sends itself

    /** PostgreSQL's error for a Parse of a statement name the session already holds. */
    static Msg alreadyPrepared(String name) {
        return error("42P05", "prepared statement \"" + name + "\" already exists");
    }

    static Msg error(String sqlState, String message) {
        return builder('E').byte1('S').cstring("ERROR").byte1('V').cstring("ERROR").byte1('C').cstring(sqlState)
                .byte1('M').cstring(message).byte1(0).build();
    }

    static Msg fatal(String sqlState, String message) {
        return builder('E').byte1('S').cstring("FATAL").byte1('V').cstring("FATAL").byte1('C').cstring(sqlState)
                .byte1('M').cstring(message).byte1(0).build();
    }

    static Msg ready(char status) {
        return builder('Z').byte1(status).build();
    }

    static Msg commandComplete(String tag) {
        return builder('C').cstring(tag).build();
    }

    static Msg parameterStatus(String name, String value) {
        return builder('S').cstring(name).cstring(value).build();
    }

    /** A one-column text RowDescription (type text, oid 25). */
    static Msg rowDescription(String column) {
        return builder('T').int16(1).cstring(column).int32(0).int16(0).int32(25).int16(-1).int32(-1).int16(0).build();
    }

    static Msg dataRow(String value) {
        Builder b = builder('D').int16(1);
        if (value == null) {
            return b.int32(-1).build();
        }
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        return b.int32(v.length).bytes(v).build();
    }

    static Msg query(String sql) {
        return builder('Q').cstring(sql).build();
    }
}

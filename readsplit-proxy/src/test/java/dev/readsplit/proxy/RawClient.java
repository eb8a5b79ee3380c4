package dev.readsplit.proxy;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;

/** A protocol-level client for tests: what psql or a driver would send, one message at a time. */
final class RawClient implements AutoCloseable {

    final Socket socket;
    final DataInputStream in;
    final OutputStream out;

    RawClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(30_000);
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** A startup-phase packet: length, code, rest. */
    void startupPacket(int code, byte[] rest) throws IOException {
        Msg m = Msg.builder('\0').int32(8 + rest.length).int32(code).bytes(rest).build();
        out.write(m.body());
        out.flush();
    }

    void send(Msg m) throws IOException {
        out.write(m.encode());
        out.flush();
    }

    Msg read() throws IOException {
        int type = in.read();
        if (type < 0) {
            throw new java.io.EOFException("closed by the proxy");
        }
        int len = in.readInt();
        byte[] body = new byte[len - 4];
        in.readFully(body);
        return new Msg((byte) type, body);
    }

    /** Startup and SCRAM login; returns after the first ReadyForQuery. */
    void login(String user, String password, String database) throws IOException {
        byte[] params = ("user\0" + user + "\0database\0" + database + "\0\0").getBytes(StandardCharsets.UTF_8);
        startupPacket(196608, params);
        String nonce = Scram.nonce(new SecureRandom());
        String bare = "n=,r=" + nonce;
        String[] fin = null;
        while (true) {
            Msg m = read();
            if (m.type() == 'R') {
                switch (m.int32(0)) {
                    case 10 -> {
                        byte[] first = ("n,," + bare).getBytes(StandardCharsets.UTF_8);
                        send(Msg.builder('p').cstring(Scram.MECHANISM).int32(first.length).bytes(first).build());
                    }
                    case 11 -> {
                        String serverFirst = new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8);
                        fin = Scram.clientFinal(password, bare, serverFirst, nonce);
                        send(Msg.builder('p').bytes(fin[0].getBytes(StandardCharsets.UTF_8)).build());
                    }
                    case 12 -> {
                        String v = Scram.attribute(new String(m.body(), 4, m.body().length - 4, StandardCharsets.UTF_8), 'v');
                        if (fin == null || !fin[1].equals(v)) {
                            throw new IOException("wrong server signature");
                        }
                    }
                    default -> { }
                }
            } else if (m.type() == 'E') {
                throw new IOException("login failed: " + m.field('C') + " " + m.field('M'));
            } else if (m.type() == 'Z') {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

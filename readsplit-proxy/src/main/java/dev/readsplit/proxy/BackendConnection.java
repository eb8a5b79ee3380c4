package dev.readsplit.proxy;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.topology.Node;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One connection of the proxy to a PostgreSQL node, over the wire protocol (blocking socket): the startup and
 * authentication (trust, cleartext, md5 or SCRAM-SHA-256, with the node's configured user and password), then
 * messages in and out. It also records which prepared statements exist on it ({@link #prepared}), so a client's
 * statement is re-prepared on whichever backend executes it.
 *
 * <p>Concurrency: used by one client session at a time (the pool hands it out exclusively); {@link #cancelKey} is
 * read by the cancel path from other threads.
 */
final class BackendConnection implements AutoCloseable {

    /** Bound on a message a backend may send (a DataRow of a huge value included). */
    static final int MAX_BACKEND_MESSAGE = 1 << 30;

    private final Node node;
    private final int epoch;
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final Map<String, String> parameters = new LinkedHashMap<>();
    /** Statement name -> the client's Parse body it was prepared from (identity compared). */
    final Map<String, byte[]> prepared = new HashMap<>();
    /** The passed-through client login it was opened with, or null: the node's configured user. */
    private final BackendLogin login;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Runnable onClose;
    private volatile int pid;
    private volatile int secret;
    private boolean broken;

    private BackendConnection(Node node, Socket socket, BackendLogin login) throws IOException {
        this.node = node;
        this.login = login;
        this.epoch = node.epoch();
        this.socket = socket;
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 16 * 1024));
        this.out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
    }

    /** Connects and logs in to {@code node}; the connection is ready for queries (status idle). */
    static BackendConnection open(Node node, int connectTimeoutMillis, SecureRandom random) throws IOException {
        return open(node, null, connectTimeoutMillis, random);
    }

    /** As {@link #open(Node, int, SecureRandom)}, logged in as {@code login} (null: the node's configured user). */
    static BackendConnection open(Node node, BackendLogin login, int connectTimeoutMillis, SecureRandom random)
            throws IOException {
        NodeConfig nc = node.config();
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.setKeepAlive(true);
            s.connect(new InetSocketAddress(nc.host(), nc.port()), connectTimeoutMillis);
            s.setSoTimeout(connectTimeoutMillis); // startup is bounded; queries are not (cancel and health cover them)
            BackendConnection c = new BackendConnection(node, s, login);
            c.login(nc, login == null ? nc.user() : login.user(),
                    login == null ? nc.password() : login.password(), random);
            s.setSoTimeout(0);
            return c;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void login(NodeConfig nc, String user, dev.readsplit.config.Secret credential, SecureRandom random)
            throws IOException {
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
        out.write(startup);
        out.flush();
        String password = credential == null ? null : credential.reveal();
        String clientFirstBare = null;
        String nonce = null;
        String expectedSignature = null;
        while (true) {
            Msg m = read();
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

    /** Writes {@code m} to the send buffer (call {@link #flush()}). */
    void write(Msg m) throws IOException {
        try {
            out.write(m.type());
            int len = m.body().length + 4;
            out.write(len >>> 24);
            out.write(len >>> 16);
            out.write(len >>> 8);
            out.write(len);
            out.write(m.body());
        } catch (IOException e) {
            broken = true;
            throw e;
        }
    }

    void flush() throws IOException {
        try {
            out.flush();
        } catch (IOException e) {
            broken = true;
            throw e;
        }
    }

    void send(Msg m) throws IOException {
        write(m);
        flush();
    }

    /** The next message from the server (blocking). */
    Msg read() throws IOException {
        try {
            int type = in.read();
            if (type < 0) {
                throw new EOFException(node.name() + ": the server closed the connection");
            }
            int len = in.readInt();
            if (len < 4 || len > MAX_BACKEND_MESSAGE) {
                throw new IOException(node.name() + ": invalid message length " + len);
            }
            byte[] body = new byte[len - 4];
            in.readFully(body);
            return new Msg((byte) type, body);
        } catch (IOException e) {
            broken = true;
            throw e;
        }
    }

    /** Runs {@code sql} (simple query) and returns the first column of the first row (null if none); errors throw. */
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
                        int len = m.int32(2);
                        value = len < 0 ? null : new String(m.body(), 6, len, StandardCharsets.UTF_8);
                    }
                }
                case 'E' -> error = m;
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
            Msg m = Msg.builder('\0').int32(16).int32(80877102).int32(pid).int32(secret).build();
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
        try {
            if (!broken) {
                out.write('X');
                out.write(new byte[] {0, 0, 0, 4});
                out.flush();
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
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

    /** An ErrorResponse of the server to a query the proxy ran itself. */
    static final class BackendError extends Exception {
        final String sqlState;

        BackendError(Msg error) {
            super(error.field('M'));
            this.sqlState = error.field('C');
        }
    }
}

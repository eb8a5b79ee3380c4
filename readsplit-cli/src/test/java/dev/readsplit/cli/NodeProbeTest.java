package dev.readsplit.cli;

import dev.readsplit.config.NodeConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What {@code check} says when it cannot reach a node: the real cause, not pgjdbc's "The connection attempt
 * failed." (issue 18), for each kind of failure that needs no database: an unknown host, a refused connection, a
 * server that never answers, a TLS handshake that fails, a server that refuses TLS. (Authentication: CheckIT, on
 * a real server.) Every fake server listens on loopback only and is closed after the test.
 */
class NodeProbeTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    /**
     * For fake servers that answer at once: only a bound. A cold JVM's first TLS handshake (JSSE's set-up) took over
     * a second on a loaded machine and turned "TLS handshake failed" into "timed out".
     */
    private static final Duration ANSWERING = Duration.ofSeconds(20);
    private final List<ServerSocket> servers = new ArrayList<>();
    private final List<Socket> accepted = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        for (Socket s : accepted) {
            s.close();
        }
        for (ServerSocket s : servers) {
            s.close();
        }
    }

    @Test
    void replayLagFromPgStatReplication() {
        // regression: a NULL replay_lag with WAL still to replay made `check` call the primary unreachable (an NPE)
        assertThat(NodeProbe.replayLagMillis(false, 42, 100L)).isEqualTo(42L);
        assertThat(NodeProbe.replayLagMillis(true, 0, 0L)).isEqualTo(0L);       // idle and caught up
        assertThat(NodeProbe.replayLagMillis(true, 0, 8192L)).isNull();         // just started streaming
        assertThat(NodeProbe.replayLagMillis(true, 0, null)).isNull();
    }

    @Test
    void anUnknownHostIsNamed() {
        NodeProbe.Result r = NodeProbe.probe(node("nosuchhost.invalid", 5432, Map.of()), TIMEOUT);
        assertThat(r.reachable()).isFalse();
        assertThat(r.error()).startsWith("unknown host 'nosuchhost.invalid'").contains("[SQLSTATE 08001]");
    }

    @Test
    void aRefusedConnectionIsNamed() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        NodeProbe.Result r = NodeProbe.probe(node("127.0.0.1", port, Map.of()), TIMEOUT);
        assertThat(r.error()).startsWith("connection refused: ").contains("127.0.0.1:" + port);
    }

    @Test
    void aServerThatNeverAnswersIsATimeout() throws IOException {
        ServerSocket silent = listen();
        Thread acceptor = new Thread(() -> acceptAndThen(silent, s -> { }), "silent-server");
        acceptor.setDaemon(true);
        acceptor.start();
        NodeProbe.Result r = NodeProbe.probe(node("127.0.0.1", silent.getLocalPort(), Map.of()), TIMEOUT);
        assertThat(r.error()).startsWith("timed out (no answer within 1s)");
    }

    @Test
    void aFailedTlsHandshakeIsNamed() throws IOException {
        ServerSocket fake = listen();
        Thread t = new Thread(() -> acceptAndThen(fake, s -> {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            refuseGssEncryption(in, out);
            out.write('S');                         // "yes, TLS"
            out.flush();
            in.readNBytes(5);                       // the client's TLS record header (its ClientHello)
            out.write("this is not a TLS server hello\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
        }), "fake-tls-server");
        t.setDaemon(true);
        t.start();
        NodeProbe.Result r = NodeProbe.probe(node("127.0.0.1", fake.getLocalPort(), Map.of("sslmode", "require")),
                ANSWERING);
        assertThat(r.error()).startsWith("TLS handshake failed: ");
    }

    @Test
    void aServerThatRefusesTlsIsNamed() throws IOException {
        ServerSocket fake = listen();
        Thread t = new Thread(() -> acceptAndThen(fake, s -> {
            refuseGssEncryption(s.getInputStream(), s.getOutputStream());
            s.getOutputStream().write('N');         // "no TLS here"
            s.getOutputStream().flush();
        }), "fake-plain-server");
        t.setDaemon(true);
        t.start();
        NodeProbe.Result r = NodeProbe.probe(node("127.0.0.1", fake.getLocalPort(), Map.of("sslmode", "require")),
                ANSWERING);
        assertThat(r.error()).startsWith("TLS refused: ").contains("SSL");
    }

    /** Reads the 8-byte request; a GSSENCRequest (code 80877104) is refused with 'N' and the next one read. */
    private static void refuseGssEncryption(InputStream in, OutputStream out) throws IOException {
        while (true) {
            byte[] request = in.readNBytes(8);
            int code = java.nio.ByteBuffer.wrap(request, 4, 4).getInt();
            if (code != 80877104) {
                return; // the SSLRequest (80877103)
            }
            out.write('N');
            out.flush();
        }
    }

    private interface Conversation {
        void with(Socket s) throws IOException;
    }

    private void acceptAndThen(ServerSocket server, Conversation c) {
        try {
            Socket s = server.accept();
            synchronized (accepted) {
                accepted.add(s);
            }
            c.with(s);
        } catch (IOException closed) {
            // the test is over
        }
    }

    private ServerSocket listen() throws IOException {
        ServerSocket s = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
        servers.add(s);
        return s;
    }

    private static NodeConfig node(String host, int port, Map<String, String> props) {
        return NodeConfig.builder().host(host).port(port).database("app").user("app").jdbcProperties(props).build();
    }
}

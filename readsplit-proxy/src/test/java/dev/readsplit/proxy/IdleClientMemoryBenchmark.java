package dev.readsplit.proxy;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Memory per idle client connection of the proxy (see {@code docs/benchmarks.md}): the proxy runs in a child JVM
 * (so the clients' own sockets and objects are not counted), N clients log in over loopback one after another
 * (trust authentication, the same startup parameters as psql) and stay idle; the child then reports its heap in
 * use after a full GC and its resident set size ({@code VmRSS}). Per client = (value at N - value at 0) / N, the
 * baseline taken after 200 warm-up logins and logouts. Not a test: run by hand (command in docs/benchmarks.md).
 *
 * <p>Arguments: the client counts in increasing order (default {@code 1000 10000}). Bounded: at most 20,000 clients,
 * loopback only; the file-descriptor limit must allow the count plus a margin (checked before starting).
 */
public final class IdleClientMemoryBenchmark {

    private static final int MAX_CLIENTS = 20_000;
    /**
     * The proxy JVM's options ({@code -Didlemem.jvm=...}). The default pre-touches a fixed heap, so that the RSS
     * growth is the native memory per client and the heap growth (after a full GC) the Java objects per client.
     */
    private static final String CHILD_JVM = System.getProperty("idlemem.jvm", "-Xms256m -Xmx256m -XX:+AlwaysPreTouch");

    private IdleClientMemoryBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        List<Integer> counts = new ArrayList<>();
        for (String a : args) {
            counts.add(Integer.parseInt(a));
        }
        if (counts.isEmpty()) {
            counts = List.of(1000, 10_000);
        }
        int max = counts.get(counts.size() - 1);
        if (max > MAX_CLIENTS) {
            throw new IllegalArgumentException("at most " + MAX_CLIENTS + " clients");
        }
        long fdLimit = fdLimit();
        if (fdLimit > 0 && fdLimit < max + 500L) {
            throw new IllegalStateException("the file-descriptor limit (" + fdLimit + ") is too low for " + max
                    + " clients: raise it (ulimit -n " + (2 * max + 1000) + ")");
        }
        try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(0).password("bench-pw").start()) {
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(List.of(CHILD_JVM.trim().split("\\s+")));
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
                    IdleClientMemoryBenchmark.class.getName() + "$Child", cluster.primary().host(),
                    String.valueOf(cluster.primary().port()), cluster.database(), cluster.user(),
                    String.valueOf(max + 100)));
            System.out.println("proxy JVM options: " + CHILD_JVM);
            if (Boolean.getBoolean("idlemem.histogram")) {
                cmd.add(1, "-Didlemem.histogram=true");
            }
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
            pb.environment().put("BENCH_DB_PASSWORD", cluster.password());
            Process child = pb.start();
            BufferedReader from = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            PrintWriter to = new PrintWriter(child.getOutputStream(), true, StandardCharsets.UTF_8);
            List<Socket> clients = new ArrayList<>();
            try {
                int port = Integer.parseInt(expect(from, "PORT"));
                for (int i = 0; i < 200; i++) {
                    login(port, cluster.database()).close();
                }
                Thread.sleep(1000);
                long[] base = measure(from, to);
                System.out.printf(Locale.ROOT, "java %s, %d cores, load average %s%n", Runtime.version(),
                        Runtime.getRuntime().availableProcessors(), loadAverage());
                System.out.printf(Locale.ROOT, "baseline: heap %,d B, RSS %,d B, threads %d%n", base[0], base[1], base[2]);
                for (int n : counts) {
                    long start = System.nanoTime();
                    while (clients.size() < n) {
                        clients.add(login(port, cluster.database()));
                    }
                    long loginMillis = (System.nanoTime() - start) / 1_000_000;
                    long[] m = measure(from, to);
                    System.out.printf(Locale.ROOT, "%,6d idle clients: heap %,d B (%,.0f B per client), RSS %,d B"
                                    + " (%,.0f B per client), threads %d, logins took %,d ms, load average %s%n", n, m[0],
                            (m[0] - base[0]) / (double) n, m[1], (m[1] - base[1]) / (double) n, m[2], loginMillis,
                            loadAverage());
                }
            } finally {
                for (Socket s : clients) {
                    s.close();
                }
                to.println("quit");
                child.waitFor();
            }
        }
    }

    /** Logs in with trust authentication, as psql would (its startup parameters), and reads to ReadyForQuery. */
    static Socket login(int port, String database) throws IOException {
        Socket s = new Socket("127.0.0.1", port);
        s.setSoTimeout(30_000);
        byte[] params = ("user\0bench\0database\0" + database + "\0application_name\0psql\0client_encoding\0UTF8\0\0")
                .getBytes(StandardCharsets.UTF_8);
        OutputStream out = s.getOutputStream();
        Msg m = Msg.builder('\0').int32(8 + params.length).int32(196608).bytes(params).build();
        out.write(m.body());
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        while (true) {
            int type = in.read();
            if (type < 0) {
                throw new IOException("the proxy closed the connection during login");
            }
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'E') {
                throw new IOException("login failed: " + new Msg((byte) type, body).field('M'));
            }
            if (type == 'Z') {
                return s;
            }
        }
    }

    private static long[] measure(BufferedReader from, PrintWriter to) throws IOException {
        to.println("measure");
        String[] parts = expect(from, "MEASURED").split(" ");
        return new long[] {Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2])};
    }

    private static String expect(BufferedReader from, String tag) throws IOException {
        while (true) {
            String line = from.readLine();
            if (line == null) {
                throw new IOException("the proxy process ended");
            }
            if (line.startsWith(tag + " ")) {
                return line.substring(tag.length() + 1);
            }
        }
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static long fdLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    return Long.parseLong(line.substring(26).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown: try anyway
        }
        return -1;
    }

    /** The proxy process: trust authentication, maxClients from the arguments; answers "measure" on stdin. */
    public static final class Child {
        private Child() {
        }

        public static void main(String[] args) throws Exception {
            ReadsplitConfig config = ReadsplitConfig.builder().name("idlemem").primary(args[0], Integer.parseInt(args[1]))
                    .database(args[2]).user(args[3]).password(System.getenv("BENCH_DB_PASSWORD")).build();
            try (ReadsplitDataSource ds = new ReadsplitDataSource(config);
                 ProxyServer proxy = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0")
                         .maxClients(Integer.parseInt(args[4])).trust(true).build())) {
                System.out.println("PORT " + proxy.address().getPort());
                System.out.flush();
                BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                String line;
                while ((line = in.readLine()) != null && !line.equals("quit")) {
                    if (line.equals("measure")) {
                        Thread.sleep(500); // the last login's worker finishes
                        for (int i = 0; i < 3; i++) {
                            System.gc();
                            Thread.sleep(200);
                        }
                        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                        if (Boolean.getBoolean("idlemem.histogram")) {
                            histogram();
                        }
                        System.out.println("MEASURED " + heap + " " + status("VmRSS") * 1024 + " " + status("Threads"));
                        System.out.flush();
                    }
                }
            }
        }

        /** The top of the live-object class histogram (to see what an idle client costs), on stderr. */
        private static void histogram() throws Exception {
            Object text = ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            String[] lines = String.valueOf(text).split("\n");
            for (int i = 0; i < Math.min(lines.length, 40); i++) {
                System.err.println(lines[i]);
            }
        }

        private static long status(String field) throws IOException {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
            return -1;
        }
    }
}

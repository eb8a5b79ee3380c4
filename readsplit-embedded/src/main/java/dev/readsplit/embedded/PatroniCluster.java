package dev.readsplit.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A real Patroni cluster for tests: one etcd and N Patroni nodes (3 by default) from Debian's {@code etcd-server} and
 * {@code patroni} packages, each managing a PostgreSQL server from Debian's {@code postgresql-NN} package (Patroni
 * needs {@code pg_basebackup} and {@code pg_rewind}, which the embedded cluster's binaries do not ship). Everything
 * listens on loopback ports chosen free at start (never one twice, outside the kernel's ephemeral range: see
 * {@code LoopbackPorts}); the servers run as {@code nobody} when the JVM is root (PostgreSQL
 * and Patroni refuse root), like {@link EmbeddedCluster}. {@code .ci/run} installs the packages.
 *
 * <p>DCS settings are tight so that tests are quick: {@code ttl} 10 s, {@code loop_wait} 1 s, {@code retry_timeout}
 * 4 s; {@code synchronous_mode} on request. Members are named {@code pg1..pgN}; trust authentication on loopback.
 *
 * <p>Faults: {@link Member#killPostgres()} (SIGKILL of the member's postmaster and its children: Patroni restarts it
 * or fails over), {@link Member#killPatroni()} (SIGKILL of the Patroni process only: PostgreSQL keeps running,
 * unmanaged, until the leader key expires), {@link #switchover} (Patroni's REST switchover).
 */
public final class PatroniCluster implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private final Path root;
    private final ServerUser user;
    private final Path pgBin;
    private final int etcdClientPort;
    private final int etcdPeerPort;
    private final List<Member> members = new ArrayList<>();
    private final LoopbackPorts ports = LoopbackPorts.forThisMachine(new java.util.SplittableRandom());
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process etcd;
    private volatile boolean synchronous;
    private final Thread shutdownHook = new Thread(this::close, "readsplit-patroni-shutdown");

    /** One Patroni node and its PostgreSQL server. */
    public final class Member {
        private final String name;
        private final int pgPort;
        private final int restPort;
        private final Path dir;
        private final boolean noloadbalance;
        private Process patroni;

        private Member(String name, int pgPort, int restPort, Path dir, boolean noloadbalance) {
            this.name = name;
            this.pgPort = pgPort;
            this.restPort = restPort;
            this.dir = dir;
            this.noloadbalance = noloadbalance;
        }

        public String name() {
            return name;
        }

        public String host() {
            return "127.0.0.1";
        }

        public int port() {
            return pgPort;
        }

        /** Patroni's REST API base URL. */
        public URI restUrl() {
            return URI.create("http://127.0.0.1:" + restPort);
        }

        public Path dataDirectory() {
            return dir.resolve("data");
        }

        public Path patroniLog() {
            return dir.resolve("patroni.log");
        }

        /** A superuser connection to this member's server (whatever its role). */
        public Connection connect() throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", user());
            p.setProperty("connectTimeout", "5");
            return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pgPort + "/" + database(), p);
        }

        /** Whether the member's Patroni process runs. */
        public synchronized boolean patroniRunning() {
            return patroni != null && patroni.isAlive();
        }

        synchronized void startPatroni() {
            if (patroniRunning()) {
                return;
            }
            List<String> command = user.command(List.of("env", "HOME=" + dir, "LC_ALL=C.UTF-8", "LANG=C.UTF-8",
                    "/usr/bin/patroni", dir.resolve("patroni.yml").toString()));
            try {
                patroni = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(patroniLog().toFile())).start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start Patroni " + name, e);
            }
        }

        /** Starts this member's Patroni again (after {@link #killPatroni()}); it rejoins as Patroni decides. */
        public void restartPatroni() {
            startPatroni();
        }

        /** SIGKILL of the Patroni process only: its PostgreSQL keeps running, unmanaged. */
        public synchronized void killPatroni() {
            if (patroni == null) {
                return;
            }
            patroni.destroyForcibly();
            try {
                patroni.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            patroni = null;
        }

        /** SIGKILL of the member's postmaster and all its children (Patroni stays; it decides what happens next). */
        public void killPostgres() {
            long pid = postmasterPid();
            if (pid <= 0) {
                throw new IllegalStateException(name + ": no running postmaster");
            }
            ProcessHandle.of(pid).ifPresent(h -> {
                List<ProcessHandle> all = new ArrayList<>();
                all.add(h);
                h.descendants().forEach(all::add);
                for (ProcessHandle p : all) {
                    signal("KILL", p.pid());
                }
            });
        }

        /** The postmaster's pid from {@code postmaster.pid}, or -1. */
        public long postmasterPid() {
            Path pidFile = dataDirectory().resolve("postmaster.pid");
            try {
                String first = Files.readAllLines(pidFile).get(0).trim();
                long pid = Long.parseLong(first);
                return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) ? pid : -1;
            } catch (IOException | RuntimeException e) {
                return -1;
            }
        }

        private synchronized void stop() {
            killPatroni();
            long pid = postmasterPid();
            if (pid > 0) {
                signal("INT", pid);
                ProcessHandle.of(pid).ifPresent(h -> h.onExit().orTimeout(20, java.util.concurrent.TimeUnit.SECONDS)
                        .exceptionally(t -> {
                            signal("KILL", pid);
                            return null;
                        }).join());
            }
        }

        @Override
        public String toString() {
            return name + "(postgres 127.0.0.1:" + pgPort + ", patroni " + restUrl() + ")";
        }
    }

    private PatroniCluster(Builder b) {
        this.user = ServerUser.detect();
        this.pgBin = b.pgBin != null ? b.pgBin : findPostgresBin();
        require(Path.of("/usr/bin/etcd"), "etcd (Debian package etcd-server)");
        require(Path.of("/usr/bin/patroni"), "patroni (Debian package patroni)");
        try {
            this.root = Files.createTempDirectory(b.baseDirectory, "readsplit-patroni-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the Patroni cluster's directory", e);
        }
        this.synchronous = b.synchronous;
        this.etcdClientPort = ports.next();
        this.etcdPeerPort = ports.next();
        for (int i = 1; i <= b.members; i++) {
            String name = "pg" + i;
            Path dir = root.resolve(name);
            members.add(new Member(name, ports.next(), ports.next(), dir, b.noloadbalance.contains(name)));
        }
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        try {
            writeConfigs(b.synchronous);
            user.own(root);
            startEtcd();
            for (Member m : members) {
                m.startPatroni();
                if (m == members.get(0)) {
                    awaitLeader(); // the first bootstraps the cluster; the others clone it
                }
            }
            awaitHealthy(START_TIMEOUT);
        } catch (RuntimeException e) {
            String logs = tails();
            close();
            throw new IllegalStateException("Patroni cluster did not start: " + e.getMessage() + "\n" + logs, e);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<Member> members() {
        return List.copyOf(members);
    }

    public Member member(String name) {
        for (Member m : members) {
            if (m.name.equals(name)) {
                return m;
            }
        }
        throw new IllegalArgumentException("no member " + name);
    }

    public List<URI> restUrls() {
        return members.stream().map(Member::restUrl).toList();
    }

    public String database() {
        return "postgres";
    }

    public String user() {
        return "postgres";
    }

    /** {@code GET /cluster} from the first member whose Patroni answers, as Patroni wrote it. */
    public String clusterJson() {
        IOException last = null;
        for (Member m : members) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(m.restUrl() + "/cluster"))
                        .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return r.body();
                }
                last = new IOException("HTTP " + r.statusCode());
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        throw new UncheckedIOException("no Patroni answered GET /cluster", last);
    }

    /** The member Patroni calls its leader now, or null during an election. */
    public Member leader() {
        for (com.fasterxml.jackson.databind.JsonNode m : memberObjects(clusterJson())) {
            if (field(m, "role").equals("leader")) {
                return member(field(m, "name"));
            }
        }
        return null;
    }

    /**
     * A member a switchover may go to: Patroni's synchronous standby in synchronous mode (the only candidate Patroni
     * accepts), otherwise the first running replica.
     */
    public Member switchoverCandidate() {
        if (synchronous) {
            awaitTrue(Duration.ofSeconds(30), "a synchronous standby", () -> clusterJson().contains("\"sync_standby\""));
        }
        Member replica = null;
        for (com.fasterxml.jackson.databind.JsonNode m : memberObjects(clusterJson())) {
            String role = field(m, "role");
            if (role.equals("sync_standby")) {
                return member(field(m, "name"));
            }
            if (role.equals("replica") && replica == null) {
                replica = member(field(m, "name"));
            }
        }
        if (replica == null) {
            throw new IllegalStateException("no member to switch over to: " + clusterJson());
        }
        return replica;
    }

    /** Patroni's role of {@code name} now ({@code leader}, {@code replica}, {@code sync_standby}), or "" if absent. */
    public String role(String name) {
        for (com.fasterxml.jackson.databind.JsonNode m : memberObjects(clusterJson())) {
            if (field(m, "name").equals(name)) {
                return field(m, "role");
            }
        }
        return "";
    }

    /**
     * Waits until Patroni lists every member running, one leader, and every replica at lag 0 on the leader's timeline.
     */
    public void awaitHealthy(Duration timeout) {
        awaitTrue(timeout, "every member running and caught up", () -> {
            List<com.fasterxml.jackson.databind.JsonNode> objs = memberObjects(clusterJson());
            if (objs.size() != members.size()) {
                return false;
            }
            String leaderTl = null;
            for (com.fasterxml.jackson.databind.JsonNode m : objs) {
                if (field(m, "role").equals("leader")) {
                    leaderTl = field(m, "timeline");
                }
            }
            if (leaderTl == null) {
                return false;
            }
            for (com.fasterxml.jackson.databind.JsonNode m : objs) {
                String state = field(m, "state");
                if (!(state.equals("running") || state.equals("streaming")) || !field(m, "timeline").equals(leaderTl)) {
                    return false;
                }
                if (!field(m, "role").equals("leader") && !field(m, "lag").equals("0")) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Turns Patroni's {@code synchronous_mode} on or off ({@code PATCH /config}); Patroni applies it within a loop. */
    public void synchronousMode(boolean on) {
        Member any = leader() != null ? leader() : members.get(0);
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(any.restUrl() + "/config"))
                    .timeout(Duration.ofSeconds(10)).method("PATCH",
                            HttpRequest.BodyPublishers.ofString(
                            JSON.createObjectNode().put("synchronous_mode", on).toString())).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("PATCH /config synchronous_mode=" + on + ": HTTP " + r.statusCode());
            }
            synchronous = on;
        } catch (IOException e) {
            throw new UncheckedIOException("PATCH /config", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Patroni's REST switchover from {@code leader} to {@code candidate}; returns once Patroni says it is done. */
    public void switchover(String leader, String candidate) {
        String body = JSON.createObjectNode().put("leader", leader).put("candidate", candidate).toString();
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(member(leader).restUrl() + "/switchover"))
                    .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IllegalStateException("switchover " + leader + " -> " + candidate + ": HTTP " + r.statusCode()
                        + " " + r.body());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("switchover " + leader + " -> " + candidate, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Log lines that name a failure (PostgreSQL's and Patroni's levels, and the messages of a failed start). */
    private static final java.util.regex.Pattern CAUSE = java.util.regex.Pattern.compile(
            "\\b(FATAL|PANIC|ERROR|CRITICAL)\\b|could not|failed|[Ee]xception");

    /**
     * The last lines of every log, for failure messages, after the earlier lines that say what went wrong (a Patroni
     * log ends with the stack trace of its giving up; why it gave up, such as a PostgreSQL that would not start, is
     * logged before it).
     */
    public String tails() {
        StringBuilder sb = new StringBuilder();
        List<Path> logs = new ArrayList<>();
        logs.add(root == null ? null : root.resolve("etcd.log"));
        members.forEach(m -> logs.add(m.patroniLog()));
        for (Path p : logs) {
            if (p == null || !Files.exists(p)) {
                continue;
            }
            try {
                List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
                sb.append("--- ").append(p).append('\n');
                int tail = Math.max(0, lines.size() - 15);
                List<String> causes = new ArrayList<>();
                for (String l : lines.subList(0, tail)) {
                    if (CAUSE.matcher(l).find()) {
                        causes.add(l);
                    }
                }
                if (!causes.isEmpty()) {
                    causes.subList(Math.max(0, causes.size() - 20), causes.size())
                            .forEach(l -> sb.append(l).append('\n'));
                    sb.append("...\n");
                }
                lines.subList(tail, lines.size()).forEach(l -> sb.append(l).append('\n'));
            } catch (IOException ignored) {
                // best effort
            }
        }
        return sb.toString();
    }

    @Override
    public synchronized void close() {
        for (Member m : members) {
            try {
                m.stop();
            } catch (RuntimeException ignored) {
                // keep stopping the others
            }
        }
        if (etcd != null) {
            etcd.destroy();
            try {
                if (!etcd.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    etcd.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            etcd = null;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // called from the hook itself
        }
        if (root != null) {
            FileTree.deleteQuietly(root);
        }
    }

    // ---------------------------------------------------------------------------------------------

    private void writeConfigs(boolean synchronous) {
        for (Member m : members) {
            String yml = String.join("\n",
                    "scope: readsplit",
                    "name: " + m.name,
                    "log:",
                    "  level: INFO",
                    "restapi:",
                    "  listen: 127.0.0.1:" + m.restPort,
                    "  connect_address: 127.0.0.1:" + m.restPort,
                    "etcd3:",
                    "  hosts: 127.0.0.1:" + etcdClientPort,
                    "bootstrap:",
                    "  dcs:",
                    "    ttl: 10",
                    "    loop_wait: 1",
                    "    retry_timeout: 4",
                    "    maximum_lag_on_failover: 1048576",
                    "    synchronous_mode: " + synchronous,
                    "    postgresql:",
                    "      use_pg_rewind: true",
                    "      use_slots: true",
                    "      parameters:",
                    "        wal_level: replica",
                    "        hot_standby: 'on'",
                    "        wal_log_hints: 'on'",
                    "        max_wal_senders: 10",
                    "        max_replication_slots: 10",
                    "        hot_standby_feedback: 'on'",
                    "        fsync: 'off'",
                    "        max_connections: 60",
                    "  initdb:",
                    "    - encoding: UTF8",
                    "    - locale: C",
                    "  pg_hba:",
                    "    - local all all trust",
                    "    - host replication replicator 127.0.0.1/32 trust",
                    "    - host all all 127.0.0.1/32 trust",
                    "postgresql:",
                    "  listen: 127.0.0.1:" + m.pgPort,
                    "  connect_address: 127.0.0.1:" + m.pgPort,
                    "  data_dir: " + m.dataDirectory(),
                    "  bin_dir: " + pgBin,
                    "  pgpass: " + m.dir.resolve("pgpass"),
                    "  authentication:",
                    "    replication: {username: replicator, password: replicator-pw}",
                    "    superuser: {username: postgres, password: postgres-pw}",
                    "    rewind: {username: rewinder, password: rewinder-pw}",
                    "  parameters:",
                    "    unix_socket_directories: '" + m.dir + "'",
                    "tags:",
                    "  noloadbalance: " + m.noloadbalance,
                    "  nofailover: false",
                    "");
            try {
                Files.createDirectories(m.dir);
                Files.writeString(m.dir.resolve("patroni.yml"), yml);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + m.name + "'s patroni.yml", e);
            }
        }
    }

    private void startEtcd() {
        Path data = root.resolve("etcd");
        List<String> command = user.command(List.of("/usr/bin/etcd", "--name", "e1", "--data-dir", data.toString(),
                "--listen-client-urls", "http://127.0.0.1:" + etcdClientPort,
                "--advertise-client-urls", "http://127.0.0.1:" + etcdClientPort,
                "--listen-peer-urls", "http://127.0.0.1:" + etcdPeerPort,
                "--initial-advertise-peer-urls", "http://127.0.0.1:" + etcdPeerPort,
                "--initial-cluster", "e1=http://127.0.0.1:" + etcdPeerPort));
        try {
            etcd = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve("etcd.log").toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start etcd", e);
        }
        awaitTrue(Duration.ofSeconds(30), "etcd answering", () -> {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + etcdClientPort + "/health")).timeout(Duration.ofSeconds(2))
                        .GET().build(), HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        });
    }

    private void awaitLeader() {
        awaitTrue(START_TIMEOUT, "a leader", () -> {
            try {
                return leader() != null;
            } catch (UncheckedIOException notYet) {
                return false;
            }
        });
    }

    private void awaitTrue(Duration timeout, String what, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean ok;
            try {
                ok = condition.getAsBoolean();
            } catch (UncheckedIOException notYet) {
                ok = false;
            }
            if (ok) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    /** The member objects of {@code /cluster}. */
    static List<com.fasterxml.jackson.databind.JsonNode> memberObjects(String json) {
        List<com.fasterxml.jackson.databind.JsonNode> out = new ArrayList<>();
        try {
            com.fasterxml.jackson.databind.JsonNode members = JSON.readTree(json).path("members");
            members.forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException("Patroni's /cluster is not JSON", e);
        }
        return out;
    }

    /** A scalar field of one member as text ("" when absent). */
    static String field(com.fasterxml.jackson.databind.JsonNode member, String name) {
        com.fasterxml.jackson.databind.JsonNode v = member.get(name);
        return v == null || v.isNull() ? "" : v.asText();
    }

    private static void signal(String signal, long pid) {
        try {
            new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start().waitFor();
        } catch (IOException e) {
            throw new UncheckedIOException("kill -" + signal + " " + pid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void require(Path binary, String what) {
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " not found: install " + what + " (apt-get install etcd-server"
                    + " patroni postgresql-15; .ci/run does it)");
        }
    }

    /** The newest {@code /usr/lib/postgresql/NN/bin} with {@code postgres}, {@code pg_basebackup} and {@code pg_rewind}. */
    static Path findPostgresBin() {
        Path base = Path.of("/usr/lib/postgresql");
        try (Stream<Path> versions = Files.isDirectory(base) ? Files.list(base) : Stream.empty()) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("postgres")) && Files.isExecutable(b.resolve("pg_basebackup"))
                            && Files.isExecutable(b.resolve("pg_rewind")))
                    .max(Comparator.comparingInt(PatroniCluster::version))
                    .orElseThrow(() -> new IllegalStateException("no PostgreSQL server under /usr/lib/postgresql: install"
                            + " postgresql-15 (Debian; .ci/run does it)"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + base, e);
        }
    }

    private static int version(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** How to start a {@link PatroniCluster}. */
    public static final class Builder {
        private int members = 3;
        private boolean synchronous;
        private final java.util.Set<String> noloadbalance = new java.util.HashSet<>();
        private Path baseDirectory = Path.of(System.getProperty("java.io.tmpdir"));
        private Path pgBin;

        private Builder() {
        }

        /** Number of Patroni nodes (default 3, at least 2). */
        public Builder members(int n) {
            if (n < 2) {
                throw new IllegalArgumentException("a Patroni cluster here needs at least 2 members: " + n);
            }
            this.members = n;
            return this;
        }

        /** Patroni's {@code synchronous_mode} (one synchronous standby, managed by Patroni). */
        public Builder synchronous(boolean on) {
            this.synchronous = on;
            return this;
        }

        /** Tags member {@code name} ({@code pg1..pgN}) {@code noloadbalance}. */
        public Builder noloadbalance(String name) {
            this.noloadbalance.add(name);
            return this;
        }

        public Builder baseDirectory(Path dir) {
            this.baseDirectory = dir;
            return this;
        }

        /** The PostgreSQL bin directory (default: the newest Debian one under {@code /usr/lib/postgresql}). */
        public Builder postgresBin(Path bin) {
            this.pgBin = bin;
            return this;
        }

        public PatroniCluster start() {
            return new PatroniCluster(this);
        }
    }
}

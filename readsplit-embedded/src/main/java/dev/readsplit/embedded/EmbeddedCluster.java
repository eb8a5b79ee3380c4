package dev.readsplit.embedded;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real PostgreSQL primary and N hot standbys with streaming replication, on loopback ports, from
 * the server binaries that Maven Central ships. For tests, benchmarks and the demo.
 *
 * <pre>{@code
 * try (EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(2).start()) {
 *     String url = cluster.primary().jdbcUrl();
 *     cluster.standby(0).kill();
 * }
 * }</pre>
 *
 * <p>Standbys are made from a base backup of the <em>running</em> primary, taken at the SQL level
 * ({@code pg_backup_start()} / a file copy / {@code pg_backup_stop()}) because the binaries ship no
 * {@code pg_basebackup}; each standby has its own physical replication slot, so the primary keeps the
 * WAL it needs however long it is down.
 *
 * <p>Lifecycle: {@link #close()} (or the JVM shutdown hook, if the JVM exits first) stops every server
 * and deletes every directory. A cluster left behind by a JVM that was killed outright is reaped by the
 * next cluster that starts in the same base directory.
 */
public final class EmbeddedCluster implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedCluster.class);
    private static final String DIR_PREFIX = "readsplit-cluster-";
    private static final String OWNER_FILE = "owner.pid";

    private final Builder settings;
    private final PostgresBinaries binaries;
    private final ServerUser serverUser;
    private final Path root;
    private final List<EmbeddedNode> nodes = new CopyOnWriteArrayList<>();
    private final LoopbackPorts ports = LoopbackPorts.forThisMachine(new java.util.SplittableRandom());
    private final Thread shutdownHook;
    private int standbySequence;
    private volatile boolean closed;

    private EmbeddedCluster(Builder settings) {
        this.settings = settings.copy();
        this.serverUser = ServerUser.detect();
        Path base = settings.baseDirectory != null ? settings.baseDirectory : defaultBaseDirectory();
        reapOrphans(base);
        this.binaries = PostgresBinaries.unpack(base);
        try {
            this.root = Files.createTempDirectory(base, DIR_PREFIX);
            Files.writeString(root.resolve(OWNER_FILE), Long.toString(ProcessHandle.current().pid()));
            openDirectory(root);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the cluster directory under " + base, e);
        }
        this.shutdownHook = new Thread(this::closeQuietly, "readsplit-embedded-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------------------------------------
    // accessors

    /** The node created as the primary. After a promotion see {@link #currentPrimary()}. */
    public EmbeddedNode primary() {
        return nodes.get(0);
    }

    /** The standbys in creation order (those removed with {@link #removeStandby} are gone). */
    public List<EmbeddedNode> standbys() {
        return List.copyOf(nodes.subList(1, nodes.size()));
    }

    public EmbeddedNode standby(int index) {
        return standbys().get(index);
    }

    public List<EmbeddedNode> nodes() {
        return List.copyOf(nodes);
    }

    public EmbeddedNode node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node named " + name + " in " + nodes));
    }

    /**
     * The running, unpaused node that reports itself primary right now (the original primary until a
     * promotion). When several do (split brain), the one on the highest timeline.
     */
    public EmbeddedNode currentPrimary() {
        EmbeddedNode best = null;
        long bestTimeline = -1;
        for (EmbeddedNode n : nodes) {
            if (!n.isRunning() || n.isPaused()) {
                continue;
            }
            try (Connection c = n.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery(
                         "SELECT pg_is_in_recovery(), (SELECT timeline_id FROM pg_control_checkpoint())")) {
                rs.next();
                if (!rs.getBoolean(1) && rs.getLong(2) > bestTimeline) {
                    best = n;
                    bestTimeline = rs.getLong(2);
                }
            } catch (SQLException e) {
                // not reachable: not the primary we are looking for
            }
        }
        if (best == null) {
            throw new EmbeddedClusterException("no running node reports itself primary: " + nodes);
        }
        return best;
    }

    public String database() {
        return settings.database;
    }

    public String user() {
        return settings.user;
    }

    /** The password, or {@code null} when the cluster uses trust authentication. */
    public String password() {
        return settings.password;
    }

    /** The credentials as pgjdbc connection properties. */
    public Properties credentials() {
        Properties p = new Properties();
        p.setProperty("user", settings.user);
        if (settings.password != null) {
            p.setProperty("password", settings.password);
        }
        return p;
    }

    /**
     * The self-signed certificate every node serves when the cluster was built with {@code ssl(true)} (a
     * client's {@code sslrootcert} for {@code sslmode=verify-ca}); {@code null} otherwise.
     */
    public Path sslCertificate() {
        return settings.ssl ? root.resolve("tls").resolve("server.crt") : null;
    }

    /** The directory holding every node's data directory and log. */
    public Path directory() {
        return root;
    }

    PostgresBinaries binaries() {
        return binaries;
    }

    ServerUser serverUser() {
        return serverUser;
    }

    // ---------------------------------------------------------------------------------------------
    // lifecycle

    private EmbeddedCluster startAll() {
        try {
            log.info("starting embedded PostgreSQL cluster (1 primary + {} standbys) in {} as {}",
                    settings.standbys, root, serverUser.describe());
            if (settings.ssl) {
                createCertificate();
            }
            EmbeddedNode primary = initPrimary();
            nodes.add(primary);
            primary.start();
            createDatabase(primary);
            for (int i = 0; i < settings.standbys; i++) {
                addStandby();
            }
            if (settings.synchronousStandbyNames != null) {
                // only now: with no standby connected yet, every commit would wait forever
                setSynchronousStandbyNames(settings.synchronousStandbyNames);
            }
            return this;
        } catch (RuntimeException e) {
            closeQuietly();
            throw e;
        }
    }

    private EmbeddedNode initPrimary() {
        EmbeddedNode primary = new EmbeddedNode(this, "primary", ports.next(), root.resolve("primary"));
        try {
            Files.createDirectories(primary.directory());
            List<String> initdb = new ArrayList<>(List.of(binaries.bin("initdb").toString(),
                    "-D", primary.dataDirectory().toString(), "-U", settings.user, "-E", "UTF8",
                    "--locale=C", "--no-instructions"));
            Path pwfile = null;
            if (settings.password != null) {
                pwfile = primary.directory().resolve("pwfile");
                Files.writeString(pwfile, settings.password + "\n", StandardCharsets.UTF_8);
                initdb.add("--auth=scram-sha-256");
                initdb.add("--pwfile=" + pwfile);
            } else {
                initdb.add("--auth=trust");
            }
            serverUser.own(primary.directory());
            run(serverUser.command(initdb), primary.directory().resolve("initdb.log"), "initdb");
            if (pwfile != null) {
                Files.deleteIfExists(pwfile);
            }
            Path conf = primary.dataDirectory().resolve("postgresql.conf");
            Files.writeString(conf, commonSettings(), StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
            writeNodeConf(primary, Map.of());
            serverUser.own(primary.directory());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot initialise the primary in " + primary.directory(), e);
        }
        return primary;
    }

    /**
     * A self-signed certificate and key for CN=localhost, made with the {@code openssl} command (the binaries
     * Maven Central ships cannot make one), outside the data directories so that base backups need not copy
     * it; the key is 0600 and owned by the server user, as PostgreSQL requires.
     */
    private void createCertificate() {
        Path tls = root.resolve("tls");
        try {
            Files.createDirectories(tls);
            run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", tls.resolve("server.key").toString(),
                    "-out", tls.resolve("server.crt").toString()), tls.resolve("openssl.log"), "openssl");
            Files.setPosixFilePermissions(tls.resolve("server.key"),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            Files.setPosixFilePermissions(tls.resolve("server.crt"),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            serverUser.own(tls);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the TLS certificate in " + tls
                    + " (is the openssl command installed?)", e);
        }
    }

    private String commonSettings() {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("listen_addresses", "'127.0.0.1'");
        conf.put("unix_socket_directories", "''");
        conf.put("max_connections", "200");
        conf.put("shared_buffers", "64MB");
        conf.put("wal_level", "replica");
        conf.put("max_wal_senders", "20");
        conf.put("max_replication_slots", "20");
        conf.put("hot_standby", "on");
        conf.put("hot_standby_feedback", "on");
        conf.put("wal_receiver_status_interval", "1s");
        conf.put("wal_log_hints", "on");
        // Test clusters: durability against an OS crash is not needed, speed is. A SIGKILLed server
        // loses nothing with fsync off (the kernel still has every write).
        conf.put("fsync", "off");
        conf.put("full_page_writes", "on");
        conf.put("shared_preload_libraries", "'pg_stat_statements'");
        conf.put("track_functions", "'all'");
        conf.put("log_line_prefix", "'%m [%p] %q%a '");
        conf.put("log_min_messages", "warning");
        conf.put("dynamic_shared_memory_type", "posix");
        if (settings.ssl) {
            conf.put("ssl", "on");
            conf.put("ssl_cert_file", quote(root.resolve("tls").resolve("server.crt").toString()));
            conf.put("ssl_key_file", quote(root.resolve("tls").resolve("server.key").toString()));
        }
        conf.putAll(settings.extraSettings);
        StringBuilder sb = new StringBuilder("\n# --- readsplit-embedded ---\n");
        conf.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        sb.append("include_if_exists = 'node.conf'\n");
        return sb.toString();
    }

    /** Per-node settings live in {@code node.conf}, which a base backup does not copy. */
    private static void writeNodeConf(EmbeddedNode node, Map<String, String> extra) throws IOException {
        StringBuilder sb = new StringBuilder("# settings of node ").append(node.name()).append('\n');
        sb.append("port = ").append(node.port()).append('\n');
        sb.append("cluster_name = '").append(node.name()).append("'\n");
        extra.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(node.dataDirectory().resolve("node.conf"), sb.toString(), StandardCharsets.UTF_8);
    }

    private void createDatabase(EmbeddedNode primary) {
        if ("postgres".equals(settings.database)) {
            return;
        }
        try (Connection c = primary.connect("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + quoteIdent(settings.database));
        } catch (SQLException e) {
            throw primary.failure("cannot create database " + settings.database, e);
        }
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        } catch (SQLException e) {
            throw primary.failure("cannot create extension pg_stat_statements", e);
        }
    }

    /**
     * Adds a standby streaming from the current primary, from a base backup taken while the primary
     * serves traffic, and waits until the primary lists it as {@code streaming}.
     */
    public synchronized EmbeddedNode addStandby() {
        ensureOpen();
        EmbeddedNode source = nodes.size() == 1 ? primary() : currentPrimary();
        String name = "standby" + (++standbySequence);
        EmbeddedNode standby = new EmbeddedNode(this, name, ports.next(), root.resolve(name));
        baseBackup(source, standby);
        nodes.add(standby);
        standby.start();
        awaitStreaming(source, standby);
        log.info("standby {} streaming from {} on 127.0.0.1:{}", name, source.name(), standby.port());
        return standby;
    }

    /**
     * Rebuilds {@code old} (typically a primary replaced by a failover, on an older timeline) as a standby of
     * {@code newPrimary}: stops it if it runs, deletes its data directory, takes a fresh base backup of
     * {@code newPrimary} with a physical slot {@code readsplit_<name>} there, starts it and waits until
     * {@code newPrimary} lists it as streaming. The node keeps its name and port.
     */
    public synchronized void rebuildAsStandby(EmbeddedNode old, EmbeddedNode newPrimary) {
        ensureOpen();
        if (!nodes.contains(old) || !nodes.contains(newPrimary) || old == newPrimary) {
            throw new IllegalArgumentException("rebuildAsStandby needs two distinct nodes of this cluster: " + old
                    + ", " + newPrimary);
        }
        old.kill();
        FileTree.deleteQuietly(old.dataDirectory());
        baseBackup(newPrimary, old);
        old.start();
        awaitStreaming(newPrimary, old);
        log.info("{} rebuilt as a standby streaming from {}", old.name(), newPrimary.name());
    }

    /**
     * A base backup of the running {@code source} into {@code standby}'s data directory, taken at the SQL level,
     * with a physical slot for it on {@code source} and a {@code node.conf} pointing it at {@code source}. Settings
     * a repointed standby had stored by {@code ALTER SYSTEM} ({@code primary_conninfo}, {@code primary_slot_name})
     * are not carried over from the source.
     */
    private void baseBackup(EmbeddedNode source, EmbeddedNode standby) {
        String name = standby.name();
        String slot = slotName(name);
        try (Connection c = source.connect("postgres"); Statement s = c.createStatement()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)"
                    + " WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
                ps.setString(1, slot);
                ps.setString(2, slot);
                ps.execute();
            }
            try (ResultSet rs = s.executeQuery("SELECT pg_backup_start('" + name + "', true)")) {
                rs.next();
            }
            Files.createDirectories(standby.directory());
            FileTree.copyLiveDirectory(source.dataDirectory(), standby.dataDirectory(),
                    Set.of("pg_wal", "pg_replslot", "pg_stat_tmp", "pg_dynshmem", "pg_notify", "pg_serial",
                            "pg_snapshots", "pg_subtrans", "log"),
                    Set.of("postmaster.pid", "postmaster.opts", "node.conf", "standby.signal", "backup_label",
                            "tablespace_map", "current_logfiles"));
            Files.createDirectories(standby.dataDirectory().resolve("pg_wal").resolve("archive_status"));
            try (ResultSet rs = s.executeQuery("SELECT labelfile, spcmapfile FROM pg_backup_stop(false)")) {
                rs.next();
                Files.writeString(standby.dataDirectory().resolve("backup_label"), rs.getString(1), StandardCharsets.UTF_8);
                String spcmap = rs.getString(2);
                if (spcmap != null && !spcmap.isEmpty()) {
                    Files.writeString(standby.dataDirectory().resolve("tablespace_map"), spcmap, StandardCharsets.UTF_8);
                }
            }
            Files.createFile(standby.dataDirectory().resolve("standby.signal"));
            Files.setPosixFilePermissions(standby.dataDirectory(),
                    java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            dropAutoConf(standby.dataDirectory().resolve("postgresql.auto.conf"),
                    Set.of("primary_conninfo", "primary_slot_name"));
            writeNodeConf(standby, Map.of(
                    "primary_conninfo", quote(conninfo(source, name)),
                    "primary_slot_name", quote(slot)));
            serverUser.own(standby.directory());
        } catch (SQLException e) {
            FileTree.deleteQuietly(standby.directory());
            dropSlotQuietly(source, slot);
            throw source.failure("base backup for " + name + " failed", e);
        } catch (IOException e) {
            FileTree.deleteQuietly(standby.directory());
            dropSlotQuietly(source, slot);
            throw new UncheckedIOException("base backup for " + name + " failed", e);
        }
    }

    /** Removes the lines setting {@code names} from a copied {@code postgresql.auto.conf}. */
    private static void dropAutoConf(Path autoConf, Set<String> names) throws IOException {
        if (!Files.exists(autoConf)) {
            return;
        }
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(autoConf, StandardCharsets.UTF_8)) {
            String key = line.contains("=") ? line.substring(0, line.indexOf('=')).trim() : "";
            if (!names.contains(key)) {
                kept.add(line);
            }
        }
        Files.write(autoConf, kept, StandardCharsets.UTF_8);
    }

    /**
     * Sets {@code synchronous_standby_names} at run time ({@code ""} turns synchronous replication off), stored on
     * every running node by {@code ALTER SYSTEM} as a shared {@code postgresql.conf} would be: a standby ignores it
     * until it is promoted, and then keeps it, so the cluster stays synchronous across failovers and switchovers.
     * A standby added or rebuilt later inherits it from its source's {@code postgresql.auto.conf}.
     */
    public synchronized void setSynchronousStandbyNames(String names) {
        Objects.requireNonNull(names, "names");
        ensureOpen();
        for (EmbeddedNode n : nodes) {
            if (!n.isRunning() || n.isPaused()) {
                continue;
            }
            try (Connection c = n.connect("postgres"); Statement s = c.createStatement()) {
                s.execute("ALTER SYSTEM SET synchronous_standby_names = " + quote(names));
                s.execute("SELECT pg_reload_conf()");
            } catch (SQLException e) {
                throw n.failure("cannot set synchronous_standby_names", e);
            }
        }
    }

    /** Stops a standby, drops its replication slot and deletes its directory. */
    public synchronized void removeStandby(EmbeddedNode standby) {
        if (standby == primary() || !nodes.contains(standby)) {
            throw new IllegalArgumentException(standby + " is not a standby of this cluster");
        }
        standby.kill();
        nodes.remove(standby);
        try {
            dropSlotQuietly(currentPrimary(), slotName(standby.name()));
        } catch (EmbeddedClusterException noPrimary) {
            // no primary to drop the slot on
        }
        FileTree.deleteQuietly(standby.directory());
    }

    /** The current primary's view of its standbys ({@code pg_stat_replication}), by name. */
    public List<StandbyStatus> standbyStatus() {
        EmbeddedNode target = currentPrimary();
        List<StandbyStatus> rows = new ArrayList<>();
        try (Connection c = target.connect("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT application_name, state, sync_state,"
                     + " coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint"
                     + " FROM pg_stat_replication ORDER BY application_name")) {
            while (rs.next()) {
                rows.add(new StandbyStatus(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4)));
            }
        } catch (SQLException e) {
            throw target.failure("cannot read pg_stat_replication", e);
        }
        return rows;
    }

    /** Waits until {@code primary} lists {@code standby} in {@code pg_stat_replication} as streaming. */
    public void awaitStreaming(EmbeddedNode primary, EmbeddedNode standby) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            try (Connection c = primary.connect("postgres");
                 PreparedStatement ps = c.prepareStatement(
                         "SELECT state FROM pg_stat_replication WHERE application_name = ?")) {
                ps.setString(1, standby.name());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && "streaming".equals(rs.getString(1))) {
                        return;
                    }
                }
            } catch (SQLException e) {
                // primary restarting: keep waiting
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new EmbeddedClusterException("interrupted while waiting for " + standby + " to stream");
            }
        }
        throw standby.failure("not streaming from " + primary.name() + " after 60 s", null);
    }

    /** Stops every server and deletes every directory. Idempotent. */
    @Override
    public void close() {
        closeQuietly();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or has run
        }
    }

    private synchronized void closeQuietly() {
        if (closed) {
            return;
        }
        closed = true;
        // standbys first, so the primary's walsenders are not kept waiting
        List<EmbeddedNode> reverse = new ArrayList<>(nodes);
        java.util.Collections.reverse(reverse);
        for (EmbeddedNode n : reverse) {
            try {
                n.stop();
            } catch (RuntimeException e) {
                try {
                    n.kill();
                } catch (RuntimeException ignored) {
                    // nothing more to do
                }
            }
        }
        FileTree.deleteQuietly(root);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("cluster is closed");
        }
    }

    // ---------------------------------------------------------------------------------------------
    // helpers

    private String conninfo(EmbeddedNode source, String applicationName) {
        StringBuilder sb = new StringBuilder("host=127.0.0.1 port=").append(source.port())
                .append(" user=").append(conninfoValue(settings.user))
                .append(" application_name=").append(applicationName);
        if (settings.password != null) {
            sb.append(" password=").append(conninfoValue(settings.password));
        }
        return sb.toString();
    }

    private static String conninfoValue(String v) {
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private static String quote(String confValue) {
        return "'" + confValue.replace("'", "''") + "'";
    }

    private static String quoteIdent(String ident) {
        return "\"" + ident.replace("\"", "\"\"") + "\"";
    }

    private static String slotName(String nodeName) {
        return "readsplit_" + nodeName;
    }

    private static void dropSlotQuietly(EmbeddedNode primary, String slot) {
        try (Connection c = primary.connect("postgres");
             PreparedStatement ps = c.prepareStatement(
                     "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            ps.execute();
        } catch (SQLException ignored) {
            // the primary is down or the slot is still active; nothing we can do here
        }
    }

    private static void run(List<String> command, Path logFile, String what) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(logFile.toFile()).start();
            if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new EmbeddedClusterException(what + " did not finish within 120 s");
            }
            if (p.exitValue() != 0) {
                throw new EmbeddedClusterException(what + " failed with exit code " + p.exitValue() + ":\n"
                        + Files.readString(logFile, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddedClusterException("interrupted while running " + what, e);
        }
    }

    private static Path defaultBaseDirectory() {
        String configured = System.getProperty("readsplit.embedded.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        // /tmp rather than a tmpdir under /root: the unprivileged server user must be able to reach it
        Path tmp = Path.of(System.getProperty("java.io.tmpdir", "/tmp"));
        return tmp.startsWith("/root") ? Path.of("/tmp") : tmp;
    }

    private static void openDirectory(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /**
     * Kills the servers of clusters whose owning JVM no longer exists (killed outright, so neither
     * {@code close()} nor the shutdown hook ran) and deletes their directories.
     */
    private static void reapOrphans(Path base) {
        if (!Files.isDirectory(base)) {
            return;
        }
        try (var dirs = Files.newDirectoryStream(base, DIR_PREFIX + "*")) {
            for (Path dir : dirs) {
                Path owner = dir.resolve(OWNER_FILE);
                if (!Files.exists(owner)) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(Files.readString(owner).trim());
                } catch (IOException | NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                try (var nodeDirs = Files.newDirectoryStream(dir)) {
                    for (Path nodeDir : nodeDirs) {
                        Path pidFile = nodeDir.resolve("data").resolve("postmaster.pid");
                        if (Files.exists(pidFile)) {
                            try {
                                long postmaster = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
                                ProcessHandle.of(postmaster).ifPresent(h -> {
                                    List<Long> pids = new ArrayList<>();
                                    pids.add(h.pid());
                                    h.descendants().forEach(d -> pids.add(d.pid()));
                                    EmbeddedNode.signal("KILL", pids);
                                });
                            } catch (IOException | RuntimeException ignored) {
                                // not a pid we can read: leave it
                            }
                        }
                    }
                }
                log.info("removed the orphaned embedded cluster {} (owner process {} is gone)", dir, pid);
                FileTree.deleteQuietly(dir);
            }
        } catch (IOException ignored) {
            // best effort
        }
    }

    @Override
    public String toString() {
        return "EmbeddedCluster" + nodes;
    }

    /** Settings of a cluster to start. Each setter checks its argument at once. */
    public static final class Builder {
        private int standbys = 2;
        private String database = "readsplit";
        private String user = "readsplit";
        private String password;
        private String synchronousStandbyNames;
        private final Map<String, String> extraSettings = new LinkedHashMap<>();
        private Path baseDirectory;
        private boolean ssl;

        private Builder() {
        }

        public Builder standbys(int standbys) {
            if (standbys < 0 || standbys > 10) {
                throw new IllegalArgumentException("standbys must be between 0 and 10: " + standbys);
            }
            this.standbys = standbys;
            return this;
        }

        public Builder database(String database) {
            this.database = requireName("database", database);
            return this;
        }

        public Builder user(String user) {
            this.user = requireName("user", user);
            return this;
        }

        /** Enables password authentication (SCRAM-SHA-256) for every connection, replication included. */
        public Builder password(String password) {
            Objects.requireNonNull(password, "password");
            if (password.isEmpty() || password.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("password must be non-empty and on one line");
            }
            this.password = password;
            return this;
        }

        /** A {@code postgresql.conf} setting for every node; {@code value} is written as given. */
        public Builder setting(String name, String value) {
            if (name == null || !name.matches("[a-z_][a-z0-9_.]*")) {
                throw new IllegalArgumentException("not a PostgreSQL setting name: " + name);
            }
            this.extraSettings.put(name, Objects.requireNonNull(value, "value of " + name));
            return this;
        }

        /**
         * {@code synchronous_standby_names}, e.g. {@code "ANY 1 (standby1, standby2)"} or {@code "*"}, set once the
         * standbys stream and kept by every node (see {@link EmbeddedCluster#setSynchronousStandbyNames}).
         */
        public Builder synchronousStandbyNames(String names) {
            this.synchronousStandbyNames = Objects.requireNonNull(names, "synchronousStandbyNames");
            return this;
        }

        /**
         * TLS on every node ({@code ssl=on}) with a self-signed certificate for CN=localhost made by the
         * {@code openssl} command at start; see {@link EmbeddedCluster#sslCertificate()}.
         */
        public Builder ssl(boolean on) {
            this.ssl = on;
            return this;
        }

        /** Where the binaries are unpacked and node directories are created (default: the temp dir). */
        public Builder baseDirectory(Path dir) {
            this.baseDirectory = Objects.requireNonNull(dir, "baseDirectory");
            return this;
        }

        public EmbeddedCluster start() {
            return new EmbeddedCluster(this).startAll();
        }

        /** The cluster keeps its own copy: changing the builder later changes nothing that runs. */
        private Builder copy() {
            Builder b = new Builder();
            b.standbys = standbys;
            b.database = database;
            b.user = user;
            b.password = password;
            b.synchronousStandbyNames = synchronousStandbyNames;
            b.extraSettings.putAll(extraSettings);
            b.baseDirectory = baseDirectory;
            b.ssl = ssl;
            return b;
        }

        private static String requireName(String what, String value) {
            if (value == null || !value.matches("[A-Za-z_][A-Za-z0-9_]{0,62}")) {
                throw new IllegalArgumentException(what + " must be a simple identifier: " + value);
            }
            return value;
        }
    }
}

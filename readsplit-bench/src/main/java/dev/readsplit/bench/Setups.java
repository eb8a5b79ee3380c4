package dev.readsplit.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.readsplit.Consistency;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The setups {@link MacroBenchmark} compares. Each hands out connections the way its own user would write
 * the code: {@link Setup#read()} for an autocommit read, {@link Setup#write()} for a write and
 * {@link Setup#readOnlyTransaction()} for a connection the caller then puts in
 * {@code setReadOnly(true)}/{@code setAutoCommit(false)}.
 *
 * <p>Every setup holds the same number of server connections: {@code primaryConns} on the primary and
 * {@code replicaConns} on each replica (fixed-size pools, {@code minimumIdle = maximumPoolSize}), except
 * where the peer decides the split itself (pgjdbc's multi-host URL spreads one pool over the replicas).
 */
final class Setups {

    private Setups() {
    }

    interface Setup extends AutoCloseable {
        String name();

        /** How this setup's server connections are split over the nodes, for the report. */
        String connections();

        Connection read() throws SQLException;

        Connection write() throws SQLException;

        Connection readOnlyTransaction() throws SQLException;

        @Override
        void close();
    }

    static final List<String> ALL = List.of("primary-pool", "replica-pool", "hand-routed", "readsplit",
            "readsplit-round-robin", "readsplit-affinity", "readsplit-affinity-eventual", "readsplit-eventual", "readsplit-connection-scope", "readsplit-no-wait", "shardingsphere", "pgjdbc-multihost", "aws-wrapper",
            "aws-wrapper-hikari");

    /**
     * @param singlePool server connections of the setups that read from one pool on one node ({@code primary-pool},
     *                   {@code replica-pool}): the per-node count when every node gets the same number, otherwise
     *                   what the splitters hold on the replicas together (see {@link MacroBenchmark})
     */
    static Setup create(String name, EmbeddedCluster cluster, int primaryConns, int replicaConns, int singlePool)
            throws Exception {
        return switch (name) {
            case "primary-pool" -> primaryPool(cluster, singlePool);
            case "replica-pool" -> replicaPool(cluster, primaryConns, singlePool);
            case "readsplit-round-robin" -> readsplit(name, cluster, primaryConns, replicaConns,
                    Consistency.readYourWrites(), dev.readsplit.balance.BalancerKind.ROUND_ROBIN);
            case "readsplit-affinity" -> readsplit(name, cluster, primaryConns, replicaConns,
                    Consistency.readYourWrites(), dev.readsplit.balance.BalancerKind.AFFINITY);
            case "readsplit-affinity-eventual" -> readsplit(name, cluster, primaryConns, replicaConns,
                    Consistency.eventual(), dev.readsplit.balance.BalancerKind.AFFINITY);
            case "aws-wrapper-hikari" -> awsWrapperExternalPool(cluster, cluster.standbys().size() * replicaConns);
            case "hand-routed" -> handRouted(cluster, primaryConns, replicaConns);
            case "readsplit" -> readsplit(name, cluster, primaryConns, replicaConns, Consistency.readYourWrites());
            case "readsplit-eventual" -> readsplit(name, cluster, primaryConns, replicaConns, Consistency.eventual());
            case "readsplit-connection-scope" -> readsplit(name, cluster, primaryConns, replicaConns,
                    Consistency.readYourWrites(), null, dev.readsplit.consistency.CausalScope.CONNECTION);
            case "readsplit-no-wait" -> readsplit(name, cluster, primaryConns, replicaConns,
                    Consistency.readYourWrites(), null, null, java.time.Duration.ZERO);
            case "shardingsphere" -> shardingSphere(cluster, primaryConns, replicaConns);
            case "pgjdbc-multihost" -> multiHost(cluster, primaryConns, replicaConns);
            case "aws-wrapper" -> awsWrapper(cluster, primaryConns, replicaConns);
            default -> throw new IllegalArgumentException("unknown setup: " + name + " (known: " + ALL + ")");
        };
    }

    static HikariDataSource pool(String name, String url, EmbeddedCluster cluster, int size) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(name);
        hc.setJdbcUrl(url);
        hc.setUsername(cluster.user());
        if (cluster.password() != null) {
            hc.setPassword(cluster.password());
        }
        hc.setMaximumPoolSize(size);
        hc.setMinimumIdle(size);
        hc.addDataSourceProperty("ApplicationName", name);
        return new HikariDataSource(hc);
    }

    /** No splitting at all: one HikariCP pool on the primary for reads and writes (the issue-16 baseline). */
    static Setup primaryPool(EmbeddedCluster cluster, int size) {
        HikariDataSource pool = pool("primary-pool", cluster.primary().jdbcUrl(), cluster, size);
        return split("primary-pool", "one HikariCP pool of " + size + " on the primary, reads and writes"
                + " (no splitting)", pool, pool, pool::close);
    }

    /**
     * The ceiling for a splitter on this box: every read from one HikariCP pool on one replica (no node switch
     * ever, no routing), writes from a pool on the primary.
     */
    static Setup replicaPool(EmbeddedCluster cluster, int primaryConns, int size) {
        HikariDataSource reads = pool("replica-pool", cluster.standby(0).jdbcUrl(), cluster, size);
        HikariDataSource writes = pool("replica-pool-primary", cluster.primary().jdbcUrl(), cluster, primaryConns);
        String connections = "one HikariCP pool of " + size + " on " + cluster.standby(0).name()
                + " for every read, " + primaryConns + " on the primary for writes";
        return split("replica-pool", connections, reads, writes, () -> closeAll(reads, writes));
    }

    /** The ideal: one pool per node, the benchmark itself picks the primary or the next replica. */
    static Setup handRouted(EmbeddedCluster cluster, int primaryConns, int replicaConns) {
        HikariDataSource primary = pool("hand-primary", cluster.primary().jdbcUrl(), cluster, primaryConns);
        List<HikariDataSource> replicas = new ArrayList<>();
        for (EmbeddedNode s : cluster.standbys()) {
            replicas.add(pool("hand-" + s.name(), s.jdbcUrl(), cluster, replicaConns));
        }
        HikariDataSource[] rs = replicas.toArray(new HikariDataSource[0]);
        AtomicInteger next = new AtomicInteger();
        return new Setup() {
            public String name() {
                return "hand-routed";
            }

            public String connections() {
                return "HikariCP per node: primary " + primaryConns + ", each replica " + replicaConns;
            }

            public Connection read() throws SQLException {
                return rs[Math.floorMod(next.getAndIncrement(), rs.length)].getConnection();
            }

            public Connection write() throws SQLException {
                return primary.getConnection();
            }

            public Connection readOnlyTransaction() throws SQLException {
                return read();
            }

            public void close() {
                primary.close();
                replicas.forEach(HikariDataSource::close);
            }
        };
    }

    static Setup readsplit(String name, EmbeddedCluster cluster, int primaryConns, int replicaConns,
                           Consistency consistency) {
        return readsplit(name, cluster, primaryConns, replicaConns, consistency, null);
    }

    /** @param balancer the balancer, or null for the default */
    static Setup readsplit(String name, EmbeddedCluster cluster, int primaryConns, int replicaConns,
                           Consistency consistency, dev.readsplit.balance.BalancerKind balancer) {
        return readsplit(name, cluster, primaryConns, replicaConns, consistency, balancer, null);
    }

    /**
     * @param balancer the balancer, or null for the default
     * @param scope    whose writes a read must see, or null for the default ({@code thread}); {@code connection} is
     *                 the scope of the runs before 2026-12-01, when each operation's own connection was its session
     */
    static Setup readsplit(String name, EmbeddedCluster cluster, int primaryConns, int replicaConns,
                           Consistency consistency, dev.readsplit.balance.BalancerKind balancer,
                           dev.readsplit.consistency.CausalScope scope) {
        return readsplit(name, cluster, primaryConns, replicaConns, consistency, balancer, scope, null);
    }

    /** @param rywWait {@code readYourWritesWait}, or null for the default (0: a read not yet replayed goes to the primary) */
    static Setup readsplit(String name, EmbeddedCluster cluster, int primaryConns, int replicaConns,
                           Consistency consistency, dev.readsplit.balance.BalancerKind balancer,
                           dev.readsplit.consistency.CausalScope scope, java.time.Duration rywWait) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name(name)
                .primary(cluster.primary().host(), cluster.primary().port())
                .database(cluster.database()).user(cluster.user())
                .primaryPoolSize(primaryConns).replicaPoolSize(replicaConns)
                .minIdle(Math.min(primaryConns, replicaConns))
                .consistency(consistency);
        if (balancer != null) {
            b.balancer(balancer);
        }
        if (scope != null) {
            b.causalScope(scope);
        }
        if (rywWait != null) {
            b.readYourWritesWait(rywWait);
        }
        if (cluster.password() != null) {
            b.password(cluster.password());
        }
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(s.host(), s.port());
        }
        ReadsplitConfig config = b.build();
        ReadsplitDataSource ds = new ReadsplitDataSource(config);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && !ds.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0)) {
            MacroBenchmark.sleep(50);
        }
        String connections = "Readsplit's pools: primary " + primaryConns + ", each replica " + replicaConns
                + " (+1 health-check connection per node, idle between 1-s checks"
                + (config.routing().consistency().level() == Consistency.Level.READ_YOUR_WRITES
                ? "; at most +1 position connection per node, for the WAL positions of reads after writes when"
                + " the node's pool has none idle" : "")
                + "); balancer "
                + config.routing().balancer() + ", " + config.routing().consistency() + ", causal scope "
                + config.routing().causalScope()
                + (rywWait != null ? ", readYourWritesWait " + rywWait.toMillis() + " ms" : "");
        return split(name, connections, ds, ds, ds::close);
    }

    /** pgjdbc's multi-host URL for reads (it spreads the read pool over the replicas), a primary pool for writes. */
    static Setup multiHost(EmbeddedCluster cluster, int primaryConns, int replicaConns) {
        StringBuilder hosts = new StringBuilder();
        for (EmbeddedNode s : cluster.standbys()) {
            hosts.append(hosts.length() == 0 ? "" : ",").append(s.host()).append(':').append(s.port());
        }
        int readConns = replicaConns * cluster.standbys().size();
        String url = "jdbc:postgresql://" + hosts + "/" + cluster.database()
                + "?targetServerType=preferSecondary&loadBalanceHosts=true";
        HikariDataSource reads = pool("multihost-read", url, cluster, readConns);
        HikariDataSource writes = pool("multihost-write", cluster.primary().jdbcUrl(), cluster, primaryConns);
        String connections = "write pool " + primaryConns + " on the primary; one read pool of " + readConns
                + " over a multi-host URL (pgjdbc picks a random replica per new connection)";
        return split("pgjdbc-multihost", connections, reads, writes, () -> closeAll(reads, writes));
    }

    /**
     * Apache ShardingSphere-JDBC read/write splitting, configured through its YAML API: one HikariCP data
     * source per node, round-robin over the replicas. {@code transactionalReadQueryStrategy: FIXED} so that
     * a read-only transaction runs on one replica (the default, PRIMARY, would send every transaction to
     * the primary); this workload has no read-write transactions, where FIXED would also send reads to a
     * replica.
     */
    static Setup shardingSphere(EmbeddedCluster cluster, int primaryConns, int replicaConns) throws Exception {
        StringBuilder y = new StringBuilder();
        y.append("databaseName: bench\n");
        y.append("mode:\n  type: Standalone\n");
        y.append("dataSources:\n");
        appendSsDataSource(y, "primary_ds", cluster.primary(), cluster, primaryConns);
        List<String> readNames = new ArrayList<>();
        for (int i = 0; i < cluster.standbys().size(); i++) {
            String n = "replica_ds_" + i;
            readNames.add(n);
            appendSsDataSource(y, n, cluster.standby(i), cluster, replicaConns);
        }
        y.append("rules:\n");
        y.append("- !READWRITE_SPLITTING\n");
        y.append("  dataSourceGroups:\n");
        y.append("    readwrite_ds:\n");
        y.append("      writeDataSourceName: primary_ds\n");
        y.append("      readDataSourceNames:\n");
        for (String n : readNames) {
            y.append("        - ").append(n).append('\n');
        }
        y.append("      transactionalReadQueryStrategy: FIXED\n");
        y.append("      loadBalancerName: round_robin\n");
        y.append("  loadBalancers:\n");
        y.append("    round_robin:\n");
        y.append("      type: ROUND_ROBIN\n");
        // without a SINGLE rule 5.5.x knows no table and refuses every statement (TableNotFoundException)
        y.append("- !SINGLE\n  tables:\n    - \"*.*.*\"\n");
        y.append("props:\n  sql-show: false\n");
        DataSource ds = org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory
                .createDataSource(y.toString().getBytes(StandardCharsets.UTF_8));
        return new Setup() {
            public String name() {
                return "shardingsphere";
            }

            public String connections() {
                return "ShardingSphere's HikariCP data sources: primary " + primaryConns + ", each replica " + replicaConns;
            }

            public Connection read() throws SQLException {
                return ds.getConnection();
            }

            public Connection write() throws SQLException {
                return ds.getConnection();
            }

            public Connection readOnlyTransaction() throws SQLException {
                return ds.getConnection();
            }

            public void close() {
                try {
                    ((AutoCloseable) ds).close();
                } catch (Exception e) {
                    System.err.println("shardingsphere close: " + e);
                }
            }
        };
    }

    private static void appendSsDataSource(StringBuilder y, String name, EmbeddedNode node, EmbeddedCluster cluster, int size) {
        y.append("  ").append(name).append(":\n");
        y.append("    dataSourceClassName: com.zaxxer.hikari.HikariDataSource\n");
        y.append("    driverClassName: org.postgresql.Driver\n");
        y.append("    jdbcUrl: ").append(node.jdbcUrl()).append('\n');
        y.append("    username: ").append(cluster.user()).append('\n');
        if (cluster.password() != null) {
            y.append("    password: ").append(cluster.password()).append('\n');
        }
        y.append("    maximumPoolSize: ").append(size).append('\n');
        y.append("    minimumIdle: ").append(size).append('\n');
    }

    /** Marks the connections of {@link #awsWrapperExternalPool}, so {@link #awsWrapper}'s internal pools refuse them. */
    static final String AWS_EXTERNAL_POOL_MARK = "readsplitBenchExternalPool";

    /**
     * The AWS wrapper the way most of its users run it: behind an application-side HikariCP pool whose connections
     * are wrapper connections (readWriteSplitting plugin, same host list and reader strategy as {@link #awsWrapper}),
     * no internal pools. A read borrows a wrapper connection and calls {@code setReadOnly(true)}: the plugin
     * switches to the reader connection it keeps for that wrapper connection (opened at its first read), and
     * HikariCP's reset on return switches it back to the writer. So each pooled wrapper connection holds a writer
     * and a reader backend: {@code size} on the primary and {@code size} over the readers.
     */
    static Setup awsWrapperExternalPool(EmbeddedCluster cluster, int size) throws Exception {
        Class.forName("software.amazon.jdbc.Driver");
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("aws-wrapper-hikari");
        hc.setDriverClassName("software.amazon.jdbc.Driver");
        hc.setJdbcUrl(awsUrl(cluster));
        hc.setUsername(cluster.user());
        if (cluster.password() != null) {
            hc.setPassword(cluster.password());
        }
        hc.setMaximumPoolSize(size);
        hc.setMinimumIdle(size);
        awsProperties(cluster).forEach((k, v) -> hc.addDataSourceProperty((String) k, v));
        hc.addDataSourceProperty(AWS_EXTERNAL_POOL_MARK, "true");
        HikariDataSource pool = new HikariDataSource(hc);
        return new Setup() {
            public String name() {
                return "aws-wrapper-hikari";
            }

            public String connections() {
                return "HikariCP pool of " + size + " wrapper connections (no internal pools): " + size
                        + " writer backends on the primary, " + size + " reader backends spread by the wrapper";
            }

            public Connection read() throws SQLException {
                Connection c = pool.getConnection();
                c.setReadOnly(true);
                return c;
            }

            public Connection write() throws SQLException {
                return pool.getConnection();
            }

            public Connection readOnlyTransaction() throws SQLException {
                return pool.getConnection();
            }

            public void close() {
                pool.close();
            }
        };
    }

    private static String awsUrl(EmbeddedCluster cluster) {
        StringBuilder url = new StringBuilder("jdbc:aws-wrapper:postgresql://")
                .append(cluster.primary().host()).append(':').append(cluster.primary().port());
        for (EmbeddedNode s : cluster.standbys()) {
            url.append(',').append(s.host()).append(':').append(s.port());
        }
        return url.append('/').append(cluster.database()).toString();
    }

    /** The wrapper's properties shared by both AWS setups (user and password apart). */
    private static Properties awsProperties(EmbeddedCluster cluster) {
        Properties p = new Properties();
        p.setProperty("wrapperPlugins", "readWriteSplitting");
        p.setProperty("wrapperDialect", "pg");
        // "random": with the connection-string host list, "roundRobin" sent every read to the first reader
        // (measured on the servers: 100 % / 0 %); -Dbench.aws.strategy=roundRobin to see it again
        p.setProperty("readerHostSelectorStrategy", System.getProperty("bench.aws.strategy", "random"));
        p.setProperty(software.amazon.jdbc.hostlistprovider.ConnectionStringHostListProvider
                .SINGLE_WRITER_CONNECTION_STRING.name, "true");
        return p;
    }

    /**
     * The AWS Advanced JDBC Wrapper's readWriteSplitting plugin on plain PostgreSQL: the connection-string
     * host list (first host the writer, the others readers), random reader choice (see below), and the wrapper's
     * internal HikariCP pools (one per node, sized like every other setup) so that a switch to a reader
     * borrows a pooled connection instead of opening one. A read is {@code setReadOnly(true)} first: the
     * plugin routes on that alone.
     */
    static Setup awsWrapper(EmbeddedCluster cluster, int primaryConns, int replicaConns) throws Exception {
        Class.forName("software.amazon.jdbc.Driver");
        String primaryHostPort = cluster.primary().host() + ":" + cluster.primary().port();
        software.amazon.jdbc.HikariPooledConnectionProvider provider = new software.amazon.jdbc.HikariPooledConnectionProvider(
                (hostSpec, props) -> {
                    HikariConfig hc = new HikariConfig();
                    boolean writer = (hostSpec.getHost() + ":" + hostSpec.getPort()).equals(primaryHostPort);
                    int size = writer ? primaryConns : replicaConns;
                    hc.setMaximumPoolSize(size);
                    hc.setMinimumIdle(size);
                    return hc;
                },
                // the provider is JVM-wide: leave the external-pool setup's connections unpooled
                null, (hostSpec, props) -> props.getProperty(AWS_EXTERNAL_POOL_MARK) == null,
                TimeUnit.MINUTES.toNanos(30), TimeUnit.MINUTES.toNanos(30));
        software.amazon.jdbc.ConnectionProviderManager.setConnectionProvider(provider);
        Properties p = awsProperties(cluster);
        p.setProperty("user", cluster.user());
        if (cluster.password() != null) {
            p.setProperty("password", cluster.password());
        }
        String jdbcUrl = awsUrl(cluster);
        java.sql.Driver driver = java.sql.DriverManager.getDriver(jdbcUrl);
        return new Setup() {
            public String name() {
                return "aws-wrapper";
            }

            public String connections() {
                return "wrapper's internal HikariCP pools: writer " + primaryConns + ", each reader " + replicaConns
                        + "; no outer pool (each wrapper connection borrows from them)";
            }

            public Connection read() throws SQLException {
                Connection c = driver.connect(jdbcUrl, p);
                c.setReadOnly(true);
                return c;
            }

            public Connection write() throws SQLException {
                return driver.connect(jdbcUrl, p);
            }

            public Connection readOnlyTransaction() throws SQLException {
                return driver.connect(jdbcUrl, p);
            }

            public void close() {
                provider.releaseResources();
                software.amazon.jdbc.ConnectionProviderManager.resetProvider();
            }
        };
    }

    /**
     * A setup that takes reads and read-only transactions from {@code reads} and writes from {@code writes} (the
     * same data source where nothing is split); {@code close} releases what it opened.
     */
    private static Setup split(String name, String connections, DataSource reads, DataSource writes, Runnable close) {
        return new Setup() {
            public String name() {
                return name;
            }

            public String connections() {
                return connections;
            }

            public Connection read() throws SQLException {
                return reads.getConnection();
            }

            public Connection write() throws SQLException {
                return writes.getConnection();
            }

            public Connection readOnlyTransaction() throws SQLException {
                return reads.getConnection();
            }

            public void close() {
                close.run();
            }
        };
    }

    private static void closeAll(HikariDataSource... pools) {
        for (HikariDataSource p : pools) {
            p.close();
        }
    }
}

package dev.readsplit.proxy;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Secret;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.NodeState;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The proxy as an operator sees it, on a real primary and standby, driven by pgjdbc: its status and Micrometer meters
 * (clients active and idle, refused over the limit, failed logins, backends per node in use and idle, statements per
 * node with placement asked of the server, bytes and errors), and its graceful shutdown.
 */
class ProxyStatusIT {

    static final String PASSWORD = "status-pw-9";
    static EmbeddedCluster cluster;
    static ReadsplitDataSource ds;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).password("cluster-pw-72").start();
        ds = new ReadsplitDataSource(ReadsplitConfig.builder().name("statusit")
                .primary(cluster.primary().host(), cluster.primary().port())
                .addReplica(cluster.standby(0).host(), cluster.standby(0).port())
                .database(cluster.database()).user(cluster.user()).password(cluster.password())
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000)).build());
        await().atMost(Duration.ofSeconds(30)).until(() -> ds.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
    }

    @AfterAll
    static void stop() {
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static int port(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    static double gauge(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).gauge().value();
    }

    static double counter(MeterRegistry r, String name, String... tags) {
        return r.get(name).tags(tags).functionCounter().count();
    }

    @Test
    void clientsBackendsStatementsBytesAndErrorsAreCountedAndServed() throws Exception {
        NodeView primary = ds.topology().primary();
        NodeView replica = ds.topology().replicas().get(0);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (ProxyServer p = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0").maxClients(3)
                .user("app", Secret.of(PASSWORD)).build())) {
            p.metrics().bindTo(registry);
            String url = "jdbc:postgresql://127.0.0.1:" + p.address().getPort() + "/" + cluster.database()
                    + "?sslmode=disable";
            assertThat(assertThrows(SQLException.class, () -> DriverManager.getConnection(url, "app", "wrong"))
                    .getSQLState()).isEqualTo("28P01");
            try (Connection idle = DriverManager.getConnection(url, "app", PASSWORD);
                 Connection reader = DriverManager.getConnection(url, "app", PASSWORD);
                 Connection writer = DriverManager.getConnection(url, "app", PASSWORD);
                 Statement r = reader.createStatement(); Statement w = writer.createStatement()) {
                SQLException refused = assertThrows(SQLException.class, () -> DriverManager.getConnection(url, "app",
                        PASSWORD));
                assertThat(refused.getSQLState()).isEqualTo("53300");
                int reads = 0;
                for (int i = 0; i < 5; i++) {
                    if (port(r, "SELECT inet_server_port()") == cluster.standby(0).port()) {
                        reads++;
                    }
                }
                writer.setAutoCommit(false);
                assertThat(port(w, "SELECT inet_server_port()")).isEqualTo(cluster.primary().port()); // in a transaction
                assertThrows(SQLException.class, () -> r.execute("SELECT * FROM no_such_table"));

                final int readsOnReplica = reads;
                // a worker marks its client idle just after the answer went out: asked until settled
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                    ProxyStatus s = p.status();
                    assertThat(s.clients().total()).isEqualTo(3);
                    assertThat(s.clients().active()).isEqualTo(1); // the writer, inside its transaction
                    assertThat(s.clients().idle()).isEqualTo(2);
                    assertThat(s.clients().login()).isZero();
                    assertThat(s.clients().max()).isEqualTo(3);
                    assertThat(s.clients().refused()).isEqualTo(1);
                    assertThat(s.clients().loginFailures()).isEqualTo(1);
                    assertThat(s.clients().accepted()).isEqualTo(4); // the refused one never got a slot
                    ProxyStatus.NodeBackends onPrimary = node(s, primary.name());
                    ProxyStatus.NodeBackends onReplica = node(s, replica.name());
                    assertThat(onReplica.statements()).isGreaterThanOrEqualTo(readsOnReplica).isGreaterThan(0);
                    assertThat(onPrimary.statements()).isGreaterThanOrEqualTo(1);
                    // held by sessions: the writer's primary backend at least, the reader's replica backend
                    assertThat(onPrimary.inUse()).isGreaterThanOrEqualTo(1);
                    assertThat(onReplica.inUse()).isGreaterThanOrEqualTo(1);
                    assertThat(s.errorsToClients()).isGreaterThanOrEqualTo(2); // the bad table, the wrong password
                    assertThat(s.bytesReceived()).isPositive();
                    assertThat(s.bytesSent()).isPositive();
                    assertThat(s.poolMode()).isEqualTo("session");
                    assertThat(s.toJson()).contains("\"active\":1", "\"idle\":2", "\"refused\":1", "\"poolMode\":\"session\"",
                            "\"node\":\"" + replica.name() + "\"").doesNotContain(PASSWORD);

                    assertThat(gauge(registry, "readsplit.proxy.clients", "state", "active")).isEqualTo(1);
                    assertThat(gauge(registry, "readsplit.proxy.clients", "state", "idle")).isEqualTo(2);
                    assertThat(counter(registry, "readsplit.proxy.clients.refused")).isEqualTo(1);
                    assertThat(counter(registry, "readsplit.proxy.logins.failed")).isEqualTo(1);
                    assertThat(counter(registry, "readsplit.proxy.statements", "node", replica.name()))
                            .isEqualTo(onReplica.statements());
                    assertThat(gauge(registry, "readsplit.proxy.backends", "node", primary.name(), "state", "in_use"))
                            .isGreaterThanOrEqualTo(1);
                    assertThat(counter(registry, "readsplit.proxy.bytes", "direction", "sent")).isPositive();
                    assertThat(counter(registry, "readsplit.proxy.errors", "kind", "to_client")).isGreaterThanOrEqualTo(2);
                });
                writer.commit();
            }
            // every client gone: their backends are idle in the pool, none in use
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                ProxyStatus s = p.status();
                assertThat(s.clients().total()).isZero();
                assertThat(node(s, primary.name()).inUse()).isZero();
                assertThat(node(s, replica.name()).inUse()).isZero();
                assertThat(node(s, replica.name()).idle()).isPositive();
                assertThat(gauge(registry, "readsplit.proxy.backends", "node", replica.name(), "state", "idle"))
                        .isPositive();
            });
        }
    }

    /**
     * A graceful shutdown: close() stops accepting at once, closes an idle client at once with 57P01 and one still
     * logging in with 57P03; a client inside a transaction goes on until its COMMIT (which commits, asked of the
     * server), is closed right after, and only then does close() return (well within its 60-s drain timeout).
     */
    @Test
    void closingTheProxyLetsAnOpenTransactionCommitAndClosesIdleClientsAtOnce() throws Exception {
        exec("CREATE TABLE IF NOT EXISTS drained (id int PRIMARY KEY)");
        ProxyServer p = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0")
                .user("app", Secret.of(PASSWORD)).drainTimeout(Duration.ofSeconds(60)).build());
        java.util.concurrent.CompletableFuture<Void> closing = null;
        try {
            String url = "jdbc:postgresql://127.0.0.1:" + p.address().getPort() + "/" + cluster.database()
                    + "?sslmode=disable";
            try (Connection idle = DriverManager.getConnection(url, "app", PASSWORD);
                 Connection tx = DriverManager.getConnection(url, "app", PASSWORD);
                 RawClient halfLoggedIn = new RawClient(p.address().getPort());
                 Statement i = idle.createStatement(); Statement t = tx.createStatement()) {
                assertThat(port(i, "SELECT inet_server_port()")).isPositive();
                tx.setAutoCommit(false);
                t.executeUpdate("INSERT INTO drained VALUES (1)");
                // a client asked for its password that never answers holds no transaction: it must not hold the
                // shutdown up for the whole drain timeout either
                halfLoggedIn.startupPacket(196608, ("user\0app\0database\0" + cluster.database() + "\0\0")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
                assertThat(halfLoggedIn.read().type()).isEqualTo((byte) 'R');
                closing = java.util.concurrent.CompletableFuture.runAsync(p::close);
                Msg refused = halfLoggedIn.read();
                assertThat(refused.type()).isEqualTo((byte) 'E');
                assertThat(refused.field('C')).isEqualTo("57P03");
                // the idle client is closed without waiting for the transaction, as PostgreSQL closes its sessions
                SQLException idleClosed = await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try {
                        i.execute("SELECT 1");
                        return null;
                    } catch (SQLException e) {
                        return e;
                    }
                }, e -> e != null);
                assertThat(idleClosed.getSQLState()).as(idleClosed.toString()).isEqualTo("57P01");
                assertThat(idleClosed.getMessage()).contains("shutting down");
                // no one new gets in
                assertThrows(SQLException.class, () -> DriverManager.getConnection(url, "app", PASSWORD));
                // the transaction goes on, commits, and its client is closed after it
                assertThat(closing).isNotDone();
                t.executeUpdate("INSERT INTO drained VALUES (2)");
                tx.commit();
                closing.get(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThrows(SQLException.class, () -> t.execute("SELECT 1"));
            }
            assertThat(countOnPrimary("SELECT count(*) FROM drained WHERE id IN (1, 2)")).isEqualTo(2);
        } finally {
            if (closing == null) {
                p.close();
            }
        }
    }

    /**
     * A transaction still open after drainTimeout: close() returns then, the client is closed, and what it did is
     * rolled back (asked of the server).
     */
    @Test
    void aTransactionStillOpenAfterTheDrainTimeoutIsClosedAndRolledBack() throws Exception {
        exec("CREATE TABLE IF NOT EXISTS drained (id int PRIMARY KEY)");
        ProxyServer p = ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0")
                .user("app", Secret.of(PASSWORD)).drainTimeout(Duration.ofMillis(300)).build());
        String url = "jdbc:postgresql://127.0.0.1:" + p.address().getPort() + "/" + cluster.database()
                + "?sslmode=disable";
        try (Connection tx = DriverManager.getConnection(url, "app", PASSWORD); Statement t = tx.createStatement()) {
            tx.setAutoCommit(false);
            t.executeUpdate("INSERT INTO drained VALUES (3)");
            p.close();
            assertThrows(SQLException.class, () -> t.executeUpdate("INSERT INTO drained VALUES (4)"));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> countOnPrimary(
                "SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'") == 0);
        assertThat(countOnPrimary("SELECT count(*) FROM drained WHERE id IN (3, 4)")).isZero();
    }

    static void exec(String sql) throws SQLException {
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static long countOnPrimary(String sql) throws SQLException {
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static ProxyStatus.NodeBackends node(ProxyStatus s, String name) {
        return s.nodes().stream().filter(n -> n.node().equals(name)).findFirst().orElseThrow();
    }
}

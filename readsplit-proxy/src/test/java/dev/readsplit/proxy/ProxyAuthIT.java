package dev.readsplit.proxy;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Secret;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Client authentication of the proxy on a real primary and standby, with real clients (psql with {@code PGPASSWORD},
 * pgjdbc): md5 and SCRAM-SHA-256 against a user list (plain passwords, md5 hashes, a SCRAM verifier copied from
 * {@code pg_authid}), and pass-through, where the primary checks the password and the backends, asked with
 * {@code current_user} and {@code pg_stat_activity}, run as the client's user.
 */
class ProxyAuthIT {

    static EmbeddedCluster cluster;
    static ReadsplitDataSource ds;
    static int standbyPort;

    @BeforeAll
    static void start() throws Exception {
        cluster = EmbeddedCluster.builder().standbys(1).password("cluster-pw-71").start();
        standbyPort = cluster.standby(0).port();
        ds = new ReadsplitDataSource(ReadsplitConfig.builder().name("authit")
                .primary(cluster.primary().host(), cluster.primary().port())
                .addReplica(cluster.standby(0).host(), standbyPort)
                .database(cluster.database()).user(cluster.user()).password(cluster.password())
                .healthCheckInterval(Duration.ofMillis(200)).healthCheckTimeout(Duration.ofMillis(1000)).build());
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE dave LOGIN PASSWORD 'dave-scram-pw'");
            s.execute("CREATE ROLE erin LOGIN PASSWORD 'erin-pw-5'");
            s.execute("CREATE TABLE notes (id int PRIMARY KEY, who text)");
            s.execute("GRANT SELECT, INSERT ON notes TO erin");
        }
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

    static ProxyServer proxy(ProxyConfig.Builder b) throws IOException {
        return ProxyServer.start(ds, b.listen("127.0.0.1:0").build());
    }

    static String url(ProxyServer p) {
        return "jdbc:postgresql://127.0.0.1:" + p.address().getPort() + "/" + cluster.database() + "?sslmode=disable";
    }

    /** psql as {@code user} with {@code PGPASSWORD}; returns exit code and output. */
    static String[] psql(ProxyServer p, String user, String password, String sql) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1",
                "host=127.0.0.1 port=" + p.address().getPort() + " dbname=" + cluster.database() + " user=" + user
                        + " sslmode=disable", "-c", sql));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("PGPASSWORD", password);
        pb.environment().remove("PGUSER");
        Process proc = pb.start();
        if (!proc.waitFor(60, TimeUnit.SECONDS)) {
            proc.destroyForcibly();
            throw new AssertionError("psql did not finish in 60 s");
        }
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return new String[] {String.valueOf(proc.exitValue()), out};
    }

    static String ok(String[] r) {
        assertThat(r[0]).as(r[1]).isEqualTo("0");
        return r[1];
    }

    static String one(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void md5WithPlainPasswordsAndStoredHashes() throws Exception {
        String bobHash = "md5" + ClientCredentials.md5Hex("bob-pw-2" + "bob");
        try (ProxyServer p = proxy(ProxyConfig.builder().auth(ClientAuth.MD5).user("alice", Secret.of("alice-pw-1"))
                .user("bob", Secret.of(bobHash)))) {
            assertThat(ok(psql(p, "alice", "alice-pw-1", "SELECT 'in'"))).isEqualTo("in");
            assertThat(ok(psql(p, "bob", "bob-pw-2", "SELECT 'in'"))).isEqualTo("in");
            String[] wrong = psql(p, "alice", "not-it", "SELECT 1");
            assertThat(wrong[0]).isNotEqualTo("0");
            assertThat(wrong[1]).contains("password authentication failed for user \"alice\"");
            String[] unknown = psql(p, "mallory", "alice-pw-1", "SELECT 1");
            assertThat(unknown[1]).contains("password authentication failed for user \"mallory\"");
            try (Connection c = DriverManager.getConnection(url(p), "bob", "bob-pw-2"); Statement s = c.createStatement()) {
                assertThat(one(s, "SELECT 1")).isEqualTo("1");
            }
            assertThat(assertThrows(SQLException.class, () -> DriverManager.getConnection(url(p), "bob", "bob-pw-x"))
                    .getSQLState()).isEqualTo("28P01");
            assertThat(p.status().clients().loginFailures()).isEqualTo(3);
            assertThat(p.status().toJson() + p.config()).doesNotContain("alice-pw-1", "bob-pw-2", bobHash);
        }
    }

    @Test
    void scramAgainstAUserListFileWithAVerifierCopiedFromPgAuthid(@TempDir Path dir) throws Exception {
        String verifier;
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            verifier = one(s, "SELECT rolpassword FROM pg_authid WHERE rolname = 'dave'");
        }
        assertThat(verifier).startsWith("SCRAM-SHA-256$");
        Path list = dir.resolve("userlist.txt");
        Files.writeString(list, "; clients of the proxy\n\"carol\" \"carol \"\"quoted\"\" pw\"\n\"dave\" \"" + verifier
                + "\"\n");
        try (ProxyServer p = proxy(ProxyConfig.builder().users(UserList.read(list)))) {
            assertThat(ok(psql(p, "dave", "dave-scram-pw", "SELECT 'dave in'"))).isEqualTo("dave in");
            assertThat(ok(psql(p, "carol", "carol \"quoted\" pw", "SELECT 'carol in'"))).isEqualTo("carol in");
            assertThat(psql(p, "dave", "dave-wrong", "SELECT 1")[1])
                    .contains("password authentication failed for user \"dave\"");
            try (Connection c = DriverManager.getConnection(url(p), "dave", "dave-scram-pw");
                 Statement s = c.createStatement()) {
                // a SCRAM user of the list: the backends stay the configured user's
                assertThat(one(s, "SELECT current_user")).isEqualTo(cluster.user());
            }
        }
    }

    @Test
    void passthroughChecksThePasswordAtThePrimaryAndRunsTheBackendsAsTheClientsUser() throws Exception {
        try (ProxyServer p = proxy(ProxyConfig.builder().auth(ClientAuth.PASSTHROUGH))) {
            // a read: on the standby, as erin
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> ok(psql(p, "erin", "erin-pw-5",
                    "SELECT current_user || ' ' || inet_server_port()")).equals("erin " + standbyPort));
            assertThat(ok(psql(p, "erin", "erin-pw-5",
                    "INSERT INTO notes VALUES (1, current_user) RETURNING who || ' ' || inet_server_port()")))
                    .contains("erin " + cluster.primary().port());
            // erin may not read what only the configured (super)user may: the backends really are erin's
            String[] denied = psql(p, "erin", "erin-pw-5", "SELECT count(*) FROM pg_authid");
            assertThat(denied[0]).isNotEqualTo("0");
            assertThat(denied[1]).contains("permission denied");

            String[] wrong = psql(p, "erin", "erin-wrong", "SELECT 1");
            assertThat(wrong[0]).isNotEqualTo("0");
            assertThat(wrong[1]).contains("password authentication failed for user \"erin\"");
            String[] unknown = psql(p, "nobody", "x", "SELECT 1");
            assertThat(unknown[1]).contains("password authentication failed for user \"nobody\"");
            // a client's wrong password says nothing about the primary's health
            assertThat(ds.topology().primary().state()).isEqualTo(NodeState.UP);

            try (Connection c = DriverManager.getConnection(url(p), "erin", "erin-pw-5");
                 Statement s = c.createStatement()) {
                await().atMost(Duration.ofSeconds(30)).until(() ->
                        one(s, "SELECT inet_server_port()").equals(String.valueOf(standbyPort)));
                assertThat(one(s, "SELECT current_user")).isEqualTo("erin");
                // the proxy's backend on the standby logged in as erin (asked of the standby itself; only the proxy
                // logs in as erin, and its backend carries the client's application_name)
                try (Connection direct = cluster.standby(0).connect(); Statement d = direct.createStatement()) {
                    assertThat(one(d, "SELECT count(*) FROM pg_stat_activity WHERE usename = 'erin'"
                            + " AND application_name = 'PostgreSQL JDBC Driver'")).isNotEqualTo("0");
                }
            }
            assertThat(assertThrows(SQLException.class, () -> DriverManager.getConnection(url(p), "erin", "nope"))
                    .getSQLState()).isEqualTo("28P01");
            assertThat(p.status().toJson() + p.config()).doesNotContain("erin-pw-5");
        }
    }
}

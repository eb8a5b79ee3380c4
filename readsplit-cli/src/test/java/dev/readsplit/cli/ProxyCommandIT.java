package dev.readsplit.cli;

import dev.readsplit.embedded.EmbeddedCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** {@code readsplit proxy} from the command line, against a real 1+1 cluster; placement asked of the server. */
class ProxyCommandIT {

    static final String PASSWORD = "Pr0xy-Cli-Pw-4417";
    static EmbeddedCluster cluster;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).password(PASSWORD).start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void servesClientsWithTheConfiguredCredentialsAndStopsWhenAsked() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String url = "jdbc:readsplit:postgresql://" + cluster.primary().host() + ":" + cluster.primary().port() + ","
                + cluster.standby(0).host() + ":" + cluster.standby(0).port() + "/" + cluster.database() + "?user="
                + cluster.user() + "&password=" + PASSWORD;
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        AtomicInteger code = new AtomicInteger(-1);
        Thread t = new Thread(() -> code.set(ReadsplitCommand.execute(new PrintWriter(out, true),
                new PrintWriter(err, true), Map.of(), "proxy", "--url", url, "--listen", "127.0.0.1:" + port,
                "--admin-port", "0")));
        t.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> out.toString().contains("listening on") || !t.isAlive());
            assertThat(out.toString()).as(out + "" + err).contains("listening on 127.0.0.1:" + port);
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/"
                    + cluster.database(), cluster.user(), PASSWORD); Statement s = c.createStatement()) {
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try (ResultSet rs = s.executeQuery("SELECT inet_server_port()")) {
                        rs.next();
                        return rs.getInt(1) == cluster.standby(0).port(); // once the standby is seen UP
                    }
                });
                s.execute("CREATE TABLE t AS SELECT inet_server_port() AS p"); // a write: on the primary
                try (ResultSet rs = s.executeQuery("SELECT p FROM t")) { // read-your-writes, wherever it runs
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(cluster.primary().port());
                }
                // --admin-port: the admin server serves the proxy's status and meters
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("dashboard on (http://\\S+)")
                        .matcher(out.toString());
                assertThat(m.find()).as(out.toString()).isTrue();
                java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
                String status = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(m.group(1) + "proxy"))
                        .build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                assertThat(status).contains("\"total\":1", "\"auth\":\"scram-sha-256\"", "\"statements\":")
                        .doesNotContain(PASSWORD);
                String metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(m.group(1)
                        + "metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                assertThat(metrics).contains("readsplit_proxy_clients{").contains("readsplit_proxy_statements_total{");
            }
        } finally {
            t.interrupt();
            t.join(30_000);
        }
        assertThat(code.get()).as(out + "" + err).isZero();
        assertThat(out.toString() + err).doesNotContain(PASSWORD);
    }

    @Test
    void md5ClientsFromAUserListFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        java.nio.file.Path users = dir.resolve("userlist.txt");
        java.nio.file.Files.writeString(users, "\"web\" \"web-pw-1\"\n\"batch\" \"batch-pw-2\"\n");
        String url = "jdbc:readsplit:postgresql://" + cluster.primary().host() + ":" + cluster.primary().port() + "/"
                + cluster.database() + "?user=" + cluster.user() + "&password=" + PASSWORD;
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        AtomicInteger code = new AtomicInteger(-1);
        Thread t = new Thread(() -> code.set(ReadsplitCommand.execute(new PrintWriter(out, true),
                new PrintWriter(err, true), Map.of(ProxyCommand.USERS_FILE_ENV, users.toString()), "proxy", "--url", url,
                "--listen", "127.0.0.1:" + port, "--auth", "md5")));
        t.start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> out.toString().contains("listening on") || !t.isAlive());
            assertThat(out.toString()).as(out + "" + err).contains("clients by md5");
            String proxyUrl = "jdbc:postgresql://127.0.0.1:" + port + "/" + cluster.database() + "?sslmode=disable";
            for (String[] u : new String[][] {{"web", "web-pw-1"}, {"batch", "batch-pw-2"}}) {
                try (Connection c = DriverManager.getConnection(proxyUrl, u[0], u[1]); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT 1")) {
                    assertThat(rs.next()).isTrue();
                }
            }
            assertThat(org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> DriverManager.getConnection(proxyUrl, "web", "batch-pw-2")).getSQLState()).isEqualTo("28P01");
        } finally {
            t.interrupt();
            t.join(30_000);
        }
        assertThat(code.get()).as(out + "" + err).isZero();
        assertThat(out.toString() + err).doesNotContain("web-pw-1").doesNotContain("batch-pw-2");
    }

    @Test
    void badAuthenticationConfigurationIsAUsageErrorNamingIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        String url = "jdbc:readsplit:postgresql://127.0.0.1:1/db?user=u&password=p";
        Cli open = Cli.run("proxy", "--url", url, "--auth", "passthrough", "--listen", "0.0.0.0:0");
        assertThat(open.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(open.err()).contains("passthrough").contains("TLS").contains("0.0.0.0");
        Cli both = Cli.run("proxy", "--url", url, "--trust", "--auth", "md5");
        assertThat(both.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(both.err()).contains("--trust").contains("md5");
        Cli method = Cli.run("proxy", "--url", url, "--auth", "ldap");
        assertThat(method.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(method.err()).contains("ldap").contains("scram-sha-256");
        java.nio.file.Path bad = dir.resolve("userlist.txt");
        java.nio.file.Files.writeString(bad, "\"web\" \"web-secret-9\"\nbatch batch-secret-8\n");
        Cli list = Cli.run("proxy", "--url", url, "--users", bad.toString());
        assertThat(list.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(list.err()).contains("line 2").contains("double quotes").doesNotContain("secret");
        Cli missing = Cli.run("proxy", "--url", url, "--users", dir.resolve("none.txt").toString());
        assertThat(missing.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(missing.err()).contains("none.txt");
        Cli port = Cli.run("proxy", "--url", url, "--admin-port", "70000");
        assertThat(port.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(port.err()).contains("--admin-port").contains("70000");
        Cli pool = Cli.run("proxy", "--url", url, "--pool-mode", "statement");
        assertThat(pool.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(pool.err()).contains("statement").contains("session").contains("transaction");
        Cli drain = Cli.run("proxy", "--url", url, "--drain-timeout", "-5s");
        assertThat(drain.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(drain.err()).contains("--drain-timeout").contains("negative").contains("-5s");
        Cli longDrain = Cli.run("proxy", "--url", url, "--drain-timeout", "2d");
        assertThat(longDrain.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(longDrain.err()).contains("--drain-timeout").contains("1d");
    }

    /** A node TLS setting the proxy cannot follow is a usage error naming it, before any connection is tried. */
    @Test
    void backendTlsSettingsTheProxyCannotFollowAreAUsageError(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        String base = "jdbc:readsplit:postgresql://127.0.0.1:1/db?user=u&password=p";
        Cli cert = Cli.run("proxy", "--url", base + "&sslcert=/etc/client.crt");
        assertThat(cert.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(cert.err()).contains("sslcert").contains("127.0.0.1:1");
        String root = dir.resolve("root.crt").toString();
        Cli noRoot = Cli.run("proxy", "--url", base + "&sslmode=verify-full&sslrootcert=" + root);
        assertThat(noRoot.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(noRoot.err()).contains("verify-full").contains(root);
    }

    @Test
    void badListenAddressIsAUsageError() {
        Cli r = Cli.run("proxy", "--url", "jdbc:readsplit:postgresql://127.0.0.1:1/db?user=u&password=p",
                "--listen", "nowhere");
        assertThat(r.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(r.err()).contains("HOST:PORT").contains("nowhere");
    }
}

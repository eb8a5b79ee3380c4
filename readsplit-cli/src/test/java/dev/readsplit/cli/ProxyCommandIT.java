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
                new PrintWriter(err, true), Map.of(), "proxy", "--url", url, "--listen", "127.0.0.1:" + port)));
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
            }
        } finally {
            t.interrupt();
            t.join(30_000);
        }
        assertThat(code.get()).as(out + "" + err).isZero();
        assertThat(out.toString() + err).doesNotContain(PASSWORD);
    }

    @Test
    void badListenAddressIsAUsageError() {
        Cli r = Cli.run("proxy", "--url", "jdbc:readsplit:postgresql://127.0.0.1:1/db?user=u&password=p",
                "--listen", "nowhere");
        assertThat(r.exitCode()).isEqualTo(ReadsplitCommand.EXIT_USAGE);
        assertThat(r.err()).contains("HOST:PORT").contains("nowhere");
    }
}

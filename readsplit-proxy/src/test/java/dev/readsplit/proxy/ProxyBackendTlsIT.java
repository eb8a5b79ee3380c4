package dev.readsplit.proxy;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Secret;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The proxy's connections to the nodes follow the nodes' pgjdbc TLS properties (docs/proxy.md, backends), on a real
 * primary and standby that serve TLS with a self-signed certificate for CN=localhost. Whether a backend is encrypted
 * is asked of the server ({@code pg_stat_ssl} of the backend's own pid), where it runs by {@code inet_server_port()}.
 */
class ProxyBackendTlsIT {

    static final String USER = "app";
    static final String PASSWORD = "app-pw";

    static EmbeddedCluster cluster;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).password("cluster-pw").ssl(true).start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** A data source over the cluster with {@code properties} on every node, its host {@code host}. */
    static ReadsplitDataSource dataSource(String name, String host, Map<String, String> properties) {
        ReadsplitConfig.Builder b = ReadsplitConfig.builder().name(name)
                .primary(host, cluster.primary().port())
                .database(cluster.database()).user(cluster.user()).password(cluster.password())
                .healthCheckInterval(Duration.ofMillis(500)).healthCheckTimeout(Duration.ofSeconds(5));
        properties.forEach(b::jdbcProperty);
        for (EmbeddedNode s : cluster.standbys()) {
            b.addReplica(host, s.port());
        }
        ReadsplitDataSource ds = new ReadsplitDataSource(b.build());
        await().atMost(Duration.ofSeconds(30)).until(() -> ds.topology().nodes().stream()
                .allMatch(n -> n.state() == NodeState.UP && n.lastCheckMillis() > 0));
        return ds;
    }

    /** Through {@code proxy}: for a read and for a hinted read on the primary, the port and whether TLS is used. */
    static void assertBackends(ProxyServer proxy, boolean encrypted) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + proxy.address().getPort()
                + "/" + cluster.database() + "?sslmode=disable&user=" + USER + "&password=" + PASSWORD);
             Statement s = c.createStatement()) {
            String sql = "SELECT inet_server_port(), (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid())";
            try (ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(cluster.standby(0).port());
                assertThat(rs.getBoolean(2)).as("the standby's backend encrypted").isEqualTo(encrypted);
            }
            try (ResultSet rs = s.executeQuery("/* readsplit:primary */ " + sql)) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(cluster.primary().port());
                assertThat(rs.getBoolean(2)).as("the primary's backend encrypted").isEqualTo(encrypted);
            }
        }
    }

    /** A data source over {@code c}'s primary alone, with {@code sslmode}. */
    static ReadsplitConfig primaryOnly(String name, EmbeddedCluster c, String sslmode) {
        return ReadsplitConfig.builder().name(name).primary("127.0.0.1", c.primary().port())
                .database(c.database()).user(c.user()).password(c.password())
                .healthCheckInterval(Duration.ofMillis(500)).healthCheckTimeout(Duration.ofSeconds(5))
                .jdbcProperty("sslmode", sslmode).build();
    }

    static ProxyServer proxy(ReadsplitDataSource ds) throws IOException {
        return ProxyServer.start(ds, ProxyConfig.builder().listen("127.0.0.1:0").user(USER, Secret.of(PASSWORD)).build());
    }

    @Test
    void theDefaultPreferEncryptsWhereTheServerOffersTls() throws Exception {
        try (ReadsplitDataSource ds = dataSource("tls-default", "127.0.0.1", Map.of()); ProxyServer p = proxy(ds)) {
            assertBackends(p, true);
        }
    }

    @Test
    void verifyCaChecksTheChainAndDisableStaysPlain() throws Exception {
        Map<String, String> verifyCa = Map.of("sslmode", "verify-ca", "sslrootcert", cluster.sslCertificate().toString());
        try (ReadsplitDataSource ds = dataSource("tls-verify-ca", "127.0.0.1", verifyCa); ProxyServer p = proxy(ds)) {
            assertBackends(p, true);
        }
        try (ReadsplitDataSource ds = dataSource("tls-disable", "127.0.0.1", Map.of("sslmode", "disable"));
             ProxyServer p = proxy(ds)) {
            assertBackends(p, false);
        }
    }

    @Test
    void verifyFullChecksTheHostName() throws Exception {
        Map<String, String> verifyFull = Map.of("sslmode", "verify-full",
                "sslrootcert", cluster.sslCertificate().toString());
        try (ReadsplitDataSource ds = dataSource("tls-verify-full", "localhost", verifyFull); ProxyServer p = proxy(ds)) {
            assertBackends(p, true);
        }
        // the certificate names localhost, not 127.0.0.1: the proxy refuses the node, as pgjdbc does. The data
        // source's own checks fail the same way, so it is built without waiting for its nodes.
        ReadsplitConfig config = ReadsplitConfig.builder().name("tls-wrong-name")
                .primary("127.0.0.1", cluster.primary().port())
                .database(cluster.database()).user(cluster.user()).password(cluster.password())
                .healthCheckInterval(Duration.ofMillis(500)).healthCheckTimeout(Duration.ofSeconds(5))
                .jdbcProperty("sslmode", "verify-full").jdbcProperty("sslrootcert", cluster.sslCertificate().toString())
                .build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            assertThatThrownBy(() -> proxy(ds)).isInstanceOf(IOException.class)
                    .hasMessageContaining("127.0.0.1:" + cluster.primary().port() + ": TLS: No subject alternative names");
        }
    }

    @Test
    void requireRefusesAServerWithoutTlsAndCertificatesItCannotFollowFailTheStart() throws Exception {
        try (EmbeddedCluster plain = EmbeddedCluster.builder().standbys(0).password("plain-pw").start()) {
            try (ReadsplitDataSource ds = new ReadsplitDataSource(primaryOnly("tls-require-plain", plain, "require"))) {
                assertThatThrownBy(() -> proxy(ds)).isInstanceOf(IOException.class)
                        .hasMessageContaining("does not accept TLS").hasMessageContaining("require");
            }
            try (ReadsplitDataSource ds = new ReadsplitDataSource(primaryOnly("tls-prefer-plain", plain, "prefer"));
                 ProxyServer p = proxy(ds);
                 Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + p.address().getPort()
                         + "/" + plain.database() + "?sslmode=disable&user=" + USER + "&password=" + PASSWORD);
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("prefer: plain where the server has no TLS").isFalse();
            }
        }
        ReadsplitConfig clientCert = ReadsplitConfig.builder().name("tls-client-cert")
                .primary("127.0.0.1", cluster.primary().port())
                .database(cluster.database()).user(cluster.user()).password(cluster.password())
                .healthCheckInterval(Duration.ofMillis(500)).healthCheckTimeout(Duration.ofSeconds(5))
                .jdbcProperty("sslcert", "/nonexistent/client.crt").build();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(clientCert)) {
            assertThatThrownBy(() -> proxy(ds)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("sslcert").hasMessageContaining("node 127.0.0.1:" + cluster.primary().port());
        }
    }
}

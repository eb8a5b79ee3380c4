package dev.readsplit.jdbc;

import dev.readsplit.Role;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;

import static dev.readsplit.jdbc.Clusters.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * TLS settings pass through to pgjdbc: a cluster whose nodes serve a self-signed certificate, a data source
 * configured with {@code readsplit.jdbc.sslmode} (and {@code sslrootcert} for {@code verify-ca}), and every
 * connection it opens, pooled and health check, primary and replicas, is encrypted ({@code pg_stat_ssl}).
 */
class TlsIT {

    private static final String SSL_QUERY =
            "SELECT ssl, inet_server_port() FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password("Tls-Pw-0b7").ssl(true).start();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"require", "verify-ca"})
    void everyConnectionIsEncrypted(String sslmode) throws SQLException {
        Properties p = new Properties();
        p.setProperty("readsplit.name", "tls-" + sslmode);
        p.setProperty("readsplit.primary", "127.0.0.1:" + cluster.primary().port());
        p.setProperty("readsplit.replicas", "127.0.0.1:" + cluster.standby(0).port() + ", 127.0.0.1:" + cluster.standby(1).port());
        p.setProperty("readsplit.database", cluster.database());
        p.setProperty("readsplit.user", cluster.user());
        p.setProperty("readsplit.password", cluster.password());
        p.setProperty("readsplit.healthCheckInterval", "200ms");
        p.setProperty("readsplit.primaryPoolSize", "1");
        // every replica within a few reads of one thread: round-robin (the default affinity keeps a thread on one)
        p.setProperty("readsplit.balancer", "round_robin");
        p.setProperty("readsplit.jdbc.sslmode", sslmode);
        if (sslmode.equals("verify-ca")) {
            p.setProperty("readsplit.jdbc.sslrootcert", cluster.sslCertificate().toString());
        }
        ReadsplitConfig config = ReadsplitConfig.fromProperties(p);
        assertThat(config.primary().jdbcProperties()).containsEntry("sslmode", sslmode);
        try (ReadsplitDataSource ds = new ReadsplitDataSource(config)) {
            Clusters.awaitAllUp(ds);
            Set<Integer> replicaPorts = new HashSet<>();
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                for (int i = 0; i < 20; i++) {
                    try (ResultSet rs = s.executeQuery(SSL_QUERY)) {
                        rs.next();
                        assertThat(rs.getBoolean(1)).as("read on port " + rs.getInt(2) + " over TLS").isTrue();
                        replicaPorts.add(rs.getInt(2));
                    }
                }
            }
            assertThat(replicaPorts).containsExactlyInAnyOrder(cluster.standby(0).port(), cluster.standby(1).port());
            try (Connection c = ds.getConnection(Role.PRIMARY); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery(SSL_QUERY)) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("primary connection over TLS").isTrue();
                assertThat(rs.getInt(2)).isEqualTo(cluster.primary().port());
            }
            // a read after a write learns where the write ends over the primary's position connection when the
            // primary's pool (of one here) has no idle connection: TLS too
            try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS tls_written (id int)");
            }
            try (Connection holder = ds.getConnection(); Statement hs = holder.createStatement()) {
                holder.setAutoCommit(false);
                // holds the pool's only primary connection (a JDBC transaction starts on the primary), writing no WAL:
                // an uncommitted insert's WAL would put the read's position past what the standbys can have until the
                // walwriter flushes it (200 ms), past readYourWritesWait
                hs.execute("SELECT 1");
                try (Connection c = ds.getConnection(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM tls_written")) {
                    rs.next();
                }
                holder.rollback();
            }
            assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
                    + " WHERE a.application_name = '" + ds.name() + "-positions' AND s.ssl"))
                    .as("the primary's position connection over TLS").isEqualTo(1);
            // the health checks' own connections too, and no connection of the data source in the clear
            for (EmbeddedNode n : cluster.nodes()) {
                assertThat(queryLong(n, "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
                        + " WHERE a.application_name = '" + ds.name() + "-health' AND s.ssl")).as(n + " health check over TLS")
                        .isEqualTo(1);
                assertThat(queryLong(n, "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
                        + " WHERE a.application_name LIKE '" + ds.name() + "%' AND NOT s.ssl")).as(n + " connections in the clear")
                        .isZero();
            }
        }
    }
}

package dev.readsplit.health;

import dev.readsplit.cluster.Topology;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.readsplit.Role;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.Clusters;
import dev.readsplit.jdbc.ReadsplitConnection;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.TopologyEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Issue 17, item 6 of "what to build": a plain login role with only CONNECT and table grants (no superuser, no
 * pg_monitor, no pg_read_all_stats) runs routing, health, lag and read-your-writes (causal tokens included) on a
 * real cluster; what needs more (the WAL receivers' details, the cluster identity in tokens) is skipped with one
 * WARN each naming the grant. The role's privileges are asked of the server, not assumed. The {@code pg_control_*}
 * functions are revoked from PUBLIC first, as managed services and hardened setups do.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LeastPrivilegeIT {

    private static final String ADMIN_PASSWORD = "Lp-Admin-Pw-9x";
    private static final String APP_PASSWORD = "Lp-App-Pw-3z";
    private static EmbeddedCluster cluster;

    @BeforeAll
    static void start() throws SQLException {
        cluster = EmbeddedCluster.builder().standbys(2).password(ADMIN_PASSWORD).start();
        try (Connection c = cluster.primary().connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE items (id bigserial PRIMARY KEY, v text)");
            s.execute("CREATE ROLE app LOGIN PASSWORD '" + APP_PASSWORD + "'");
            s.execute("REVOKE CONNECT ON DATABASE " + cluster.database() + " FROM PUBLIC");
            s.execute("GRANT CONNECT ON DATABASE " + cluster.database() + " TO app");
            s.execute("GRANT USAGE ON SCHEMA public TO app");
            s.execute("GRANT SELECT, INSERT ON items TO app");
            s.execute("GRANT USAGE ON SEQUENCE items_id_seq TO app");
            // PostgreSQL lets PUBLIC call the pg_control_* functions; managed services and hardened setups revoke them
            s.execute("REVOKE EXECUTE ON FUNCTION pg_control_checkpoint(), pg_control_system(), pg_control_recovery(),"
                    + " pg_control_init() FROM PUBLIC");
        }
        for (EmbeddedNode standby : cluster.standbys()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                try (Connection c = standby.connect(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_roles WHERE rolname = 'app'")) {
                    return rs.next() && rs.getLong(1) == 1;
                }
            });
        }
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aPlainLoginRoleRoutesChecksMeasuresLagAndReadsItsWrites() throws Exception {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        logs.start();
        root.addAppender(logs);
        List<TopologyEvent> events = new CopyOnWriteArrayList<>();
        try (ReadsplitDataSource ds = new ReadsplitDataSource(Clusters.config(cluster).name("leastpriv")
                .user("app").password(APP_PASSWORD).maxLag(Duration.ofSeconds(1)).build())) {
            Topology.of(ds).addListener(events::add);
            try (Connection c = ds.getConnection(Role.PRIMARY); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT rolsuper, pg_has_role('app', 'pg_monitor', 'USAGE'),"
                         + " pg_has_role('app', 'pg_read_all_stats', 'USAGE'),"
                         + " has_function_privilege('pg_control_checkpoint()', 'EXECUTE'),"
                         + " has_function_privilege('pg_control_system()', 'EXECUTE'), current_user"
                         + " FROM pg_roles WHERE rolname = current_user")) {
                rs.next();
                assertThat(rs.getString(6)).isEqualTo("app");
                assertThat(List.of(rs.getBoolean(1), rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4), rs.getBoolean(5)))
                        .as("superuser, pg_monitor, pg_read_all_stats, pg_control_checkpoint(), pg_control_system()")
                        .containsOnly(false);
            }

            // health and topology: every node checked, roles observed, a timeline for the primary, lag known and 0
            Clusters.awaitAllUp(ds);
            Node primary = Topology.of(ds).primary();
            assertThat(primary.config().port()).isEqualTo(cluster.primary().port());
            assertThat(primary.timeline()).isPositive();
            List<Node> replicas = Topology.of(ds).replicas();
            assertThat(replicas).hasSize(2);
            await().atMost(Duration.ofSeconds(10)).until(() -> replicas.stream()
                    .allMatch(r -> r.role() == Role.REPLICA && r.lagBytes() >= 0 && r.lagMillis() == 0 && !r.lagExcluded()));

            // routing: reads of a session that has not written go to the replicas
            Set<Integer> readPorts = new HashSet<>();
            try (Connection c = ds.getConnection(); PreparedStatement read = c.prepareStatement("SELECT inet_server_port()")) {
                for (int i = 0; i < 50; i++) {
                    try (ResultSet rs = read.executeQuery()) {
                        rs.next();
                        readPorts.add(rs.getInt(1));
                    }
                }
            }
            assertThat(readPorts).as("reads went to the replicas")
                    .containsExactlyInAnyOrder(cluster.standby(0).port(), cluster.standby(1).port());

            // read-your-writes: each write read back on the same connection, by a replica once it has replayed it
            Set<Integer> backPorts = new HashSet<>();
            try (Connection c = ds.getConnection();
                 PreparedStatement ins = c.prepareStatement("INSERT INTO items(v) VALUES ('x') RETURNING id");
                 PreparedStatement back = c.prepareStatement("SELECT count(*), inet_server_port() FROM items WHERE id = ?")) {
                for (int i = 0; i < 100; i++) {
                    long id;
                    try (ResultSet rs = ins.executeQuery()) {
                        rs.next();
                        id = rs.getLong(1);
                    }
                    back.setLong(1, id);
                    try (ResultSet rs = back.executeQuery()) {
                        rs.next();
                        assertThat(rs.getLong(1)).as("write %d read back", id).isEqualTo(1);
                        backPorts.add(rs.getInt(2));
                    }
                }
            }
            assertThat(backPorts).as("read-backs served by a replica that had replayed the write")
                    .containsAnyOf(cluster.standby(0).port(), cluster.standby(1).port());

            // causal tokens across connections (another process would do the same with the exported string)
            CausalToken token;
            long id;
            try (ReadsplitConnection c = ds.getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("INSERT INTO items(v) VALUES ('t') RETURNING id")) {
                rs.next();
                id = rs.getLong(1);
                token = c.causalToken();
            }
            try (ReadsplitConnection c = ds.getConnection()) {
                c.observe(CausalToken.parse(token.export()));
                try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM items WHERE id = ?")) {
                    ps.setLong(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        assertThat(rs.getLong(1)).as("a token's write is visible to the connection that observed it").isEqualTo(1);
                    }
                }
            }

            // lag: a standby 3 s behind is measured and excluded, then readmitted
            EmbeddedNode lagging = cluster.standby(0);
            Node laggingNode = replicas.stream().filter(r -> r.config().port() == lagging.port()).findFirst().orElseThrow();
            lagging.setApplyDelay(Duration.ofSeconds(3));
            try {
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    try (Connection c = ds.getConnection(Role.PRIMARY); Statement s = c.createStatement()) {
                        s.execute("INSERT INTO items(v) VALUES ('lag')");
                    }
                    return laggingNode.lagExcluded();
                });
                assertThat(laggingNode.lagMillis()).isGreaterThan(1000);
            } finally {
                lagging.setApplyDelay(Duration.ZERO);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> !laggingNode.lagExcluded());
            assertThat(Topology.of(ds).nodes()).allMatch(n -> n.state() == NodeState.UP);
        } finally {
            root.detachAppender(logs);
        }
        assertThat(events).noneMatch(e -> e.kind() == TopologyEvent.Kind.STATE_CHANGE && "DOWN".equals(e.to()));
        List<String> warnings = logs.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(warnings).filteredOn(w -> w.contains("GRANT pg_read_all_stats")).as("one WARN naming the grant").hasSize(1);
        assertThat(warnings).filteredOn(w -> w.contains("GRANT EXECUTE ON FUNCTION pg_control_system()")).hasSize(1);
        assertThat(logs.list).noneMatch(e -> e.getLevel() == Level.ERROR);
        assertThat(warnings).noneMatch(w -> w.contains("permission denied"));
        assertThat(warnings).noneMatch(w -> w.contains(APP_PASSWORD) || w.contains(ADMIN_PASSWORD));
    }
}

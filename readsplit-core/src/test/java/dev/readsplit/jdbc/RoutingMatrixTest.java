package dev.readsplit.jdbc;

import dev.readsplit.cluster.Topology;
import dev.readsplit.Consistency;
import dev.readsplit.ReadsplitException;
import dev.readsplit.RouteReason;
import dev.readsplit.consistency.CausalScope;
import dev.readsplit.topology.NodeState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The routing rules of {@code docs/routing.md} as a matrix, on stub servers (no I/O, seconds for the whole matrix):
 * consistency x read-only x auto-commit x hint x pin x replica state, for a read. Placement is asked of the stub
 * servers (which one ran the text), the reason of {@code lastRoute()}; the expectation comes from
 * {@link #expected}, the rules written out independently of the router. The causal-scope dimension is
 * {@link WriteTrackingMatrixTest}'s.
 */
class RoutingMatrixTest {

    enum HintKind {
        NONE(""), PRIMARY("/* readsplit:primary */ "), REPLICA("/* readsplit:replica */ ");

        final String prefix;

        HintKind(String prefix) {
            this.prefix = prefix;
        }
    }

    record Case(Consistency consistency, boolean readOnly, boolean autoCommit, HintKind hint, boolean pinned,
                boolean replicasUp) {
    }

    record Expected(String node, RouteReason reason) {
    }

    private static ReadsplitDataSource ds;
    private static int serial;

    @BeforeAll
    static void start() {
        // a connection-scoped read-your-writes: each case's fresh connection starts with no position
        ds = StubClusters.dataSource("matrix", Consistency.readYourWrites(), CausalScope.CONNECTION, true);
    }

    @AfterAll
    static void stop() {
        ds.close();
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (Consistency c : List.of(Consistency.eventual(), Consistency.boundedStaleness(Duration.ofSeconds(1)),
                Consistency.readYourWrites(), Consistency.strong())) {
            for (boolean readOnly : new boolean[] {false, true}) {
                for (boolean autoCommit : new boolean[] {true, false}) {
                    for (HintKind hint : HintKind.values()) {
                        for (boolean pinned : new boolean[] {false, true}) {
                            for (boolean up : new boolean[] {true, false}) {
                                out.add(new Case(c, readOnly, autoCommit, hint, pinned, up));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * The rules, in order (docs/routing.md): a transaction (auto-commit off, not read-only) stays on the primary; a
     * primary hint wins over read-only; a read-only session reads a replica; a pinned session stays on the primary; a hint decides; strong reads the
     * primary; else a replica. "A replica" falls back to the primary when none is eligible: generic nodes report no
     * lag, so a staleness bound excludes them all (LAG); a session that wrote (pinning with LISTEN may write, so it
     * counts) reads the primary under read-your-writes (TOKEN_NOT_REPLAYED); no replica up: NO_REPLICA_FALLBACK.
     */
    static Expected expected(Case k) {
        if (!k.autoCommit && !k.readOnly) {
            return new Expected("primary", RouteReason.IN_TRANSACTION);
        }
        if (k.readOnly && k.hint == HintKind.PRIMARY) {
            return new Expected("primary", RouteReason.HINT); // the hint wins over the read-only flag
        }
        if (k.readOnly) {
            return replica(k, RouteReason.READ_ONLY);
        }
        if (k.pinned) {
            return new Expected("primary", RouteReason.SESSION_PIN);
        }
        if (k.hint == HintKind.PRIMARY) {
            return new Expected("primary", RouteReason.HINT);
        }
        if (k.hint == HintKind.REPLICA) {
            return replica(k, RouteReason.HINT);
        }
        if (k.consistency.level() == Consistency.Level.STRONG) {
            return new Expected("primary", RouteReason.STRONG);
        }
        return replica(k, RouteReason.READ);
    }

    private static Expected replica(Case k, RouteReason reason) {
        if (k.consistency.level() == Consistency.Level.READ_YOUR_WRITES && k.pinned) {
            return new Expected("primary", RouteReason.TOKEN_NOT_REPLAYED);
        }
        if (!k.replicasUp) {
            return new Expected("primary", RouteReason.NO_REPLICA_FALLBACK);
        }
        if (k.consistency.level() == Consistency.Level.BOUNDED_STALENESS) {
            return new Expected("primary", RouteReason.LAG);
        }
        return new Expected("replica", reason);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void aReadGoesWhereTheRulesSay(Case k) throws SQLException {
        StubClusters.replicas(ds, k.replicasUp ? NodeState.UP : NodeState.DOWN);
        StubClusters.clear(ds);
        String sql = k.hint.prefix + "SELECT v FROM t WHERE case_id = " + (++serial);
        try (Connection c = ds.getConnection()) {
            ReadsplitConnection rc = (ReadsplitConnection) c;
            rc.setConsistency(k.consistency);
            if (k.pinned) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN matrix_channel");
                }
            }
            c.setReadOnly(k.readOnly);
            c.setAutoCommit(k.autoCommit);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                assertThat(rs.next()).isTrue();
            }
            Expected e = expected(k);
            String ranOn = StubClusters.ranOn(ds, sql);
            if (e.node.equals("replica")) {
                assertThat(ranOn).as("placement of %s", k).isIn("r1", "r2");
            } else {
                assertThat(ranOn).as("placement of %s", k).isEqualTo(e.node);
            }
            assertThat(rc.lastRoute().reason()).as("reason for %s", k).isEqualTo(e.reason);
            if (!k.autoCommit) {
                c.commit();
            }
        }
    }

    @Test
    void withFallbackOffNoEligibleReplicaIsARefusalNamingWhy() throws SQLException {
        try (ReadsplitDataSource strict = StubClusters.dataSource("matrix-strict", Consistency.eventual(),
                CausalScope.CONNECTION, false)) {
            StubClusters.replicas(strict, NodeState.DOWN);
            try (Connection c = strict.getConnection(); Statement s = c.createStatement()) {
                ReadsplitException e = assertThrows(ReadsplitException.class, () -> s.executeQuery("SELECT 1 FROM t"));
                assertThat(e.reason()).isEqualTo(ReadsplitException.Reason.NO_ELIGIBLE_NODE);
                assertThat(e.getSQLState()).isEqualTo("08001");
                assertThat(e.getMessage()).contains("matrix-strict", "fallback to the primary is off", "r1 is DOWN");
            }
        }
    }

    @Test
    void aMisrouteReRunIsRoutedSoLastRouteNamesThePrimary() throws SQLException {
        StubClusters.replicas(ds, NodeState.UP);
        String sql = "SELECT * FROM writing_view_" + (++serial);
        StubDriver.server("matrix-r1").refuseAsReadOnly = t -> t.contains("writing_view");
        StubDriver.server("matrix-r2").refuseAsReadOnly = t -> t.contains("writing_view");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            ((ReadsplitConnection) c).setConsistency(Consistency.eventual());
            s.executeQuery(sql).close();
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.MISROUTE);
            assertThat(((ReadsplitConnection) c).lastRoute().nodeName()).isEqualTo("primary");
            // learned: the next execution goes straight to the primary
            s.executeQuery(sql).close();
            assertThat(((ReadsplitConnection) c).lastRoute().reason()).isEqualTo(RouteReason.LEARNED_MISROUTE);
        } finally {
            StubDriver.server("matrix-r1").refuseAsReadOnly = t -> false;
            StubDriver.server("matrix-r2").refuseAsReadOnly = t -> false;
        }
    }

    @Test
    void aReadRetriedAfterAConnectionFailureIsRoutedAgainAndCounted() throws SQLException {
        StubClusters.replicas(ds, NodeState.UP);
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            ReadsplitConnection rc = (ReadsplitConnection) c;
            rc.setConsistency(Consistency.eventual());
            // hold a physical connection to both replicas (round-robin), then r1 dies under them
            s.executeQuery("SELECT 1 FROM warm_a").close();
            s.executeQuery("SELECT 1 FROM warm_b").close();
            StubDriver.server("matrix-r1").dead = true;
            long retries = ds.readRetries();
            StubClusters.clear(ds);
            for (int i = 0; i < 4; i++) {
                String sql = "SELECT " + i + " FROM after_failure";
                s.executeQuery(sql).close();
                assertThat(StubClusters.ranOn(ds, sql)).isEqualTo("r2");
                assertThat(rc.lastRoute().nodeName()).isEqualTo("r2");
            }
            assertThat(ds.readRetries()).isEqualTo(retries + 1);
            assertThat(Topology.of(ds).node("r1").state()).isNotEqualTo(NodeState.UP);
        } finally {
            StubClusters.awaitChecks(ds);
            StubDriver.server("matrix-r1").dead = false;
            StubClusters.replicas(ds, NodeState.UP);
        }
    }
}

package dev.readsplit.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ServerStatementsTest {

    private static ServerStatements.Statement st(String q, long calls) {
        return new ServerStatements.Statement(q, calls);
    }

    @Test
    void reportsTheDeltaPerThousandOperationsMostCalledFirstWithoutTheMonitorsOwnQuestions() {
        ServerStatements before = new ServerStatements(List.of(new ServerStatements.Node(Map.of(
                1L, st("SELECT abalance FROM accounts WHERE aid = $1", 1_000),
                2L, st("SELECT pg_last_wal_replay_lsn()", 10),
                3L, st("SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements", 5)), 7, 100)));
        ServerStatements after = new ServerStatements(List.of(new ServerStatements.Node(Map.of(
                1L, st("SELECT abalance FROM accounts WHERE aid = $1", 3_000),
                2L, st("SELECT pg_last_wal_replay_lsn()", 110),
                3L, st("SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements", 9),
                4L, st("DISCARD   ALL", 40)), 9, 2_100)));

        String report = after.since(before, 2_000, 5, List.of("standby1"));

        assertThat(report.lines().toList()).containsExactly(
                "      standby1: 1.00 sessions and 1000 transactions per 1,000 ops",
                "          1000.00  SELECT abalance FROM accounts WHERE aid = $1",
                "            50.00  SELECT pg_last_wal_replay_lsn()",
                "            20.00  DISCARD ALL");
    }

    @Test
    void keepsOnlyTheTopStatements() {
        ServerStatements before = new ServerStatements(List.of(new ServerStatements.Node(Map.of(), 0, 0)));
        ServerStatements after = new ServerStatements(List.of(new ServerStatements.Node(Map.of(
                1L, st("a", 3), 2L, st("b", 2), 3L, st("c", 1)), 0, 0)));

        assertThat(after.since(before, 1_000, 2, List.of("n")).lines().skip(1).toList())
                .containsExactly("             3.00  a", "             2.00  b");
    }
}

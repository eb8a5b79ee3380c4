package dev.readsplit.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A short demo run with {@code --json}: reads on both replicas, every session reads its own writes. */
class DemoIT {

    @Test
    @SuppressWarnings("unchecked")
    void shortRunReadsOnBothReplicasWithoutViolations() {
        Cli r = Cli.run("demo", "--duration", "8s", "--json");
        assertThat(r.exitCode()).as(r.all()).isZero();
        Map<String, Object> s = JsonOutput.object(r.out());
        assertThat(s).containsEntry("ok", true).containsEntry("rywViolations", 0.0)
                .containsEntry("failedReads", 0.0).containsEntry("errors", 0.0)
                .containsEntry("cleanShutdown", true).containsEntry("chaos", "none");
        assertThat((Double) s.get("writes")).isPositive();
        List<Map<String, Object>> nodes = (List<Map<String, Object>>) s.get("nodes");
        assertThat(nodes).extracting(n -> n.get("name")).containsExactly("primary", "standby1", "standby2");
        assertThat(nodes.subList(1, 3)).allSatisfy(n -> assertThat((Double) n.get("reads")).isPositive());
        // progress goes to standard error as plain lines (not a terminal): no escape codes
        assertThat(r.err()).contains("[   1s]").doesNotContain("\033[");
        // the admin endpoint and dashboard were up, on loopback, for the run
        assertThat(r.err()).containsPattern("Dashboard: http://127\\.0\\.0\\.1:\\d+/");
    }
}

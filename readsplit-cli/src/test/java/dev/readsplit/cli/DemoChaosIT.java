package dev.readsplit.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A short demo with replica faults: a replica killed, restarted, another paused and resumed; no read fails. */
class DemoChaosIT {

    @Test
    @SuppressWarnings("unchecked")
    void replicaFaultsCauseNoFailedReadAndNoViolation() {
        Cli r = Cli.run("demo", "--duration", "16s", "--chaos", "--sessions", "6", "--json");
        Map<String, Object> s = JsonOutput.object(r.out());
        assertThat(s).as(r.err()).containsEntry("chaos", "replica").containsEntry("rywViolations", 0.0)
                .containsEntry("failedReads", 0.0).containsEntry("cleanShutdown", true);
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> events = ((List<Map<String, Object>>) s.get("events")).stream()
                .map(e -> (String) e.get("text")).toList();
        assertThat(events).anyMatch(e -> e.startsWith("chaos: kill standby1"))
                .anyMatch(e -> e.startsWith("chaos: standby1 is running again"))
                .anyMatch(e -> e.startsWith("chaos: pause standby2"))
                .anyMatch(e -> e.startsWith("chaos: resume standby2"));
        assertThat(r.err()).contains("event").contains("chaos: kill standby1");
    }
}

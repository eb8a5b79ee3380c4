package dev.readsplit.routing;

import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class RetryPolicyTest {

    /** {@code of} is an index by flag bits: every combination gives the constant with exactly those flags. */
    @Test
    void ofGivesTheConstantWithExactlyTheseFlags() {
        Set<RetryPolicy> reached = EnumSet.noneOf(RetryPolicy.class);
        for (boolean failure : new boolean[] {false, true}) {
            for (boolean misroute : new boolean[] {false, true}) {
                for (boolean refusal : new boolean[] {false, true}) {
                    RetryPolicy p = RetryPolicy.of(failure, misroute, refusal);
                    assertThat(p.onConnectionFailure()).as("%s", p).isEqualTo(failure);
                    assertThat(p.onMisroute()).as("%s", p).isEqualTo(misroute);
                    assertThat(p.onStandbyRefusal()).as("%s", p).isEqualTo(refusal);
                    reached.add(p);
                }
            }
        }
        assertThat(reached).containsExactlyInAnyOrder(RetryPolicy.values());
        assertThat(RetryPolicy.COUNT).isEqualTo(RetryPolicy.values().length);
        assertThat(RetryPolicy.of(true, false)).isEqualTo(RetryPolicy.OTHER_NODE);
        assertThat(RetryPolicy.of(false, false, false)).isEqualTo(RetryPolicy.NEVER);
    }
}

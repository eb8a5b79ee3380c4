package dev.readsplit.failover;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class ElectionTest {

    private static Election.Candidate c(String name, long position) {
        return new Election.Candidate(name, position);
    }

    @Test
    void highestPositionWins() {
        assertThat(Election.elect(List.of(c("a", 10), c("b", 30), c("c", 20))).name()).isEqualTo("b");
    }

    @Test
    void tiesGoToTheSmallestName() {
        assertThat(Election.elect(List.of(c("standby2", 30), c("standby1", 30), c("standby3", 5))).name())
                .isEqualTo("standby1");
    }

    @Test
    void noCandidatesElectsNobody() {
        assertThat(Election.elect(List.of())).isNull();
    }

    /** Every instance must elect the same node whatever order it surveyed the replicas in. */
    @Test
    void independentOfSurveyOrder() {
        List<Election.Candidate> all = new ArrayList<>(List.of(c("r1", 7), c("r2", 9), c("r3", 9), c("r4", -1)));
        Random random = new Random(42);
        for (int i = 0; i < 100; i++) {
            Collections.shuffle(all, random);
            assertThat(Election.elect(all).name()).isEqualTo("r2");
        }
    }
}

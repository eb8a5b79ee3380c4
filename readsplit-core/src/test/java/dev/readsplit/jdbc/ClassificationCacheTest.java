package dev.readsplit.jdbc;

import dev.readsplit.sql.Classification;
import dev.readsplit.sql.SqlClassifier;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClassificationCacheTest {

    private final SqlClassifier classifier = SqlClassifier.defaults();

    @Test
    void givesTheClassifiersAnswerAndKeepsIt() {
        ClassificationCache cache = new ClassificationCache(classifier, 10);
        for (String sql : new String[] {"SELECT 1", "INSERT INTO t VALUES (1)", "SELECT my_fn(1)", "BEGIN", "garbage ((("}) {
            Classification first = cache.classify(sql);
            assertThat(first).isEqualTo(classifier.classify(sql));
            Classification second = cache.classify(sql); // the second sighting: classified again and kept
            assertThat(second).isEqualTo(first);
            assertThat(cache.classify(sql)).isSameAs(second);
        }
        assertThat(cache.size()).isEqualTo(5);
    }

    @Test
    void keepsNothingOfTextsSeenOnce() {
        // literals inlined: every text new (psql, psycopg2, pgbench -M simple through the proxy)
        ClassificationCache cache = new ClassificationCache(classifier, 100);
        for (int i = 0; i < 10_000; i++) {
            String sql = "SELECT abalance FROM pgbench_accounts WHERE aid = " + i;
            assertThat(cache.classify(sql)).isEqualTo(classifier.classify(sql));
        }
        assertThat(cache.size()).isZero();
        // while a text that repeats among them is kept
        for (int i = 0; i < 1_000; i++) {
            cache.classify("SELECT abalance FROM pgbench_accounts WHERE aid = " + (20_000 + i));
            cache.classify("SELECT 1");
        }
        assertThat(cache.size()).isEqualTo(1);
    }

    @Test
    void refusesACapacityBelowOne() {
        assertThatThrownBy(() -> new ClassificationCache(classifier, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacity");
    }

    @Test
    void staysBoundedAndPassesNullAndHugeTextsThrough() {
        ClassificationCache cache = new ClassificationCache(classifier, 100);
        for (int i = 0; i < 1_000; i++) {
            assertThat(cache.classify("SELECT " + i).isRead()).isTrue();
            assertThat(cache.classify("SELECT " + i).isRead()).isTrue(); // seen twice: admitted
            assertThat(cache.size()).isBetween(1, 100);
        }
        assertThat(cache.classify(null)).isEqualTo(classifier.classify(null));
        String huge = "SELECT 1 " + "-- x\n".repeat(2_000);
        assertThat(cache.classify(huge).isRead()).isTrue();
        int before = cache.size();
        cache.classify(huge);
        assertThat(cache.size()).isEqualTo(before);
    }
}

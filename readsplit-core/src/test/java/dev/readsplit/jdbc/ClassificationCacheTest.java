package dev.readsplit.jdbc;

import dev.readsplit.sql.Classification;
import dev.readsplit.sql.SqlClassifier;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ClassificationCacheTest {

    private final SqlClassifier classifier = SqlClassifier.defaults();

    @Test
    void givesTheClassifiersAnswerAndKeepsIt() {
        ClassificationCache cache = new ClassificationCache(classifier, 10);
        for (String sql : new String[] {"SELECT 1", "INSERT INTO t VALUES (1)", "SELECT my_fn(1)", "BEGIN", "garbage ((("}) {
            Classification first = cache.classify(sql);
            assertThat(first).isEqualTo(classifier.classify(sql));
            assertThat(cache.classify(sql)).isSameAs(first);
        }
        assertThat(cache.size()).isEqualTo(5);
    }

    @Test
    void staysBoundedAndPassesNullAndHugeTextsThrough() {
        ClassificationCache cache = new ClassificationCache(classifier, 100);
        for (int i = 0; i < 1_000; i++) {
            assertThat(cache.classify("SELECT " + i).isRead()).isTrue();
            assertThat(cache.size()).isLessThanOrEqualTo(100);
        }
        assertThat(cache.classify(null)).isEqualTo(classifier.classify(null));
        String huge = "SELECT 1 " + "-- x\n".repeat(2_000);
        assertThat(cache.classify(huge).isRead()).isTrue();
        int before = cache.size();
        cache.classify(huge);
        assertThat(cache.size()).isEqualTo(before);
    }
}

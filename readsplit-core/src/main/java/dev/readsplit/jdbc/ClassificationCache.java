package dev.readsplit.jdbc;

import dev.readsplit.sql.Classification;
import dev.readsplit.sql.SqlClassifier;

import java.util.concurrent.ConcurrentHashMap;

/**
 * Classifications by SQL text. Applications run the same statements over and over (prepared statements are
 * re-prepared on every checked-out connection), and the classifier is a pure function of the text, so each
 * distinct text is classified once. A {@link String} caches its hash, so a hit on a reused text (the usual
 * case: a constant) costs a hash-table probe and an identity comparison.
 *
 * <p>Bounded: when full it is cleared and fills again with what is in use (applications that inline
 * literals into their SQL produce endless distinct texts; they pay the classifier, not unbounded memory).
 * Texts longer than {@link #MAX_TEXT} are not kept.
 */
final class ClassificationCache {

    static final int MAX_TEXT = 4096;

    private final SqlClassifier classifier;
    private final int capacity;
    private final ConcurrentHashMap<String, Classification> cache;

    ClassificationCache(SqlClassifier classifier, int capacity) {
        this.classifier = classifier;
        this.capacity = capacity;
        this.cache = new ConcurrentHashMap<>(Math.min(capacity, 256));
    }

    Classification classify(String sql) {
        if (sql == null || sql.length() > MAX_TEXT) {
            return classifier.classify(sql);
        }
        Classification c = cache.get(sql);
        if (c == null) {
            c = classifier.classify(sql);
            if (cache.size() >= capacity) {
                cache.clear();
            }
            cache.put(sql, c);
        }
        return c;
    }

    int size() {
        return cache.size();
    }
}

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
 * <h2>Admission on the second sighting</h2>
 * A text enters the cache the second time it is seen, not the first: a table of the hashes of recent misses (the
 * "doorkeeper" of TinyLFU, as in Caffeine) remembers it in between. Texts with literals inlined (psql, psycopg2,
 * {@code pgbench -M simple}, anything through the proxy's simple protocol) are new on every statement; without the
 * doorkeeper each one was put into the map, and the map filled and was cleared every {@code capacity} statements,
 * so those workloads paid a put and a growing, cold table on top of the classifier, and evicted the texts that do
 * repeat. With it they pay one probe of a small table and one store into an {@code int[]}. A text that repeats is
 * classified twice before it is kept.
 *
 * <p>Bounded: when full the map is cleared and fills again with what is in use. Texts longer than {@link #MAX_TEXT}
 * are not kept.
 *
 * <h2>Concurrency</h2>
 * The map is a {@link ConcurrentHashMap}. The doorkeeper is a plain {@code int[]} read and written without
 * synchronisation: {@code int} stores are atomic, and a lost or stale store only delays (or hastens) one text's
 * admission by a sighting; what is cached is always the classifier's answer for that very text.
 */
final class ClassificationCache {

    static final int MAX_TEXT = 4096;

    private final SqlClassifier classifier;
    private final int capacity;
    private final ConcurrentHashMap<String, Classification> cache;
    /** Hashes of texts seen once and not (yet) admitted, indexed by their spread hash; length a power of two. */
    private final int[] seenOnce;

    ClassificationCache(SqlClassifier classifier, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.classifier = classifier;
        this.capacity = capacity;
        this.cache = new ConcurrentHashMap<>(Math.min(capacity, 256));
        this.seenOnce = new int[Integer.highestOneBit(Math.max(16, capacity - 1)) << 1];
    }

    Classification classify(String sql) {
        if (sql == null || sql.length() > MAX_TEXT) {
            return classifier.classify(sql);
        }
        Classification c = cache.get(sql);
        if (c == null) {
            c = classifier.classify(sql);
            int h = sql.hashCode(); // cached by the String since the probe above
            int slot = (h ^ (h >>> 16)) & (seenOnce.length - 1);
            if (seenOnce[slot] != h) {
                seenOnce[slot] = h; // first sighting (or its slot was taken since): remember it, keep nothing
                return c;
            }
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

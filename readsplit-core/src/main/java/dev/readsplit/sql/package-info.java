/**
 * The SQL classifier: a pure function of SQL text that says whether a statement may run on a replica
 * ({@link dev.readsplit.sql.Classification#isRead()}), why ({@link dev.readsplit.sql.Reason}), which routing
 * hint it carries ({@link dev.readsplit.sql.Hint}, {@code max-lag}) and what it does to the session
 * ({@link dev.readsplit.sql.SessionEffect}). Entry point: {@link dev.readsplit.sql.SqlClassifier}.
 */
package dev.readsplit.sql;

/**
 * Replica selection: one {@link dev.readsplit.balance.Balancer} interface over
 * {@link dev.readsplit.balance.Candidate}s, made by {@link dev.readsplit.balance.Balancers#create}. Every
 * implementation is thread-safe, lock-free and allocation-free per call; see each class for its concurrency.
 */
package dev.readsplit.balance;

package dev.readsplit.embedded;

/** A node's role as the server itself reports it ({@code pg_is_in_recovery()}). */
public enum NodeRole {
    PRIMARY,
    STANDBY
}

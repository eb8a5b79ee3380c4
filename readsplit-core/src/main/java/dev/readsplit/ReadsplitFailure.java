package dev.readsplit;

import java.util.Optional;

/**
 * What every exception Readsplit throws of its own is: {@link ReadsplitException} (a checked {@code SQLException},
 * from JDBC calls), {@code dev.readsplit.config.ConfigException} (an {@code IllegalArgumentException}, from building
 * or loading a configuration, which must fail fast where no checked exception can be thrown) and
 * {@code dev.readsplit.failover.FailoverException} (from failover, switchover and rejoin). Each names what was wrong in
 * its message (never a secret) and says it for programs in {@link #reason()}; see {@code docs/architecture.md}, "Public
 * API".
 *
 * <p>Java cannot catch an interface, and one class cannot be both a checked {@code SQLException} (what JDBC callers
 * and frameworks expect) and an unchecked exception (what a builder or an operator call throws): so the exception
 * types stay what their callers catch, and this interface is the one thing to test for and read the reason of,
 * directly or through the wrappers of frameworks ({@link #find(Throwable)}). It is not {@code sealed} because its
 * implementations live in the packages they belong to and a sealed base would make this package depend on them (a
 * package cycle); {@code ArchitectureTest} keeps the list of implementations closed instead.
 */
public interface ReadsplitFailure {

    /** Why Readsplit refused or failed, for programs. */
    ReadsplitException.Reason reason();

    /** The message: what was wrong, naming the data source, key, node or step concerned (never a secret). */
    String getMessage();

    /**
     * The first Readsplit failure in {@code t}'s cause chain ({@code t} included), as a framework may wrap it (Spring's
     * {@code DataAccessException}, a {@code CompletionException}...); empty if there is none.
     */
    static Optional<ReadsplitFailure> find(Throwable t) {
        int depth = 0;
        for (Throwable c = t; c != null && depth < 32; c = c.getCause(), depth++) {
            if (c instanceof ReadsplitFailure f) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}

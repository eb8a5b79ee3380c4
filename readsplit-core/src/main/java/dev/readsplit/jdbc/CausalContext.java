package dev.readsplit.jdbc;

import dev.readsplit.consistency.CausalPosition;
import dev.readsplit.consistency.CausalToken;

import java.sql.SQLException;

/**
 * An explicit causal scope, for code that hands work between threads or executors: every logical connection
 * opened on a thread the context is attached to shares the context's causal position, whatever the data source's
 * {@code causalScope}. Opened attached to the current thread; {@link #attach()} attaches it to another one.
 * <pre>{@code
 * try (CausalContext ctx = ds.causalContext()) {
 *     try (Connection c = ds.getConnection()) { ... write ... }
 *     executor.submit(() -> {
 *         try (var attached = ctx.attach(); Connection c = ds.getConnection()) { ... reads see the write ... }
 *     }).get();
 * }
 * }</pre>
 * For another process, export {@link #token()} and import it there ({@code ds.causalContext(token)} or
 * {@code ReadsplitConnection.observe}). See {@code docs/consistency.md}.
 *
 * <p>Concurrency: the position is thread-safe; attachments are per thread and must be closed on the thread that
 * made them (try-with-resources does).
 */
public final class CausalContext implements AutoCloseable {

    private final ReadsplitDataSource ds;
    private final CausalPosition position;
    private final Attachment own;

    CausalContext(ReadsplitDataSource ds, CausalPosition position) {
        this.ds = ds;
        this.position = position;
        this.own = new Attachment(this);
    }

    /** Attaches this context to the current thread until the returned attachment is closed (they nest). */
    public Attachment attach() {
        return new Attachment(this);
    }

    /**
     * The context's causal position as a token to hand to another process, or {@code null} when nothing in it wrote
     * or imported a token. Taken from the primary now if a write is pending.
     *
     * @throws SQLException if the position cannot be computed (then reads could not be guaranteed to see the writes)
     */
    public CausalToken token() throws SQLException {
        return ds.tokenOf(position);
    }

    /** Imports a token: reads in this context only go to replicas that have replayed it. Null is rejected. */
    public void observe(CausalToken token) throws SQLException {
        if (token == null) {
            throw new IllegalArgumentException(CausalToken.MISSING);
        }
        ds.checkToken(token);
        position.observe(token.lsn());
    }

    CausalPosition position() {
        return position;
    }

    /** Detaches the context from the thread that opened it. */
    @Override
    public void close() {
        own.close();
    }

    /** One attachment of a context to a thread; closing it restores what that thread had before. */
    public static final class Attachment implements AutoCloseable {
        private final CausalContext context;
        private final Thread thread = Thread.currentThread();
        private final CausalPosition previous;
        private boolean closed;

        private Attachment(CausalContext context) {
            this.context = context;
            this.previous = context.ds.causalScopes().attach(context.position);
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            if (Thread.currentThread() != thread) {
                throw new IllegalStateException("a causal context attachment must be closed on the thread that made it ("
                        + thread.getName() + ")");
            }
            closed = true;
            context.ds.causalScopes().detach(previous);
        }
    }
}

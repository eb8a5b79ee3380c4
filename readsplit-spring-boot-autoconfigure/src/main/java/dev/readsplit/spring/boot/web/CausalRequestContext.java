package dev.readsplit.spring.boot.web;

import dev.readsplit.consistency.CausalToken;
import dev.readsplit.jdbc.ReadsplitConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;

/**
 * A request's causal position on the thread that serves it: opened by {@link CausalTokenFilter} with the token
 * the client sent, handed to every Readsplit connection the request opens ({@link CausalTrackingDataSource}), and
 * advanced by each connection's own position when it closes, so that the response carries the latest commit the
 * request made.
 *
 * <p>This is the Boot side's adapter over core's read-your-writes: with a core that has only per-connection
 * sessions it is what makes one HTTP request a session (Spring opens one connection per transaction or
 * template call). Code that hands the request's work to another thread must carry the token itself
 * ({@link Scope#position()}, {@code ReadsplitConnection.observe}).
 *
 * <p>Concurrency: one {@link Scope} per thread (a {@link ThreadLocal}); a scope is only touched by the thread that
 * opened it.
 */
public final class CausalRequestContext {

    private static final Logger log = LoggerFactory.getLogger(CausalRequestContext.class);

    private final ThreadLocal<Scope> current = new ThreadLocal<>();

    /** Opens the request's scope with the client's token (null for none); close it at the end of the request. */
    public Scope open(CausalToken imported) {
        Scope scope = new Scope(imported, current.get());
        current.set(scope);
        return scope;
    }

    /** The scope open on this thread, or null. */
    public Scope current() {
        return current.get();
    }

    /** A connection of the request was opened: it reads at least the request's position. */
    void connectionOpened(ReadsplitConnection connection) throws SQLException {
        Scope scope = current.get();
        if (scope != null && scope.position != null) {
            try {
                connection.observe(scope.position);
            } catch (SQLException e) {
                if (!"22023".equals(e.getSQLState())) {
                    throw e;
                }
                // a token of another cluster (a cookie from another environment): ignored, not honoured
                log.debug("causal token of another cluster ignored: {}", e.getMessage());
                scope.position = null;
            }
        }
    }

    /** A connection of the request is closing: its position (at or past its last commit) joins the request's. */
    void connectionClosing(ReadsplitConnection connection) throws SQLException {
        Scope scope = current.get();
        if (scope == null) {
            return;
        }
        CausalToken t = connection.causalToken();
        if (t != null) {
            scope.advance(t);
        }
    }

    /** One request's position. */
    public final class Scope implements AutoCloseable {
        private final CausalToken imported;
        private final Scope outer;
        private CausalToken position;

        private Scope(CausalToken imported, Scope outer) {
            this.imported = imported;
            this.outer = outer;
            this.position = imported;
        }

        void advance(CausalToken t) {
            position = position == null || position.systemIdentifier() != t.systemIdentifier() ? t : position.max(t);
        }

        /** The latest position of the request: the imported token or a later commit, or null for neither. */
        public CausalToken position() {
            return position;
        }

        /** Whether the request committed past what the client sent. */
        public boolean advanced() {
            return position != null && (imported == null || position.compareTo(imported) > 0
                    || position.systemIdentifier() != imported.systemIdentifier());
        }

        @Override
        public void close() {
            if (outer == null) {
                current.remove();
            } else {
                current.set(outer);
            }
        }
    }
}

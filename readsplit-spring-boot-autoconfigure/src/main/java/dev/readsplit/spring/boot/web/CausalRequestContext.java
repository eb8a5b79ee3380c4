package dev.readsplit.spring.boot.web;

import dev.readsplit.consistency.CausalToken;
import dev.readsplit.jdbc.CausalContext;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;

/**
 * One HTTP request as one read-your-writes session: the Boot side's adapter over core's {@link CausalContext}.
 * {@link #open} attaches a context to the serving thread, starting from the token the client sent, so every
 * Readsplit connection the request opens on that thread (Spring opens one per transaction or template call) reads
 * at least that position and advances it with its writes; {@link Scope#advancedToken()} is the request's position at the
 * end, for the response. Work the request hands to another thread must attach the context there
 * ({@link Scope#context()}, {@code CausalContext.attach()}).
 */
public final class CausalRequestContext {

    private static final Logger log = LoggerFactory.getLogger(CausalRequestContext.class);

    private final ReadsplitDataSource dataSource;

    public CausalRequestContext(ReadsplitDataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Opens the request's scope on this thread with the client's token (null for none). A token of another
     * cluster (a cookie from another environment) is ignored, not honoured.
     */
    public Scope open(CausalToken imported) {
        if (imported != null) {
            try {
                return new Scope(dataSource.causalContext(imported), imported);
            } catch (SQLException | IllegalArgumentException e) {
                log.debug("{}: causal token ignored: {}", dataSource.name(), e.getMessage());
            }
        }
        return new Scope(dataSource.causalContext(), null);
    }

    /** One request's causal context. */
    public final class Scope implements AutoCloseable {
        private final CausalContext context;
        private final CausalToken imported;

        private Scope(CausalContext context, CausalToken imported) {
            this.context = context;
            this.imported = imported;
        }

        /** Core's context, to attach to another thread the request hands work to. */
        public CausalContext context() {
            return context;
        }

        /**
         * The request's position when it advanced past what the client sent, else null. A position that cannot
         * be computed (the primary unreachable at the end of a request that wrote) is logged and gives null: the
         * client then keeps its old token.
         */
        public CausalToken advancedToken() {
            CausalToken now;
            try {
                now = context.token();
            } catch (SQLException | RuntimeException e) {
                log.warn("{}: the request's causal position could not be computed; no new token sent: {}",
                        dataSource.name(), e.getMessage());
                return null;
            }
            if (now == null) {
                return null;
            }
            if (imported != null && now.systemIdentifier() == imported.systemIdentifier()
                    && now.compareTo(imported) <= 0) {
                return null;
            }
            return now;
        }

        @Override
        public void close() {
            context.close();
        }
    }
}

package dev.readsplit.proxy;

import dev.readsplit.Consistency;
import dev.readsplit.consistency.CausalToken;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.routing.Decision;
import dev.readsplit.routing.Router;
import dev.readsplit.routing.SessionState;

import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * Answers a client session's own {@code SHOW}, {@code SET} and {@code RESET} of {@code readsplit.*} settings (the
 * causal token, the consistency and max lag, the last route; docs/proxy.md, "readsplit.* settings"), in the simple
 * and the extended protocol, without a backend.
 */
final class ReadsplitCommands {

    /** What it needs of its session beyond the session's state. */
    interface Session {
        /** The transaction status for the ReadyForQuery that ends an answer. */
        char status();

        /** The last decision taken, or null. */
        Decision lastRoute();

        /** The session's causal token ("" when it has none), asking the primary if a write is pending. */
        String token() throws IOException, BackendConnection.BackendError, SQLException;

        /** Ends a simple query's answer: its tag, then ReadyForQuery. */
        void complete(String tag);

        /** Ends a simple query's answer with an error, then ReadyForQuery. */
        void error(String sqlState, String message);

        /** An error of the proxy's own went to the client (in a pipeline): a transaction the client is in fails. */
        void errorSent();
    }

    private final ReadsplitDataSource ds;
    private final Router router;
    private final SessionState state;
    private final Exchange.ClientOutput out;
    /** The client's prepared statements (the session's map): a readsplit statement prepared by name lives there too. */
    private final Map<String, byte[]> statements;
    private final Session session;

    ReadsplitCommands(ReadsplitDataSource ds, Router router, SessionState state, Exchange.ClientOutput out,
                      Map<String, byte[]> statements, Session session) {
        this.ds = ds;
        this.router = router;
        this.state = state;
        this.out = out;
        this.statements = statements;
        this.session = session;
    }

    /** What the proxy answers to a {@code readsplit.*} statement: an error, or its row (SHOW) and tag. */
    private record Answer(String sqlState, String message, String value) {
        static Answer error(String sqlState, String message) {
            return new Answer(sqlState, message, null);
        }
    }

    /** {@code SHOW/SET/RESET readsplit.*} as a simple query, answered by the proxy itself; false for any other text. */
    boolean simpleQuery(String sql) {
        ReadsplitStatement st = ReadsplitStatement.parse(sql);
        if (st == null) {
            return false;
        }
        Answer a = run(st);
        if (a.sqlState() != null) {
            session.error(a.sqlState(), a.message());
            return true;
        }
        if (st.column() != null) {
            out.write(Msg.rowDescription(st.column()));
            out.write(Msg.dataRow(a.value()));
        }
        session.complete(st.tag());
        return true;
    }

    /**
     * A pipeline whose one statement is a {@code readsplit.*} statement, answered message by message as PostgreSQL
     * would (ParseComplete, BindComplete, descriptions, the row, the tag), the statement run once; false otherwise.
     */
    boolean pipeline(List<Msg> batch, String sql) {
        ReadsplitStatement st = ReadsplitStatement.parse(sql);
        if (st == null) {
            return false;
        }
        for (Msg m : batch) {
            if (m.type() == 'P' && ReadsplitStatement.parse(m.parseQuery()) == null) {
                return false; // another statement in the same pipeline: not the proxy's to answer
            }
        }
        Answer a = null;
        boolean failed = false;
        for (Msg m : batch) {
            if (failed && m.type() != 'S') {
                continue;
            }
            switch (m.type()) {
                case 'P' -> {
                    String name = m.cstring(0);
                    if (!name.isEmpty() && statements.containsKey(name)) {
                        out.write(Msg.alreadyPrepared(name));
                        session.errorSent();
                        failed = true;
                    } else {
                        statements.put(name, m.body());
                        out.write(Msg.builder('1').build());
                    }
                }
                case 'B' -> out.write(Msg.builder('2').build());
                case 'D' -> {
                    if (m.body()[0] == 'S') {
                        out.write(Msg.builder('t').int16(0).build());
                    }
                    out.write(st.column() != null ? Msg.rowDescription(st.column()) : Msg.builder('n').build());
                }
                case 'E' -> {
                    if (a == null) {
                        a = run(st);
                    }
                    if (a.sqlState() != null) {
                        out.write(Msg.error(a.sqlState(), a.message()));
                        session.errorSent();
                        failed = true;
                    } else {
                        if (st.column() != null) {
                            out.write(Msg.dataRow(a.value()));
                        }
                        out.write(Msg.commandComplete(st.tag()));
                    }
                }
                case 'C' -> {
                    if (m.body()[0] == 'S') {
                        statements.remove(m.cstring(1));
                    }
                    out.write(Msg.builder('3').build());
                }
                case 'S' -> out.write(Msg.ready(session.status()));
                default -> { }
            }
        }
        out.flush();
        return true;
    }

    private String lastRoute() {
        Decision d = session.lastRoute();
        return d == null ? "" : d.node().name() + " (" + d.reason() + ")";
    }

    /** Runs a readsplit statement on this session. */
    private Answer run(ReadsplitStatement st) {
        String name = st.name();
        switch (st.kind()) {
            case SET -> {
                String error = set(name, st.value());
                return error != null ? Answer.error("22023", error) : new Answer(null, null, null);
            }
            case RESET -> {
                if (name.equals("consistency") || name.equals("max_lag")) {
                    state.consistencyOverride(null);
                    return new Answer(null, null, null);
                }
                return Answer.error("42704", "readsplit proxy: cannot reset readsplit." + name
                        + " (consistency, max_lag)");
            }
            default -> {
                String value;
                try {
                    value = switch (name) {
                        case "token" -> session.token();
                        case "consistency" -> router.consistency(state).toString();
                        case "last_route" -> lastRoute();
                        default -> null;
                    };
                } catch (IOException | BackendConnection.BackendError | SQLException e) {
                    return Answer.error("08006", ds.name() + ": the causal token cannot be taken from the primary: "
                            + e.getMessage());
                }
                if (value == null) {
                    return Answer.error("42704", "unrecognized configuration parameter \"readsplit." + name
                            + "\" (readsplit proxy: token, consistency, last_route)");
                }
                return new Answer(null, null, value);
            }
        }
    }

    /** Applies {@code readsplit.<name> = value}; returns an error message, or null when applied. */
    String set(String name, String value) {
        try {
            switch (name) {
                case "token" -> {
                    if (value.isEmpty()) {
                        return null; // no token to import: nothing to wait for
                    }
                    CausalToken token = CausalToken.parse(value);
                    ds.checkToken(token);
                    state.observeCausal(token.lsn());
                }
                case "consistency" -> state.consistencyOverride(Consistency.parse(value));
                case "max_lag" -> state.consistencyOverride(Consistency.parse("bounded_staleness:" + value));
                default -> {
                    return "unrecognized configuration parameter \"readsplit." + name
                            + "\" (readsplit proxy: token, consistency, max_lag)";
                }
            }
            return null;
        } catch (IllegalArgumentException | SQLException e) {
            return "invalid value for readsplit." + name + ": " + e.getMessage();
        }
    }
}

package dev.readsplit.cli;

import dev.readsplit.sql.Classification;
import dev.readsplit.sql.Hint;
import dev.readsplit.sql.Reason;
import dev.readsplit.sql.SessionEffect;
import dev.readsplit.sql.SqlClassifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Shows where a statement would go and why, with the classifier the data source uses, for a connection in
 * autocommit that is not read-only (design §2 rule 3; a read-write transaction sends everything to the primary).
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = {"Show where a SQL statement would be routed and why (reason code, hint, max-lag, "
                + "session effect, user functions checked in pg_proc).",
            "Assumes an autocommit, read-write connection: inside a read-write transaction every statement "
                + "goes to the primary; on a read-only connection every statement goes to a replica."})
final class ClassifyCommand implements Callable<Integer> {

    @Parameters(arity = "1..*", paramLabel = "SQL", description = "One or more statements (quote each one).")
    List<String> statements;

    @Option(names = "--json", description = "Print JSON (one object, or an array for several statements).")
    boolean json;

    @Option(names = "--write-function", split = ",", paramLabel = "NAME",
            description = "Treat these functions as writing (like the writeFunctions setting).")
    List<String> writeFunctions = List.of();

    @Option(names = "--read-function", split = ",", paramLabel = "NAME",
            description = "Treat these functions as read-only (like the readFunctions setting).")
    List<String> readFunctions = List.of();

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        SqlClassifier classifier = SqlClassifier.builder()
                .writeFunctions(writeFunctions.toArray(String[]::new))
                .readFunctions(readFunctions.toArray(String[]::new))
                .build();
        PrintWriter out = spec.commandLine().getOut();
        List<Object> results = Json.array();
        boolean first = true;
        for (String sql : statements) {
            Classification c = classifier.classify(sql);
            Verdict v = verdict(c);
            if (json) {
                results.add(toJson(sql, c, v));
                continue;
            }
            if (!first) {
                out.println();
            }
            first = false;
            out.println(sql.strip());
            out.println("  route:          " + v.route);
            out.println("  why:            " + v.why);
            out.println("  reason:         " + c.reason() + " (" + describe(c.reason()) + ")");
            out.println("  hint:           " + (c.hint() == Hint.NONE ? "none" : "/* readsplit:"
                    + c.hint().name().toLowerCase(Locale.ROOT) + " */"));
            out.println("  max lag:        " + (c.maxLagMillis() < 0 ? "none (the data source's maxLag applies)"
                    : c.maxLagMillis() + " ms (only replicas lagging less)"));
            out.println("  session effect: " + c.sessionEffect() + effectNote(c.sessionEffect()));
            out.println("  user functions: " + (c.userFunctions().isEmpty() ? "none"
                    : String.join(", ", c.userFunctions()) + " (looked up in pg_proc: VOLATILE sends the statement to the primary)"));
        }
        if (json) {
            out.print(Json.write(results.size() == 1 ? results.get(0) : results));
        }
        out.flush();
        return ReadsplitCommand.EXIT_OK;
    }

    private record Verdict(String route, String why) {
    }

    /** Mirrors the router's order for an autocommit, read-write connection without a primary scope. */
    static Verdict verdict(Classification c) {
        if (c.hint() == Hint.PRIMARY) {
            return new Verdict("primary", "a /* readsplit:primary */ hint (explicit control wins)");
        }
        if (c.hint() == Hint.REPLICA && c.sessionEffect() != SessionEffect.BEGIN_TRANSACTION) {
            return new Verdict("replica", "a /* readsplit:replica */ hint (explicit control wins; the primary "
                    + "if no replica is eligible and fallback is on)");
        }
        if (!c.isRead()) {
            String why = switch (c.sessionEffect()) {
                case PIN_TO_PRIMARY -> "creates session state that cannot follow the session: the connection "
                        + "stays on the primary until it closes";
                case SET_SESSION_STATE -> "session state: runs on the primary and is re-applied to every "
                        + "physical connection of the session";
                case BEGIN_TRANSACTION -> "opens a transaction: every statement until COMMIT/ROLLBACK goes to "
                        + "the primary";
                case END_TRANSACTION -> "transaction control";
                default -> "not certainly a read (" + describe(c.reason()) + "): fail closed";
            };
            return new Verdict("primary", why);
        }
        StringBuilder why = new StringBuilder("a read: a replica chosen by the balancer");
        if (c.maxLagMillis() >= 0) {
            why.append(", lagging less than ").append(c.maxLagMillis()).append(" ms");
        }
        why.append("; under read-your-writes, after the session wrote, only a replica that has replayed its "
                + "commit (else it waits, then the primary)");
        if (!c.userFunctions().isEmpty()) {
            return new Verdict("replica, unless " + String.join("/", c.userFunctions())
                    + " is VOLATILE in pg_proc (then primary)", why.toString());
        }
        return new Verdict("replica", why.toString());
    }

    private static Map<String, Object> toJson(String sql, Classification c, Verdict v) {
        Map<String, Object> o = Json.object();
        o.put("sql", sql);
        o.put("route", v.route.startsWith("replica") ? "replica" : "primary");
        o.put("read", c.isRead());
        o.put("reason", c.reason().name());
        o.put("why", v.why);
        o.put("hint", c.hint().name());
        o.put("maxLagMillis", c.maxLagMillis() < 0 ? null : c.maxLagMillis());
        o.put("sessionEffect", c.sessionEffect().name());
        o.put("pinsToPrimary", c.sessionEffect() == SessionEffect.PIN_TO_PRIMARY);
        o.put("userFunctions", List.copyOf(c.userFunctions()));
        o.put("userFunctionsCheckedInPgProc", !c.userFunctions().isEmpty());
        return o;
    }

    private static String effectNote(SessionEffect e) {
        return switch (e) {
            case NONE -> "";
            case SET_SESSION_STATE -> " (re-applied on every physical connection of the session)";
            case PIN_TO_PRIMARY -> " (pins the connection to the primary until it closes)";
            case BEGIN_TRANSACTION -> " (the transaction stays on the primary)";
            case END_TRANSACTION -> " (ends the transaction)";
        };
    }

    static String describe(Reason r) {
        return switch (r) {
            case READ -> "certainly read-only";
            case WRITE -> "data-modifying statement";
            case DDL -> "schema or maintenance command";
            case LOCKING_CLAUSE -> "locking read: FOR UPDATE/SHARE or LOCK";
            case SELECT_INTO -> "SELECT ... INTO creates a table";
            case DATA_MODIFYING_CTE -> "WITH query containing a write";
            case WRITE_FUNCTION -> "calls a function that writes or must run on the primary";
            case EXPLAIN_ANALYZE_WRITE -> "EXPLAIN ANALYZE executes a write";
            case TRANSACTION_CONTROL -> "transaction control";
            case SESSION_STATE -> "session setting";
            case SESSION_PIN -> "session state that cannot follow the session";
            case COPY_FROM -> "COPY ... FROM writes";
            case CALL -> "procedural code: CALL or DO";
            case MULTI_STATEMENT_WRITE -> "several statements, at least one not a read";
            case EMPTY -> "nothing to execute";
            case UNKNOWN -> "not recognised or not lexically valid";
        };
    }
}

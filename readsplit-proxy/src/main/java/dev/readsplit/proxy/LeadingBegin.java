package dev.readsplit.proxy;

import java.util.List;
import java.util.Map;

/**
 * The execution of a {@code BEGIN} that leads an extended-protocol pipeline (what pgjdbc sends ahead of a transaction's
 * first statement when autocommit is off, and pgbench's extended and prepared modes send alone): found among the
 * pipeline's first messages, and answered as PostgreSQL answers them, so that the proxy can defer the {@code BEGIN} to
 * the node of the transaction's first statement (docs/proxy.md, transactions).
 */
final class LeadingBegin {

    /**
     * The leading {@code BEGIN}: its text and how many of the pipeline's first messages run it (an optional Parse, the
     * Bind, an optional Describe, the Execute).
     */
    record Found(String sql, int messages) { }

    private LeadingBegin() {
    }

    /**
     * The statement the pipeline's first messages run once, if they are a Parse (optional) of a statement without
     * declared parameter types, a Bind of it to the unnamed portal without parameters, a Describe of it or of that
     * portal (optional) and an Execute of the portal, and nothing after them uses that portal before binding it again;
     * else null. {@code statements} are the session's prepared statements (name to Parse body) for a Bind of one
     * prepared earlier. Only the shape is checked: whether the text is a plain {@code BEGIN} is the caller's question.
     */
    static Found find(List<Msg> pipeline, Map<String, byte[]> statements) {
        int i = 0;
        String parsedName = null;
        String text = null;
        if (i < pipeline.size() && pipeline.get(i).type() == 'P') {
            Msg p = pipeline.get(i++);
            int query = p.end(0);
            int types = p.end(query);
            if (types + 2 > p.body().length || p.int16(types) != 0) {
                return null;
            }
            parsedName = p.cstring(0);
            text = p.cstring(query);
        }
        if (i >= pipeline.size() || pipeline.get(i).type() != 'B') {
            return null;
        }
        Msg bind = pipeline.get(i++);
        if (bind.body().length < 2) {
            return null; // malformed: the server says so
        }
        int stmtAt = bind.end(0);
        if (stmtAt != 1) {
            return null; // a named portal: it may be executed again later in the pipeline
        }
        String stmt = bind.bindStatement();
        if (parsedName == null) {
            byte[] body = statements.get(stmt);
            if (body == null) {
                return null; // unknown to the session: the backend answers as PostgreSQL would
            }
            text = new Msg((byte) 'P', body).parseQuery();
        } else if (!parsedName.equals(stmt)) {
            return null;
        }
        int formats = bind.end(stmtAt);
        if (formats + 2 > bind.body().length) {
            return null;
        }
        int params = formats + 2 + 2 * bind.int16(formats);
        if (params + 2 > bind.body().length || bind.int16(params) != 0) {
            return null;
        }
        if (i < pipeline.size() && pipeline.get(i).type() == 'D') {
            Msg d = pipeline.get(i);
            if (d.body().length < 2) {
                return null;
            }
            char kind = (char) d.body()[0];
            String name = d.cstring(1);
            if (!(kind == 'P' && name.isEmpty()) && !(kind == 'S' && name.equals(stmt))) {
                return null;
            }
            i++;
        }
        if (i >= pipeline.size() || pipeline.get(i).type() != 'E' || !pipeline.get(i).cstring(0).isEmpty()) {
            return null;
        }
        i++;
        for (int j = i; j < pipeline.size(); j++) {
            Msg m = pipeline.get(j);
            if (m.type() == 'B' && m.cstring(0).isEmpty()) {
                break; // the unnamed portal is bound anew: the BEGIN's is gone
            }
            if ((m.type() == 'E' && m.cstring(0).isEmpty())
                    || (m.type() == 'D' && (m.body().length < 2 || (m.body()[0] == 'P' && m.cstring(1).isEmpty())))) {
                return null; // the BEGIN's portal used again: it must exist where that runs
            }
        }
        return new Found(text, i);
    }

    /**
     * Answers {@code messages} (a {@link Found}'s) as PostgreSQL does for a statement without parameters that returns
     * no rows: ParseComplete, BindComplete, for a Describe of the statement an empty ParameterDescription, NoData,
     * then the Execute's CommandComplete with {@code tag}. For the proxy's deferred {@code BEGIN}, and for the
     * {@code COMMIT} of a transaction the proxy's own error failed before its {@code BEGIN} was sent ({@code ROLLBACK}).
     */
    static void answer(List<Msg> messages, String tag, Exchange.ClientOutput out) {
        for (Msg m : messages) {
            switch (m.type()) {
                case 'P' -> out.write(Msg.builder('1').build());
                case 'B' -> out.write(Msg.builder('2').build());
                case 'D' -> {
                    if (m.body()[0] == 'S') {
                        out.write(Msg.builder('t').int16(0).build());
                    }
                    out.write(Msg.builder('n').build());
                }
                case 'E' -> out.write(Msg.commandComplete(tag));
                default -> throw new IllegalArgumentException("not a message of a leading BEGIN: " + m);
            }
        }
    }

    /** The command tag PostgreSQL gives a {@code BEGIN} or {@code START TRANSACTION} text. */
    static String tag(String beginSql) {
        return beginSql.stripLeading().regionMatches(true, 0, "START", 0, 5) ? "START TRANSACTION" : "BEGIN";
    }
}

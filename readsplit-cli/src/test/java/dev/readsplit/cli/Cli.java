package dev.readsplit.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs the command line in-process with captured output. */
record Cli(int exitCode, String out, String err) {

    static Cli run(String... args) {
        return run(Map.of(), args);
    }

    static Cli run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = ReadsplitCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), env, args);
        return new Cli(code, out.toString(), err.toString());
    }

    String all() {
        return out + err;
    }
}

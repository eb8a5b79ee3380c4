package dev.readsplit.cli;

import dev.readsplit.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code readsplit} executable. Exit codes: 0 success, 1 the command ran and found a problem (a
 * read-your-writes violation, a failed read, a cluster not fit to serve), 2 bad usage or configuration
 * (picocli's convention), 3 an unexpected failure.
 */
@Command(name = "readsplit",
        mixinStandardHelpOptions = true,
        versionProvider = ReadsplitCommand.Version.class,
        description = "Readsplit: a PostgreSQL primary and its streaming replicas used as one database.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:the command ran and found a problem (RYW violation, failed read, cluster not fit to serve)",
            "2:bad usage or invalid configuration (nothing was started)",
            "3:unexpected failure",
            "130:stopped by SIGINT (Ctrl-C); demo prints its summary and stops its cluster first",
            "143:stopped by SIGTERM; demo prints its summary and stops its cluster first"},
        subcommands = {DemoCommand.class, CheckCommand.class, ClassifyCommand.class, BenchCommand.class, ProxyCommand.class,
            CommandLine.HelpCommand.class})
public final class ReadsplitCommand implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_PROBLEM = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_FAILURE = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    ReadsplitCommand(Map<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        System.exit(execute(out, err, System.getenv(), args));
    }

    /** Runs the command line in-process on {@code System.out}/{@code System.err} and returns the exit code. */
    public static int execute(String... args) {
        return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), System.getenv(), args);
    }

    /**
     * Runs the command line in-process with the given streams and environment (the configuration source of
     * last resort) and returns the exit code. Tests use this.
     */
    public static int execute(PrintWriter out, PrintWriter err, Map<String, String> env, String... args) {
        CommandLine cl = new CommandLine(new ReadsplitCommand(env));
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter e = commandLine.getErr();
            if (ex instanceof ConfigException ce) {
                reportConfigProblems(e, ce);
                e.flush();
                return EXIT_USAGE;
            }
            e.println(commandLine.getColorScheme().errorText("readsplit: " + ex));
            e.flush();
            return EXIT_FAILURE;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /** At most this many distinct problems are printed; the rest are counted. */
    static final int MAX_PROBLEMS = 20;
    /** A problem's text is cut past this many characters (a message may quote a whole URL of 5,000 hosts). */
    static final int MAX_PROBLEM_CHARS = 400;

    /**
     * Each distinct problem once, on its own line, with how many times it was found when more than once; at most
     * {@value #MAX_PROBLEMS} of them, each cut at {@value #MAX_PROBLEM_CHARS} characters, so the report stays
     * readable and bounded whatever the input. Messages name the key and the value (secrets masked by the config
     * layer).
     */
    static void reportConfigProblems(PrintWriter err, ConfigException e) {
        Map<String, Integer> distinct = new java.util.LinkedHashMap<>();
        for (ConfigException.Problem p : e.problems()) {
            distinct.merge(p.message(), 1, Integer::sum);
        }
        int n = distinct.size();
        err.println("readsplit: invalid configuration (" + n + (n == 1 ? " problem" : " problems") + "):");
        int shown = 0;
        for (Map.Entry<String, Integer> p : distinct.entrySet()) {
            if (shown++ == MAX_PROBLEMS) {
                err.println("  ... and " + (n - MAX_PROBLEMS) + " more");
                break;
            }
            String m = p.getKey();
            if (m.length() > MAX_PROBLEM_CHARS) {
                m = m.substring(0, MAX_PROBLEM_CHARS) + "... (" + (m.length() - MAX_PROBLEM_CHARS) + " more characters)";
            }
            err.println("  - " + m.replace("\n", "\n    ") + (p.getValue() > 1 ? " (" + p.getValue() + " times)" : ""));
        }
    }

    Map<String, String> env() {
        return env;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The build's version, from the resource the build filters ({@code version.properties}). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"readsplit " + version(), "Java " + System.getProperty("java.version") + " ("
                    + System.getProperty("java.vendor") + "), " + System.getProperty("os.name") + " "
                    + System.getProperty("os.arch")};
        }

        static String version() {
            java.util.Properties p = new java.util.Properties();
            try (java.io.InputStream in = ReadsplitCommand.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (java.io.IOException e) {
                // fall through to the manifest
            }
            String v = p.getProperty("version");
            if (v == null || v.isBlank() || v.startsWith("${")) {
                v = ReadsplitCommand.class.getPackage().getImplementationVersion();
            }
            if (v == null) {
                throw new IllegalStateException("readsplit's version.properties is missing from the jar");
            }
            return v;
        }
    }
}

package dev.readsplit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code readsplit} executable. Exit codes: 0 success, 1 the command ran and found a problem,
 * 2 bad usage or configuration (picocli's convention), 3 an unexpected failure.
 */
@Command(name = "readsplit",
        mixinStandardHelpOptions = true,
        versionProvider = ReadsplitCommand.Version.class,
        description = "Readsplit: a PostgreSQL primary and its streaming replicas used as one database.",
        subcommands = {DemoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class ReadsplitCommand implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_PROBLEM = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_FAILURE = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line in-process (tests use this) and returns the exit code. */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new ReadsplitCommand());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            commandLine.getErr().println(commandLine.getColorScheme().errorText("readsplit: " + ex.getMessage()));
            return EXIT_FAILURE;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ReadsplitCommand.class.getPackage().getImplementationVersion();
            return new String[] {"readsplit " + (v != null ? v : "development build")};
        }
    }
}

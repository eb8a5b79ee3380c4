package dev.readsplit.config;

import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitFailure;

import java.util.List;
import java.util.Objects;

/**
 * The one exception type for invalid configuration. It names the offending key ({@link #key()}) and can carry
 * several problems at once ({@link #problems()}): {@link ReadsplitConfig.Builder#build()},
 * {@link ReadsplitConfig#fromProperties} and {@link ReadsplitUrl#parse} report every problem they find in one
 * exception, one problem per line of the message.
 *
 * <p>Unchecked, because a builder fails fast where no checked exception can be thrown; it is a
 * {@link ReadsplitFailure} with the reason {@link ReadsplitException.Reason#INVALID_CONFIG}, and a JDBC call that meets
 * it (a bad {@code jdbc:readsplit:} URL) throws a {@link ReadsplitException} with that reason and this as its cause.
 *
 * <p>Messages never contain a password or other secret: values of secret keys are never echoed.
 */
public final class ConfigException extends IllegalArgumentException implements ReadsplitFailure {

    private static final long serialVersionUID = 1L;

    /** One configuration problem: the key it concerns and a message that names the key and the bad value. */
    public record Problem(String key, String message) {
        public Problem {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(message, "message");
        }

        @Override
        public String toString() {
            return message;
        }
    }

    private final transient List<Problem> problems;

    /** A single problem. */
    public ConfigException(String key, String message) {
        this(List.of(new Problem(key, message)));
    }

    /**
     * One or more problems. With one problem the message is that problem's message; with several it is a header
     * line followed by one line per problem.
     */
    public ConfigException(List<Problem> problems) {
        super(render(problems));
        this.problems = List.copyOf(problems);
    }

    private static String render(List<Problem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ConfigException needs at least one problem");
        }
        if (problems.size() == 1) {
            return problems.get(0).message();
        }
        StringBuilder sb = new StringBuilder().append(problems.size()).append(" configuration problems:");
        for (Problem p : problems) {
            sb.append('\n').append(p.message());
        }
        return sb.toString();
    }

    /** {@link ReadsplitException.Reason#INVALID_CONFIG}. */
    @Override
    public ReadsplitException.Reason reason() {
        return ReadsplitException.Reason.INVALID_CONFIG;
    }

    /** The key of the (first) problem, e.g. {@code healthCheckInterval} or {@code readsplit.replicas}. */
    public String key() {
        return problems.get(0).key();
    }

    /** Every problem, in the order found. */
    public List<Problem> problems() {
        return problems;
    }
}

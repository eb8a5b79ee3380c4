package dev.readsplit.spring.boot;

import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitFailure;
import dev.readsplit.config.ConfigException;

import java.util.ArrayList;
import java.util.List;

/**
 * Readsplit refused the configuration Boot gave it. Each problem names the property as the application wrote it:
 * {@code readsplit.health-check-timeout} for a {@code readsplit.*} key, {@code spring.datasource.url} for a
 * problem inside a Readsplit URL, the variable ({@code DB_HOST}) for a seed environment name. No secret appears.
 * {@link ReadsplitConfigurationFailureAnalyzer} turns it into Boot's "APPLICATION FAILED TO START" report. Like the
 * {@link ConfigException} it wraps, it is a {@link ReadsplitFailure} with the reason
 * {@link ReadsplitException.Reason#INVALID_CONFIG}.
 */
public final class ReadsplitConfigurationException extends IllegalStateException implements ReadsplitFailure {

    private static final long serialVersionUID = 1L;

    /** One problem: the property it concerns (Boot's name) and what is wrong. */
    public record Problem(String property, String message) {
    }

    private final transient List<Problem> problems;
    private final ReadsplitConfigFactory.Source source;

    ReadsplitConfigurationException(ReadsplitConfigFactory.Source source, ConfigException cause) {
        this(source, translate(source, cause), cause);
    }

    private ReadsplitConfigurationException(ReadsplitConfigFactory.Source source, List<Problem> problems,
                                            ConfigException cause) {
        super(render(source, problems), cause);
        this.source = source;
        this.problems = List.copyOf(problems);
    }

    /** {@link ReadsplitException.Reason#INVALID_CONFIG}. */
    @Override
    public ReadsplitException.Reason reason() {
        return ReadsplitException.Reason.INVALID_CONFIG;
    }

    /** Every problem, each naming its property. */
    public List<Problem> problems() {
        return problems;
    }

    /** Where the configuration came from. */
    public ReadsplitConfigFactory.Source source() {
        return source;
    }

    private static List<Problem> translate(ReadsplitConfigFactory.Source source, ConfigException e) {
        List<Problem> out = new ArrayList<>();
        for (ConfigException.Problem p : e.problems()) {
            String key = p.key();
            String property;
            String message = p.message();
            if (key.startsWith("readsplit.")) {
                property = bootName(key);
                message = message.replace(key, property);
                String bare = key.substring("readsplit.".length());
                if (!message.contains(property)) {
                    message = message.replaceAll("(?<![\\w.-])" + java.util.regex.Pattern.quote(bare)
                            + "(?![\\w-])", java.util.regex.Matcher.quoteReplacement(property));
                }
                if (!message.contains(property)) {
                    message = property + ": " + message;
                }
            } else if (source == ReadsplitConfigFactory.Source.DATASOURCE_URL) {
                property = "spring.datasource.url";
                message = "spring.datasource.url: " + message;
            } else {
                property = key;
            }
            out.add(new Problem(property, message));
        }
        return out;
    }

    private static String render(ReadsplitConfigFactory.Source source, List<Problem> problems) {
        StringBuilder sb = new StringBuilder("Invalid Readsplit configuration (from ")
                .append(source.description()).append("):");
        for (Problem p : problems) {
            sb.append("\n  ").append(p.message());
        }
        return sb.toString();
    }

    /** {@code readsplit.healthCheckTimeout} → {@code readsplit.health-check-timeout}; {@code jdbc.*} kept. */
    static String bootName(String coreKey) {
        String rest = coreKey.substring("readsplit.".length());
        if (rest.startsWith("jdbc.")) {
            return coreKey;
        }
        StringBuilder sb = new StringBuilder("readsplit.");
        for (int i = 0; i < rest.length(); i++) {
            char c = rest.charAt(i);
            if (Character.isUpperCase(c)) {
                sb.append('-').append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }
}

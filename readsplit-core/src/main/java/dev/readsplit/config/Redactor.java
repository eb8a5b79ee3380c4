package dev.readsplit.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The one scrubber of secrets in free text. Structured fields never hold a secret to begin with; this is the
 * defence in depth for text that comes from outside Readsplit (a driver's error message kept as a node's last
 * error, an event message, a failed {@code ALTER SYSTEM}, a configuration message that quotes a value): every
 * known password, the admin token and the value of every secret-named jdbc property ({@code sslpassword}, a
 * token...) is replaced by {@value #MASK}. Immutable and thread-safe.
 */
public final class Redactor {

    /** What a secret is replaced by. */
    public static final String MASK = "****";

    private static final Redactor NONE = new Redactor(List.of());

    /** Longest first, so that a secret containing another is masked whole. */
    private final List<String> secrets;

    private Redactor(List<String> secrets) {
        this.secrets = secrets;
    }

    /** The admin token and the secrets of the primary and every configured replica. */
    public static Redactor of(ReadsplitConfig config) {
        List<String> s = new ArrayList<>();
        add(s, config.adminToken());
        addNode(s, config.primary());
        for (NodeConfig r : config.replicas()) {
            addNode(s, r);
        }
        return NONE.with(s);
    }

    /** The secrets of these nodes (password and secret-named jdbc properties). */
    public static Redactor of(NodeConfig... nodes) {
        return NONE.and(List.of(nodes));
    }

    /** This redactor plus the secrets of {@code nodes} (e.g. replicas added at runtime). */
    public Redactor and(Iterable<NodeConfig> nodes) {
        List<String> s = new ArrayList<>();
        for (NodeConfig n : nodes) {
            addNode(s, n);
        }
        return with(s);
    }

    /** Plain secret values (configuration parsing, before any {@link Secret} exists). */
    static Redactor ofValues(Collection<String> values) {
        return NONE.with(values);
    }

    private Redactor with(Collection<String> more) {
        List<String> all = new ArrayList<>(secrets);
        for (String v : more) {
            if (v != null && !v.isEmpty() && !all.contains(v)) {
                all.add(v);
            }
        }
        if (all.size() == secrets.size()) {
            return this;
        }
        all.sort((a, b) -> Integer.compare(b.length(), a.length()));
        return new Redactor(List.copyOf(all));
    }

    private static void addNode(List<String> into, NodeConfig n) {
        if (n == null) {
            return;
        }
        add(into, n.password());
        for (Map.Entry<String, String> e : n.jdbcProperties().entrySet()) {
            if (NodeConfig.isSecretKey(e.getKey())) {
                into.add(e.getValue());
            }
        }
    }

    private static void add(List<String> into, Secret s) {
        if (s != null && !s.isEmpty()) {
            into.add(s.value());
        }
    }

    /** {@code text} with every known secret replaced by {@value #MASK}; null stays null. */
    public String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String s : secrets) {
            if (out.contains(s)) {
                out = out.replace(s, MASK);
            }
        }
        return out;
    }

    /** How many secrets this redactor knows (never which). */
    @Override
    public String toString() {
        return "Redactor[" + secrets.size() + " secrets]";
    }
}

package dev.readsplit.metrics;

import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.config.Secret;
import dev.readsplit.topology.Node;

import java.util.ArrayList;
import java.util.List;

/**
 * Defence in depth for free text that comes from outside Readsplit (a driver's error message kept as a
 * node's last error, an event message): every configured password and the admin token are replaced by
 * {@code ****} before the text reaches a status snapshot or an admin response. Structured fields never hold
 * secrets to begin with.
 */
public final class Redactor {

    private static final String MASK = "****";

    private final List<String> secrets = new ArrayList<>();

    public Redactor(ReadsplitConfig config, Iterable<Node> nodes) {
        add(config.adminToken());
        add(config.primary().password());
        for (NodeConfig r : config.replicas()) {
            add(r.password());
        }
        for (Node n : nodes) {
            add(n.config().password());
        }
        // longest first, so that a secret containing another is masked whole
        secrets.sort((a, b) -> Integer.compare(b.length(), a.length()));
    }

    private void add(Secret s) {
        if (s != null && !s.isEmpty() && !secrets.contains(s.reveal())) {
            secrets.add(s.reveal());
        }
    }

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
}

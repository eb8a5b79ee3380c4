package dev.readsplit.health;

import dev.readsplit.Role;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;

import java.util.List;
import java.util.Locale;

/**
 * Whether a standby's WAL receiver streams from the current primary, as far as its {@code pg_stat_wal_receiver}
 * row tells: a pure function of the receiver, the current primary and the other nodes (no I/O, no DNS).
 *
 * <p>Definitive: the receiver is on an older timeline than the primary, or its sender is a node Readsplit knows
 * that is not the primary and not a healthy standby (the old primary, a fenced or dead node). Conditional (only
 * when the standby is also behind the primary): no receiver runs, or it is not {@code streaming}. A sender that is
 * no known node (a virtual IP, a Kubernetes service name) is not judged; neither is a cascading standby streaming
 * from another healthy standby. See docs/failover.md, "Standbys that follow the wrong primary".
 */
final class Upstream {

    private Upstream() {
    }

    /**
     * Why {@code standby} does not stream from {@code primary}, or null when it does or nothing can be said.
     *
     * @param behind whether the standby has not replayed a position the primary had (it needs WAL it is not getting)
     */
    static String notFollowing(Node standby, Probe.WalReceiver receiver, Node primary, List<Node> nodes, boolean behind) {
        if (!receiver.reported() || primary == standby || primary.role() != Role.PRIMARY
                || primary.state() != NodeState.UP || primary.timeline() < 0) {
            return null; // while the primary itself is in doubt every standby has lost it: no judgement
        }
        if (!receiver.running()) {
            return behind ? "not streaming from the primary " + primary.name() + ": no WAL receiver is running" : null;
        }
        if (!receiver.detailsVisible()) {
            return null;
        }
        if (receiver.timeline() >= 0 && receiver.timeline() < primary.timeline()) {
            return "not streaming from the primary " + primary.name() + ": it receives timeline " + receiver.timeline()
                    + ", the primary is on timeline " + primary.timeline();
        }
        Node sender = senderNode(receiver, nodes);
        if (sender != null && sender != primary && sender != standby
                && !(sender.role() == Role.REPLICA && sender.state() == NodeState.UP && !sender.lagExcluded())) {
            return "not streaming from the primary " + primary.name() + ": it streams from " + sender.name() + " ("
                    + sender.role() + ", " + sender.state() + ")";
        }
        if (!"streaming".equals(receiver.status())) {
            return behind ? "not streaming from the primary " + primary.name() + ": its WAL receiver is "
                    + receiver.status() : null;
        }
        return null;
    }

    /** The known node at the receiver's sender address, or null (no node, or an address not comparable). */
    static Node senderNode(Probe.WalReceiver receiver, List<Node> nodes) {
        if (receiver.senderHost() == null || receiver.senderPort() <= 0) {
            return null;
        }
        Node match = null;
        for (Node n : nodes) {
            if (n.config().host() != null && n.config().port() == receiver.senderPort()
                    && sameHost(n.config().host(), receiver.senderHost())) {
                if (match != null) {
                    return null; // ambiguous (two nodes at one address): no judgement
                }
                match = n;
            }
        }
        return match;
    }

    /** Equal names, or both this machine (a loopback name or address, or a Unix-socket directory). */
    static boolean sameHost(String a, String b) {
        return a.equalsIgnoreCase(b) || (local(a) && local(b));
    }

    private static boolean local(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]") || h.startsWith("/");
    }
}

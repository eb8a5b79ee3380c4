package dev.readsplit.routing;

import dev.readsplit.Role;
import dev.readsplit.balance.Balancer;
import dev.readsplit.cluster.Node;
import dev.readsplit.topology.NodeState;
import dev.readsplit.cluster.Topology;

import java.util.ArrayList;
import java.util.List;

/**
 * Chooses the replica for one read: the eligible replicas (observed role REPLICA, state UP, not excluded
 * for lag, within the staleness bound, having replayed the causal position if one is required), then the
 * balancer among them. A replica with statements stalled past their latency budget ({@link Node#stalled()}) is left
 * out while another is eligible.
 *
 * <p>It is the balancer layer's entry point for the router: built once per data source over its topology and
 * balancer, it asks nothing of the data source.
 *
 * <p>Concurrency: the common case, every configured replica eligible, returns one shared list of them
 * ({@code allEligible}: built when the set of replicas changes, never modified after it is published through the
 * volatile field; eligibility is re-checked on every call, so a stale cache only costs a rebuild). Otherwise
 * the eligible replicas go into a per-thread scratch list (owned by this selector, not static). Either way
 * choosing allocates nothing per read; the balancer is thread-safe. Callers must not modify the list returned, and
 * may use it only until their thread's next call (the scratch list is reused).
 */
public final class ReplicaSelector {

    /** Why no replica could be chosen, most specific first. */
    enum Shortfall { NONE, NO_REPLICA, LAG, TOKEN }

    private final Topology topology;
    private final Balancer balancer;
    private final ThreadLocal<ArrayList<Node>> scratch = ThreadLocal.withInitial(() -> new ArrayList<>(8));
    /** Every non-primary node, in configuration order, the last time all of them were eligible; never modified. */
    private volatile ArrayList<Node> allEligible = new ArrayList<>(0);

    public ReplicaSelector(Topology topology, Balancer balancer) {
        this.topology = topology;
        this.balancer = balancer;
    }

    /**
     * The eligible replicas into the thread's scratch list.
     *
     * @param maxLagMillis staleness bound, or -1 for none
     * @param minLsn       causal position every candidate must have replayed (as far as we know), or -1
     * @param exclude      a node to leave out (the one a retried read failed on), or null
     */
    public List<Node> eligible(long maxLagMillis, long minLsn, Node exclude) {
        Node primary = topology.primary();
        List<Node> nodes = topology.nodes();
        ArrayList<Node> all = allEligible;
        int k = 0;
        int n = nodes.size();
        boolean shared = true;
        for (int i = 0; i < n; i++) {
            Node node = nodes.get(i);
            if (node == primary) {
                continue;
            }
            if (k >= all.size() || all.get(k) != node || node.stalled()
                    || !isEligible(node, maxLagMillis, minLsn, exclude)) {
                shared = false;
                break;
            }
            k++;
        }
        if (shared && k == all.size() && k > 0) {
            return all;
        }
        ArrayList<Node> out = scratch.get();
        out.clear();
        int others = 0;
        int stalled = 0;
        for (int i = 0; i < n; i++) {
            Node node = nodes.get(i);
            if (node == primary) {
                continue;
            }
            others++;
            if (isEligible(node, maxLagMillis, minLsn, exclude)) {
                if (node.stalled()) {
                    stalled++; // statements stuck past their budget: only if no other replica can take the read
                } else {
                    out.add(node);
                }
            }
        }
        if (out.isEmpty() && stalled > 0) {
            for (int i = 0; i < n; i++) {
                Node node = nodes.get(i);
                if (node != primary && node.stalled() && isEligible(node, maxLagMillis, minLsn, exclude)) {
                    out.add(node);
                }
            }
            return out;
        }
        if (stalled == 0 && others > 0 && out.size() == others) {
            // every replica eligible, but not the cached set (first call, or replicas added/removed/promoted)
            ArrayList<Node> rebuilt = new ArrayList<>(out);
            allEligible = rebuilt;
            return rebuilt;
        }
        return out;
    }

    private static boolean isEligible(Node node, long maxLagMillis, long minLsn, Node exclude) {
        if (node == exclude || node.role() != Role.REPLICA || node.state() != NodeState.UP || node.lagExcluded()) {
            return false;
        }
        if (maxLagMillis >= 0 && (node.lagMillis() < 0 || node.lagMillis() > maxLagMillis)) {
            return false;
        }
        return minLsn < 0 || node.replayLsn() >= minLsn;
    }

    /** What kept replicas out when {@link #eligible} came back empty. */
    Shortfall shortfall(long maxLagMillis, long minLsn, Node exclude) {
        if (eligible(-1, -1, exclude).isEmpty()) {
            return Shortfall.NO_REPLICA;
        }
        if (maxLagMillis >= 0 && eligible(maxLagMillis, -1, exclude).isEmpty()) {
            return Shortfall.LAG;
        }
        return minLsn >= 0 ? Shortfall.TOKEN : Shortfall.NONE;
    }

    public Node choose(List<Node> eligible) {
        return balancer.choose(eligible);
    }

    /** {@link #choose(List)} for a session with its own affinity slot (null: the calling thread's). */
    public Node choose(List<Node> eligible, dev.readsplit.balance.AffinitySlot slot) {
        return balancer.choose(eligible, slot);
    }

    /** A description of every replica's state, for the error raised when fallback is off. */
    String describeReplicas() {
        StringBuilder sb = new StringBuilder();
        for (Node n : topology.nodes()) {
            if (n == topology.primary()) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(n.name()).append(" is ").append(n.role() == Role.REPLICA ? n.state() : "observed " + n.role());
            if (n.lagExcluded()) {
                sb.append(" (excluded for lag)");
            }
        }
        return sb.length() == 0 ? "no replica is configured" : sb.toString();
    }
}

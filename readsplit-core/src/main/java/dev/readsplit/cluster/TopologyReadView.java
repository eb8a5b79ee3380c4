package dev.readsplit.cluster;

import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.TopologyEvent;
import dev.readsplit.topology.TopologyListener;
import dev.readsplit.topology.TopologyView;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/** The read-only face of a {@link Topology} that applications get ({@code ds.topology()}). */
final class TopologyReadView implements TopologyView {

    private final Topology topology;

    TopologyReadView(Topology topology) {
        this.topology = topology;
    }

    @Override
    public NodeView primary() {
        return topology.primary().view();
    }

    @Override
    public List<NodeView> nodes() {
        return views(topology.nodes());
    }

    @Override
    public List<NodeView> replicas() {
        return views(topology.replicas());
    }

    @Override
    public NodeView node(String name) {
        Node n = topology.node(name);
        return n == null ? null : n.view();
    }

    @Override
    public Clock clock() {
        return topology.clock();
    }

    @Override
    public List<TopologyEvent> recentEvents() {
        return topology.recentEvents();
    }

    @Override
    public void addListener(TopologyListener listener) {
        topology.addListener(listener);
    }

    @Override
    public void removeListener(TopologyListener listener) {
        topology.removeListener(listener);
    }

    private static List<NodeView> views(List<Node> nodes) {
        List<NodeView> out = new ArrayList<>(nodes.size());
        for (Node n : nodes) {
            out.add(n.view());
        }
        return List.copyOf(out);
    }

    @Override
    public String toString() {
        return "TopologyView" + topology.nodes();
    }
}

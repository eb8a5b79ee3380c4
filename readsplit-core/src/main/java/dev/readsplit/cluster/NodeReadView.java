package dev.readsplit.cluster;

import dev.readsplit.Role;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.topology.LagLevel;
import dev.readsplit.topology.LagWindow;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.PoolStats;
import org.HdrHistogram.Histogram;

/** The read-only face of one {@link Node} that applications get: every getter delegates, nothing else is reachable. */
final class NodeReadView implements NodeView {

    private final Node node;

    NodeReadView(Node node) {
        this.node = node;
    }

    @Override public String name() { return node.name(); }
    @Override public NodeConfig config() { return node.config(); }
    @Override public Role role() { return node.role(); }
    @Override public NodeState state() { return node.state(); }
    @Override public String zone() { return node.zone(); }
    @Override public int weight() { return node.weight(); }
    @Override public boolean isPostgres() { return node.isPostgres(); }
    @Override public int inFlight() { return node.inFlight(); }
    @Override public long readsServed() { return node.readsServed(); }
    @Override public long writesServed() { return node.writesServed(); }
    @Override public long latencyEwmaNanos() { return node.latencyEwmaNanos(); }
    @Override public long checkLatencyEwmaNanos() { return node.checkLatencyEwmaNanos(); }
    @Override public Histogram statementLatency() { return node.statementLatency(); }
    @Override public int consecutiveFailures() { return node.consecutiveFailures(); }
    @Override public int consecutiveSuccesses() { return node.consecutiveSuccesses(); }
    @Override public long healthCheckFailures() { return node.healthCheckFailures(); }
    @Override public long lastCheckMillis() { return node.lastCheckMillis(); }
    @Override public String lastError() { return node.lastError(); }
    @Override public long timeline() { return node.timeline(); }
    @Override public long replayLsn() { return node.replayLsn(); }
    @Override public long walLsn() { return node.walLsn(); }
    @Override public long walLsnMillis() { return node.walLsnMillis(); }
    @Override public long lagBytes() { return node.lagBytes(); }
    @Override public long lagMillis() { return node.lagMillis(); }
    @Override public LagLevel lagLevel() { return node.lagLevel(); }
    @Override public LagWindow.Snapshot lagPercentiles(long nowMillis) { return node.lagPercentiles(nowMillis); }
    @Override public boolean lagExcluded() { return node.lagExcluded(); }
    @Override public String exclusionReason() { return node.exclusionReason(); }
    @Override public String externalExclusion() { return node.externalExclusion(); }
    @Override public String patroniView() { return node.patroniView(); }
    @Override public boolean stalled() { return node.stalled(); }
    @Override public PoolStats poolStats() { return node.poolStats(); }

    @Override
    public String toString() {
        return node.toString();
    }
}

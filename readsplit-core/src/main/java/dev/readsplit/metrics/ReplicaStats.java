package dev.readsplit.metrics;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.NodeState;
import dev.readsplit.topology.PoolStats;

import java.io.IOException;

/**
 * Seed 002's {@code get_replica_stats()}: the connections of the primary's pool and of the replicas' pools
 * together, in its shape,
 * <pre>{"primary": {"connections": 5, "available": 5}, "replica": {"connections": 10, "available": 10}}</pre>
 * {@code connections} are the connections open in the pools, {@code available} the connections a caller could
 * take now without waiting (the pool's maximum minus those in use; for the replicas, only the replicas that take
 * reads now: UP and not excluded for lag). Immutable; holds no credential.
 *
 * @param primary  the pool of the node writes go to
 * @param replica  the pools of every other node, summed
 * @param replicas how many replica pools {@code replica} sums ({@code healthyReplicas} of them count as available)
 */
public record ReplicaStats(Pools primary, Pools replica, int replicas, int healthyReplicas) {

    /**
     * One side's pools.
     *
     * @param connections open connections
     * @param available   connections that could be taken without waiting
     */
    public record Pools(int connections, int available) {
    }

    /** The stats of {@code ds} now. */
    public static ReplicaStats of(ReadsplitDataSource ds) {
        NodeView primary = ds.topology().primary();
        PoolStats p = primary.poolStats();
        int connections = 0;
        int available = 0;
        int replicas = 0;
        int healthy = 0;
        for (NodeView n : ds.topology().nodes()) {
            if (n == primary || n.state() == NodeState.FENCED) {
                continue;
            }
            PoolStats s = n.poolStats();
            replicas++;
            connections += s.total();
            if (n.state().takesNewTraffic() && !n.lagExcluded()) {
                healthy++;
                available += s.available();
            }
        }
        boolean primaryTakesWrites = primary.state() != NodeState.DOWN && primary.state() != NodeState.FENCED;
        return new ReplicaStats(new Pools(p.total(), primaryTakesWrites ? p.available() : 0),
                new Pools(connections, available), replicas, healthy);
    }

    /** Seed 002's JSON: {@code {"primary": {...}, "replica": {...}}}. */
    public String toJson() {
        return StatusJson.write(g -> {
            g.writeStartObject();
            write(g, "primary", primary);
            write(g, "replica", replica);
            g.writeEndObject();
        });
    }

    private static void write(JsonGenerator g, String name, Pools pools) throws IOException {
        g.writeObjectFieldStart(name);
        g.writeNumberField("connections", pools.connections());
        g.writeNumberField("available", pools.available());
        g.writeEndObject();
    }
}

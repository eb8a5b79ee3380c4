package dev.readsplit.spring.boot.health;

import dev.readsplit.metrics.NodeStatus;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.spring.boot.ReadsplitHealth;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.NamedContributor;
import org.springframework.boot.actuate.health.Status;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The {@code readsplit} health contributor (Boot 3.5 types): {@code primary}, {@code replicas} and {@code nodes}
 * (one indicator per node, following nodes added or removed at run time). The rules are {@link ReadsplitHealth}'s.
 */
public final class ReadsplitHealthContributor implements CompositeHealthContributor {

    private final ReadsplitHealth health;

    public ReadsplitHealthContributor(ReadsplitHealth health) {
        this.health = health;
    }

    @Override
    public HealthContributor getContributor(String name) {
        return switch (name) {
            case "primary" -> (HealthIndicator) () -> toHealth(health.primary(health.snapshot()));
            case "replicas" -> (HealthIndicator) () -> toHealth(health.replicas(health.snapshot()));
            case "nodes" -> new Nodes();
            default -> null;
        };
    }

    @Override
    public Iterator<NamedContributor<HealthContributor>> iterator() {
        List<NamedContributor<HealthContributor>> all = new ArrayList<>();
        for (String n : List.of("primary", "replicas", "nodes")) {
            all.add(NamedContributor.of(n, getContributor(n)));
        }
        return all.iterator();
    }

    static Health toHealth(ReadsplitHealth.Check check) {
        return Health.status(new Status(check.status())).withDetails(check.details()).build();
    }

    /** One indicator per node now in the topology. */
    private final class Nodes implements CompositeHealthContributor {
        @Override
        public HealthContributor getContributor(String name) {
            return health.snapshot().node(name) == null ? null : indicator(name);
        }

        @Override
        public Iterator<NamedContributor<HealthContributor>> iterator() {
            StatusSnapshot s = health.snapshot();
            List<NamedContributor<HealthContributor>> entries = new ArrayList<>();
            for (NodeStatus n : s.nodes()) {
                entries.add(NamedContributor.of(n.name(), indicator(n.name())));
            }
            return entries.iterator();
        }

        private HealthIndicator indicator(String name) {
            return () -> {
                ReadsplitHealth.Check c = health.node(name);
                return c == null ? Health.unknown().withDetail("node", name).withDetail("removed", true).build()
                        : toHealth(c);
            };
        }
    }
}

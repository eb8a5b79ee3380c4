package dev.readsplit.spring.boot.health;

import dev.readsplit.metrics.NodeStatus;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.spring.boot.ReadsplitHealth;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthContributor;
import org.springframework.boot.health.contributor.HealthContributors;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The {@code readsplit} health contributor (Boot 4 types): {@code primary}, {@code replicas} and {@code nodes}
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
    public Stream<HealthContributors.Entry> stream() {
        return Stream.of("primary", "replicas", "nodes")
                .map(n -> new HealthContributors.Entry(n, getContributor(n)));
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
        public Stream<HealthContributors.Entry> stream() {
            StatusSnapshot s = health.snapshot();
            List<HealthContributors.Entry> entries = new ArrayList<>();
            for (NodeStatus n : s.nodes()) {
                entries.add(new HealthContributors.Entry(n.name(), indicator(n.name())));
            }
            return entries.stream();
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

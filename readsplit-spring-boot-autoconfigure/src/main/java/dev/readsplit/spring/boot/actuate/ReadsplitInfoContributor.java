package dev.readsplit.spring.boot.actuate;

import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.metrics.NodeStatus;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.spring.boot.ReadsplitOperations;
import org.springframework.boot.actuate.info.Info;
import org.springframework.boot.actuate.info.InfoContributor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /actuator/info} → {@code readsplit}: the data source's name, the node writes go to, the nodes and their
 * roles, the consistency, balancer and failover policy. No address credential, no password.
 */
public class ReadsplitInfoContributor implements InfoContributor {

    private final ReadsplitOperations operations;

    public ReadsplitInfoContributor(ReadsplitOperations operations) {
        this.operations = operations;
    }

    @Override
    public void contribute(Info.Builder builder) {
        ReadsplitConfig config = operations.dataSource().config();
        StatusSnapshot s = operations.status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("dataSource", s.dataSource());
        m.put("primary", s.primary());
        List<Map<String, Object>> nodes = new ArrayList<>();
        for (NodeStatus n : s.nodes()) {
            Map<String, Object> nm = new LinkedHashMap<>();
            nm.put("name", n.name());
            nm.put("role", n.role() == null ? null : n.role().name());
            nm.put("host", n.host());
            nm.put("port", n.port());
            if (n.zone() != null) {
                nm.put("zone", n.zone());
            }
            nodes.add(nm);
        }
        m.put("nodes", nodes);
        m.put("consistency", config.routing().consistency().toString());
        m.put("balancer", config.routing().balancer().name().toLowerCase(java.util.Locale.ROOT));
        m.put("fallbackToPrimary", config.routing().fallbackToPrimary());
        m.put("failoverPolicy", config.failover().policy().name().toLowerCase(java.util.Locale.ROOT));
        m.put("shadowMode", s.shadowMode());
        Package p = ReadsplitConfig.class.getPackage();
        if (p != null && p.getImplementationVersion() != null) {
            m.put("version", p.getImplementationVersion());
        }
        builder.withDetail("readsplit", m);
    }
}

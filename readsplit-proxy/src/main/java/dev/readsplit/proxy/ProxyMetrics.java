package dev.readsplit.proxy;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The proxy's Micrometer meters ({@code readsplit.proxy.*}, tagged {@code datasource}; see {@code docs/proxy.md},
 * "Metrics and status"): clients by state, accepted, refused and failed logins, bytes each way, errors, and per node
 * backends in use and idle and statements routed. Meters of a node appear once it is first counted (nodes added at
 * runtime included). Read-only views of {@link ProxyServer} and {@link ProxyStats}: binding costs the proxy nothing.
 */
public final class ProxyMetrics implements MeterBinder {

    private final ProxyServer proxy;
    private final ProxyStats stats;
    private final Tags common;
    private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    private final Set<String> nodes = ConcurrentHashMap.newKeySet();

    ProxyMetrics(ProxyServer proxy, ProxyStats stats, String dataSource) {
        this.proxy = proxy;
        this.stats = stats;
        this.common = Tags.of("datasource", dataSource);
        stats.onNewNode(this::node);
    }

    @Override
    public void bindTo(MeterRegistry r) {
        registries.add(r);
        for (String state : new String[] {"active", "idle", "login"}) {
            Gauge.builder("readsplit.proxy.clients", proxy, p -> p.clientCounts().get(state)).tags(common)
                    .tag("state", state).description("Client connections now, by state").register(r);
        }
        Gauge.builder("readsplit.proxy.clients.max", proxy, p -> p.config().maxClients()).tags(common)
                .description("Client connections at most (maxClients)").register(r);
        FunctionCounter.builder("readsplit.proxy.clients.accepted", stats, s -> s.accepted.sum()).tags(common)
                .description("Client connections accepted").register(r);
        FunctionCounter.builder("readsplit.proxy.clients.refused", stats, s -> s.refused.sum()).tags(common)
                .description("Client connections refused over maxClients (53300)").register(r);
        FunctionCounter.builder("readsplit.proxy.logins.failed", stats, s -> s.loginFailures.sum()).tags(common)
                .description("Client logins that failed (wrong password, unknown user, bad startup)").register(r);
        FunctionCounter.builder("readsplit.proxy.bytes", stats, s -> s.bytesReceived.sum()).tags(common)
                .tag("direction", "received").baseUnit("bytes").description("Bytes from and to clients").register(r);
        FunctionCounter.builder("readsplit.proxy.bytes", stats, s -> s.bytesSent.sum()).tags(common)
                .tag("direction", "sent").baseUnit("bytes").description("Bytes from and to clients").register(r);
        FunctionCounter.builder("readsplit.proxy.errors", stats, s -> s.errorsToClients.sum()).tags(common)
                .tag("kind", "to_client").description("ErrorResponses sent to clients; backend connection failures")
                .register(r);
        FunctionCounter.builder("readsplit.proxy.errors", stats, s -> s.backendFailures.sum()).tags(common)
                .tag("kind", "backend_failure")
                .description("ErrorResponses sent to clients; backend connection failures").register(r);
        FunctionCounter.builder("readsplit.proxy.replay.checks", stats, s -> s.replayChecks.sum()
                        - s.replayChecksShort.sum()).tags(common).tag("outcome", "replayed")
                .description("Replay checks that led reads after a write, by what they found").register(r);
        FunctionCounter.builder("readsplit.proxy.replay.checks", stats, s -> s.replayChecksShort.sum()).tags(common)
                .tag("outcome", "short")
                .description("Replay checks that led reads after a write, by what they found").register(r);
        FunctionCounter.builder("readsplit.proxy.worker.steps", stats, s -> s.workerSteps.sum()).tags(common)
                .description("Client steps run on a worker thread rather than the event loop").register(r);
        FunctionCounter.builder("readsplit.proxy.pipelined", stats, s -> s.pipelined.sum()).tags(common)
                .tag("outcome", "sent")
                .description("Client reads sent behind another client's statement on one backend connection").register(r);
        FunctionCounter.builder("readsplit.proxy.pipelined", stats, s -> s.pipelinedAgain.sum()).tags(common)
                .tag("outcome", "ran_again")
                .description("Client reads sent behind another client's statement on one backend connection").register(r);
        proxy.dataSource().topology().nodes().forEach(n -> nodeMeters(r, n.name()));
        nodes.addAll(proxy.dataSource().topology().nodes().stream().map(dev.readsplit.topology.NodeView::name).toList());
    }

    private void node(String name) {
        if (nodes.add(name)) {
            registries.forEach(r -> nodeMeters(r, name));
        }
    }

    private void nodeMeters(MeterRegistry r, String node) {
        Tags t = common.and("node", node);
        Gauge.builder("readsplit.proxy.backends", proxy, p -> p.pool().inUseCounts().getOrDefault(node, 0)).tags(t)
                .tag("state", "in_use").description("Backend connections per node, by state").register(r);
        Gauge.builder("readsplit.proxy.backends", proxy, p -> p.pool().idleCounts().getOrDefault(node, 0)).tags(t)
                .tag("state", "idle").description("Backend connections per node, by state").register(r);
        FunctionCounter.builder("readsplit.proxy.statements", stats, s -> s.statements(node)).tags(t)
                .description("Statements (simple queries, pipelines) the proxy sent to each node").register(r);
    }
}

package dev.readsplit.admin;

import dev.readsplit.Role;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.config.Redactor;
import dev.readsplit.topology.NodeView;
import dev.readsplit.topology.NodeState;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code /readyz}'s check: asks each node that matters, now, over a connection from its pool
 * ({@code SELECT pg_is_in_recovery()}, or {@code isValid} for a generic JDBC node), and waits at most the
 * readiness timeout for the answers. Cached health state is not enough: a node the health checker saw UP a
 * second ago may not answer now, and a DOWN node is asked again rather than believed.
 *
 * <p>Concurrency: each node has at most one check running. A probe that arrives while a node's check is still
 * running joins it instead of starting another, so a hung node, or a thousand probes, never pile up threads;
 * the checks run on this object's own small pool (at most {@value #MAX_THREADS} threads), never on the server's
 * I/O or worker threads.
 */
final class ReadinessCheck implements AutoCloseable {

    static final int MAX_THREADS = 8;

    /** One node's answer. */
    record NodeAnswer(String name, String role, boolean answered, Boolean inRecovery, double millis, String error) {
    }

    /** The verdict and every answer. */
    record Result(boolean ready, String reason, List<NodeAnswer> nodes, int healthyReplicas) {
    }

    private final ReadsplitDataSource ds;
    private final AdminOptions.Readiness policy;
    private final Duration timeout;
    private final ExecutorService pool;
    private final Map<NodeView, CompletableFuture<NodeAnswer>> running = new HashMap<>();

    ReadinessCheck(ReadsplitDataSource ds, AdminOptions.Readiness policy, Duration timeout) {
        this.ds = ds;
        this.policy = policy;
        this.timeout = timeout;
        AtomicInteger n = new AtomicInteger();
        String prefix = "readsplit-admin-" + ds.name() + "-ready-";
        ThreadPoolExecutor p = new ThreadPoolExecutor(MAX_THREADS, MAX_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, prefix + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        p.allowCoreThreadTimeOut(true);
        this.pool = p;
    }

    /** Checks the nodes the policy needs; completes within the readiness timeout (plus scheduling). */
    CompletableFuture<Result> check() {
        NodeView primary = ds.topology().primary();
        List<NodeView> replicas = new ArrayList<>();
        for (NodeView r : ds.topology().replicas()) {
            if (r.state() != NodeState.DRAINING) {
                replicas.add(r);
            }
        }
        List<NodeView> asked = new ArrayList<>();
        asked.add(primary);
        if (policy != AdminOptions.Readiness.PRIMARY) {
            asked.addAll(replicas);
        }
        List<CompletableFuture<NodeAnswer>> answers = new ArrayList<>();
        for (NodeView n : asked) {
            answers.add(ask(n).completeOnTimeout(new NodeAnswer(n.name(), role(n), false, null, timeout.toMillis(),
                    "no answer within " + timeout.toMillis() + " ms"), timeout.toMillis(), TimeUnit.MILLISECONDS));
        }
        return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<NodeAnswer> list = answers.stream().map(CompletableFuture::join).toList();
            return verdict(list, replicas.size());
        });
    }

    private Result verdict(List<NodeAnswer> answers, int replicaCount) {
        NodeAnswer p = answers.get(0);
        int healthy = (int) ds.topology().replicas().stream()
                .filter(r -> r.state() == NodeState.UP && !r.lagExcluded()).count();
        String reason = null;
        if (!p.answered()) {
            reason = "primary " + p.name() + " does not answer: " + p.error();
        } else if (Boolean.TRUE.equals(p.inRecovery())) {
            reason = "primary " + p.name() + " is in recovery (a standby): writes would fail";
        } else if (policy == AdminOptions.Readiness.PRIMARY_AND_REPLICA && replicaCount > 0) {
            boolean any = answers.subList(1, answers.size()).stream()
                    .anyMatch(a -> a.answered() && !Boolean.FALSE.equals(a.inRecovery()));
            if (!any) {
                reason = "no replica answers (" + replicaCount + " configured)";
            }
        } else if (policy == AdminOptions.Readiness.ALL) {
            for (NodeAnswer a : answers.subList(1, answers.size())) {
                if (!a.answered()) {
                    reason = "replica " + a.name() + " does not answer: " + a.error();
                    break;
                }
            }
        }
        return new Result(reason == null, reason, answers, healthy);
    }

    private CompletableFuture<NodeAnswer> ask(NodeView n) {
        synchronized (running) {
            CompletableFuture<NodeAnswer> f = running.get(n);
            if (f != null && !f.isDone()) {
                return f.copy();
            }
            CompletableFuture<NodeAnswer> started = new CompletableFuture<>();
            running.put(n, started);
            try {
                pool.execute(() -> {
                    try {
                        started.complete(probe(n));
                    } catch (RuntimeException | Error e) {
                        started.complete(new NodeAnswer(n.name(), role(n), false, null, 0, e.toString()));
                    } finally {
                        synchronized (running) {
                            running.remove(n, started);
                        }
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                running.remove(n, started);
                started.complete(new NodeAnswer(n.name(), role(n), false, null, 0, "the admin server is closing"));
            }
            return started.copy();
        }
    }

    private NodeAnswer probe(NodeView n) {
        long t0 = System.nanoTime();
        if (n.state() == NodeState.FENCED) {
            return new NodeAnswer(n.name(), role(n), false, null, 0, "fenced: no traffic is sent to it");
        }
        int seconds = (int) Math.max(1, (timeout.toMillis() + 999) / 1000);
        // the pool directly: routing refuses a DOWN node from cached state, and this check must ask it
        try (Connection c = ds.operations().connectionTo(n.name())) {
            Boolean inRecovery = null;
            if (n.isPostgres()) {
                try (Statement s = c.createStatement()) {
                    s.setQueryTimeout(seconds);
                    try (ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                        rs.next();
                        inRecovery = rs.getBoolean(1);
                    }
                }
            } else if (!c.isValid(seconds)) {
                return new NodeAnswer(n.name(), role(n), false, null, millis(t0), "connection is not valid");
            }
            return new NodeAnswer(n.name(), role(n), true, inRecovery, millis(t0), null);
        } catch (SQLException | IllegalArgumentException | IllegalStateException e) { // removed, or closed meanwhile
            return new NodeAnswer(n.name(), role(n), false, null, millis(t0),
                    Redactor.of(ds.config()).and(ds.topology().nodes().stream().map(NodeView::config).toList()).redact(describe(e)));
        }
    }

    /**
     * The message, its SQLSTATE, and each cause's message that adds something (HikariCP's "Connection is not
     * available" hides the driver's "Connection refused" in its cause).
     */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        if (e instanceof SQLException se && se.getSQLState() != null) {
            sb.append(" [SQLSTATE ").append(se.getSQLState()).append(']');
        }
        int depth = 0;
        for (Throwable c = e.getCause(); c != null && c != e && depth < 5; c = c.getCause(), depth++) {
            String m = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
            if (sb.indexOf(m) < 0) {
                sb.append("; cause: ").append(m);
            }
        }
        return sb.toString().replace('\n', ' ');
    }

    private String role(NodeView n) {
        return n == ds.topology().primary() ? Role.PRIMARY.name() : Role.REPLICA.name();
    }

    private static double millis(long t0) {
        return Math.round((System.nanoTime() - t0) / 1e4) / 100.0;
    }

    AdminOptions.Readiness policy() {
        return policy;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}

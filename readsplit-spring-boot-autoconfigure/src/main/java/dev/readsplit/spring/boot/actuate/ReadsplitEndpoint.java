package dev.readsplit.spring.boot.actuate;

import dev.readsplit.metrics.NodeStatus;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.spring.boot.ReadsplitOperations;
import dev.readsplit.spring.boot.StatusViews;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.lang.Nullable;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code readsplit} Actuator endpoint: {@code GET /actuator/readsplit} (status of every node, counters,
 * events), {@code GET /actuator/readsplit/{node}}, and the operator actions
 * {@code POST /actuator/readsplit/{node}} with {@code {"action":"drain"|"add","address":"host:port","timeout":"10s"}}
 * and {@code DELETE /actuator/readsplit/{node}} (drain then remove).
 *
 * <p>Guarded twice: its default access is read-only (the actions answer only after
 * {@code management.endpoint.readsplit.access=unrestricted}), and like every Actuator endpoint it sits behind
 * the application's Spring Security rules when Spring Security is present (Boot's default: authenticated).
 */
@Endpoint(id = "readsplit", defaultAccess = Access.READ_ONLY)
public class ReadsplitEndpoint {

    /** The default bound of a drain. */
    static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(30);
    /** The longest drain an HTTP caller may ask for (the call blocks while it lasts). */
    static final Duration MAX_DRAIN_TIMEOUT = Duration.ofMinutes(5);
    private static final int MAX_TEXT = 512;

    private final ReadsplitOperations operations;

    public ReadsplitEndpoint(ReadsplitOperations operations) {
        this.operations = operations;
    }

    @ReadOperation
    public Map<String, Object> status() {
        return StatusViews.status(operations.status());
    }

    /** One node's status, or 404 when no node has that name. */
    @ReadOperation
    public Map<String, Object> node(@Selector String node) {
        StatusSnapshot s = operations.status();
        NodeStatus n = s.node(node);
        return n == null ? null : StatusViews.node(n);
    }

    /** {@code drain} an existing replica, or {@code add} a new one at {@code address}. */
    @WriteOperation
    public Map<String, Object> act(@Selector String node, String action, @Nullable String address,
                                   @Nullable String timeout) {
        try {
            return doAct(node, action, address, timeout);
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new InvalidEndpointRequestException(e.getMessage(), e.getMessage());
        }
    }

    private Map<String, Object> doAct(String node, String action, String address, String timeout) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("node", node);
        String a = bounded("action", action).trim().toLowerCase(Locale.ROOT);
        result.put("action", a);
        switch (a) {
            case "drain" -> result.put("quiet", operations.drain(node, timeout(timeout)));
            case "add" -> {
                if (address == null || address.isBlank()) {
                    throw new IllegalArgumentException("add needs an address: host[:port][;zone=Z][;weight=N]");
                }
                String spec = bounded("address", address).trim();
                if (!spec.contains(";name=")) {
                    spec = spec + ";name=" + node;
                }
                result.put("added", operations.add(spec));
            }
            default -> throw new IllegalArgumentException("unknown action '" + abbreviate(a)
                    + "': expected drain or add (remove is DELETE)");
        }
        return result;
    }

    /** Drains (unless drained) and removes a replica. */
    @DeleteOperation
    public Map<String, Object> remove(@Selector String node, @Nullable String timeout) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("node", node);
        result.put("action", "remove");
        try {
            result.put("quiet", operations.remove(node, timeout(timeout)));
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw new InvalidEndpointRequestException(e.getMessage(), e.getMessage());
        }
        return result;
    }

    private static Duration timeout(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT_DRAIN_TIMEOUT;
        }
        String t = bounded("timeout", text).trim();
        Duration d;
        try {
            d = t.toUpperCase(Locale.ROOT).startsWith("PT") ? Duration.parse(t) : org.springframework.boot.convert
                    .DurationStyle.detectAndParse(t);
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new IllegalArgumentException("timeout '" + abbreviate(t) + "' is not a duration (10s, 500ms, PT1M)");
        }
        if (d.isNegative() || d.compareTo(MAX_DRAIN_TIMEOUT) > 0) {
            throw new IllegalArgumentException("timeout must be between 0 and " + MAX_DRAIN_TIMEOUT + ": " + t);
        }
        return d;
    }

    private static String bounded(String what, String text) {
        if (text == null) {
            throw new IllegalArgumentException(what + " is missing");
        }
        if (text.length() > MAX_TEXT) {
            throw new IllegalArgumentException(what + " is longer than " + MAX_TEXT + " characters");
        }
        return text;
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}

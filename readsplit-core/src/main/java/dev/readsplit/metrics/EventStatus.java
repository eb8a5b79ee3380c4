package dev.readsplit.metrics;

import java.time.Instant;

/**
 * One recent topology event as the status snapshot shows it.
 *
 * @param at      when it happened
 * @param kind    the {@code TopologyEvent.Kind} name (or a level for lag alerts when the monitor provides one)
 * @param node    the node concerned
 * @param message a sentence a person can read
 */
public record EventStatus(Instant at, String kind, String node, String message) {

    void write(JsonWriter w) {
        w.beginObject()
                .field("at", at.toString())
                .field("kind", kind)
                .field("node", node)
                .field("message", message)
                .endObject();
    }
}

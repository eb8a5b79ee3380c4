package dev.readsplit.metrics;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
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

    void write(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("at", at.toString());
        StatusJson.string(g, "kind", kind);
        StatusJson.string(g, "node", node);
        StatusJson.string(g, "message", message);
        g.writeEndObject();
    }
}

package dev.readsplit.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The demo's event log: faults it injected, topology events from the data source, failures. Bounded; any
 * thread may add, the display reads.
 */
final class DemoEvents {

    record Event(long offsetMillis, String text) {
        String format() {
            return String.format(java.util.Locale.ROOT, "+%5.1fs %s", offsetMillis / 1000.0, text);
        }
    }

    private static final int KEEP = 500;

    private volatile long startNanos = System.nanoTime();
    private final List<Event> events = new ArrayList<>();
    private long added;

    /** Offsets count from now on (the workload's start); earlier events show a negative offset. */
    void startClock() {
        startNanos = System.nanoTime();
    }

    synchronized void add(String text) {
        events.add(new Event((System.nanoTime() - startNanos) / 1_000_000, text));
        added++;
        if (events.size() > KEEP) {
            events.remove(0);
        }
    }

    /** The last {@code n} events, oldest first. */
    synchronized List<Event> last(int n) {
        return List.copyOf(events.subList(Math.max(0, events.size() - n), events.size()));
    }

    /** Events added after the first {@code seen} ever added (for plain output); may skip dropped ones. */
    synchronized List<Event> since(long seen) {
        long missing = added - seen;
        if (missing <= 0) {
            return List.of();
        }
        return List.copyOf(events.subList((int) Math.max(0, events.size() - missing), events.size()));
    }

    synchronized long count() {
        return added;
    }

    synchronized List<Event> all() {
        return List.copyOf(events);
    }
}

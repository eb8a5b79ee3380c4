package dev.readsplit.balance;

/** A mutable candidate for tests. */
final class TestCandidate implements Candidate {
    final String name;
    volatile int weight = 1;
    volatile String zone;
    volatile int inFlight;
    volatile long latency;
    volatile int idle = -1;

    TestCandidate(String name) {
        this.name = name;
    }

    TestCandidate weight(int w) {
        this.weight = w;
        return this;
    }

    TestCandidate zone(String z) {
        this.zone = z;
        return this;
    }

    TestCandidate inFlight(int n) {
        this.inFlight = n;
        return this;
    }

    TestCandidate latency(long nanos) {
        this.latency = nanos;
        return this;
    }

    TestCandidate idle(int n) {
        this.idle = n;
        return this;
    }

    @Override
    public int idleConnections() {
        return idle;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int weight() {
        return weight;
    }

    @Override
    public String zone() {
        return zone;
    }

    @Override
    public int inFlight() {
        return inFlight;
    }

    @Override
    public long latencyEwmaNanos() {
        return latency;
    }

    @Override
    public String toString() {
        return name;
    }
}

package dev.readsplit.jdbc;

/**
 * The hedges a data source may start: a token bucket filled by reads, not by time, so hedges stay a share of the reads
 * ({@code maxShare}, e.g. 5 %) however busy or quiet the cluster is, and a slow cluster is never doubled in load. It
 * starts full ({@code burst} tokens) so that a replica pausing right after start is hedged too; each read adds
 * {@code maxShare} of a token, each hedge takes one, and the bucket never holds more than {@code burst}.
 *
 * <p>Concurrency: synchronized (the scanner takes and refunds; a hedge that found nothing to do refunds from its own
 * thread); a few calls per scan, never on a read's path.
 */
final class HedgeTokens {

    private final double share;
    private final double burst;
    private double tokens;
    private long lastReads = -1;

    HedgeTokens(double share, int burst) {
        if (!(share > 0 && share <= 1) || burst < 1) {
            throw new IllegalArgumentException("share must be in (0, 1] and burst at least 1: " + share + ", " + burst);
        }
        this.share = share;
        this.burst = burst;
        this.tokens = burst;
    }

    /** The data source has served {@code totalReads} reads so far (a running total): the new ones add tokens. */
    synchronized void reads(long totalReads) {
        if (lastReads >= 0 && totalReads > lastReads) {
            tokens = Math.min(burst, tokens + share * (totalReads - lastReads));
        }
        lastReads = totalReads;
    }

    /** Takes a token for one hedge; false when the share is spent. */
    synchronized boolean take() {
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    /** A token taken for a hedge that was not started. */
    synchronized void refund() {
        tokens = Math.min(burst, tokens + 1);
    }

    synchronized double available() {
        return tokens;
    }
}

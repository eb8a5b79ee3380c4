package dev.readsplit.failover;

/**
 * A failover, switchover or rejoin that could not be carried out. {@link #step()} names the step that failed;
 * the message says what was left as it was. Never carries a password.
 */
public final class FailoverException extends RuntimeException {

    private final FailoverStep step;

    public FailoverException(FailoverStep step, String message) {
        super(message);
        this.step = step;
    }

    /** The step that failed. */
    public FailoverStep step() {
        return step;
    }
}

package dev.readsplit.failover;

import dev.readsplit.ReadsplitException;
import dev.readsplit.ReadsplitFailure;

import java.util.Objects;

/**
 * A failover, switchover or rejoin that could not be carried out. {@link #step()} names the step that failed;
 * the message says what was left as it was; {@link #reason()} is {@link ReadsplitException.Reason#FAILOVER_FAILED}, or
 * {@link ReadsplitException.Reason#FAILOVER_IN_PROGRESS} when another one was running. Never carries a password.
 */
public final class FailoverException extends RuntimeException implements ReadsplitFailure {

    private static final long serialVersionUID = 1L;

    private final FailoverStep step;
    private final ReadsplitException.Reason reason;

    /** A step that failed or timed out ({@link ReadsplitException.Reason#FAILOVER_FAILED}). */
    public FailoverException(FailoverStep step, String message) {
        this(ReadsplitException.Reason.FAILOVER_FAILED, step, message);
    }

    public FailoverException(ReadsplitException.Reason reason, FailoverStep step, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
        this.step = step;
    }

    /** The step that failed. */
    public FailoverStep step() {
        return step;
    }

    @Override
    public ReadsplitException.Reason reason() {
        return reason;
    }
}

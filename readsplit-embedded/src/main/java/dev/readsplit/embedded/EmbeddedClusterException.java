package dev.readsplit.embedded;

/** A cluster operation failed; the message carries the tail of the server log where there is one. */
public final class EmbeddedClusterException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public EmbeddedClusterException(String message) {
        super(message);
    }

    public EmbeddedClusterException(String message, Throwable cause) {
        super(message, cause);
    }
}

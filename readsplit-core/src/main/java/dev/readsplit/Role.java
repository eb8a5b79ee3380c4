package dev.readsplit;

/**
 * The role a PostgreSQL node plays, as observed with {@code pg_is_in_recovery()} (never assumed from
 * configuration), or the role a caller asks for when it acquires a connection explicitly.
 */
public enum Role {
    /** The writable node: not in recovery. Receives every write and every transaction. */
    PRIMARY {
        @Override
        public boolean acceptsWrites() {
            return true;
        }
    },
    /** A hot standby replaying WAL from the primary. Serves reads only. */
    REPLICA {
        @Override
        public boolean acceptsWrites() {
            return false;
        }
    };

    /** Whether a node in this role can execute data-modifying statements. */
    public abstract boolean acceptsWrites();
}

package dev.readsplit.proxy;

import dev.readsplit.config.Secret;

import java.util.Objects;

/**
 * Who a backend connection logs in as when it is not the node's configured user: a client authenticated by
 * {@link ClientAuth#PASSTHROUGH}, with the password the primary accepted. {@link #toString()} never shows it.
 */
record BackendLogin(String user, Secret password) {

    BackendLogin {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
    }

    @Override
    public String toString() {
        return "BackendLogin[" + user + "]";
    }
}

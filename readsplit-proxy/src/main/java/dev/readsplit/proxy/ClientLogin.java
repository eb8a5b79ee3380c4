package dev.readsplit.proxy;

import dev.readsplit.config.Secret;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * One client's authentication exchange, from the first authentication request to success or failure: SCRAM-SHA-256
 * or md5 against the {@link ClientCredentials}, or pass-through to the primary. It lives only during the login (an
 * authenticated client keeps none of it). Failures are {@code 28P01 password authentication failed} whether the user
 * is unknown or the password wrong, as PostgreSQL answers. See {@code docs/proxy.md}, "Authentication".
 */
abstract sealed class ClientLogin {

    /** What a client message led to: a reply to send (or null), and whether the client is now authenticated. */
    record Step(Msg reply, boolean done, BackendLogin backendLogin) {
        static Step more(Msg reply) {
            return new Step(reply, false, null);
        }

        static Step authenticated(Msg reply, BackendLogin as) {
            return new Step(reply, true, as);
        }
    }

    /** Checks a user's password at the primary, for {@link Passthrough}. */
    @FunctionalInterface
    interface PrimaryCheck {
        /** Returns normally when the primary accepted the login; throws the error to send to the client otherwise. */
        void login(BackendLogin as) throws ClientSession.ProtocolError;
    }

    final String user;

    private ClientLogin(String user) {
        this.user = user;
    }

    static ClientLogin begin(ClientCredentials credentials, String user, PrimaryCheck primary,
                             java.security.SecureRandom random) {
        return switch (credentials.auth()) {
            case SCRAM_SHA_256 -> new ScramLogin(user, credentials.verifier(user), random);
            case MD5 -> new Md5Login(user, credentials, random);
            case PASSTHROUGH -> new Passthrough(user, primary);
            case TRUST -> throw new IllegalStateException("trust needs no login exchange");
        };
    }

    /** The first authentication request sent to the client. */
    abstract Msg request();

    /** The client's next message of the exchange. */
    abstract Step next(Msg m) throws ClientSession.ProtocolError;

    ClientSession.ProtocolError failed() {
        return new ClientSession.ProtocolError("28P01", "password authentication failed for user \"" + user + "\"");
    }

    static void expectPassword(Msg m) throws ClientSession.ProtocolError {
        if (m.type() != 'p') {
            throw new ClientSession.ProtocolError("08P01", "expected a password response, got '" + (char) m.type()
                    + "'");
        }
    }

    /** The PasswordMessage's string (md5 response or clear-text password), bounded by the message bound. */
    static String passwordOf(Msg m) throws ClientSession.ProtocolError {
        expectPassword(m);
        byte[] b = m.body();
        if (b.length == 0 || b[b.length - 1] != 0) {
            throw new ClientSession.ProtocolError("08P01", "malformed password message");
        }
        return new String(b, 0, b.length - 1, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------------------------------------

    /** SCRAM-SHA-256 without channel binding (RFC 5802/7677), as PostgreSQL's server side. */
    static final class ScramLogin extends ClientLogin {
        private final Scram.Verifier verifier;
        private final java.security.SecureRandom random;
        private String clientFirstBare;
        private String serverFirst;
        private String nonce;

        ScramLogin(String user, Scram.Verifier verifier, java.security.SecureRandom random) {
            super(user);
            this.verifier = verifier;
            this.random = random;
        }

        @Override
        Msg request() {
            return Msg.builder('R').int32(10).cstring(Scram.MECHANISM).byte1(0).build();
        }

        @Override
        Step next(Msg m) throws ClientSession.ProtocolError {
            expectPassword(m);
            return serverFirst == null ? initial(m) : fin(m);
        }

        private Step initial(Msg m) throws ClientSession.ProtocolError {
            String mechanism = m.cstring(0);
            int at = m.end(0);
            if (!Scram.MECHANISM.equals(mechanism) || at + 4 > m.body().length) {
                throw new ClientSession.ProtocolError("28000", "client selected an invalid SASL authentication mechanism");
            }
            int len = m.int32(at);
            if (len < 0 || at + 4 + len > m.body().length) {
                throw new ClientSession.ProtocolError("08P01", "malformed SASL initial response");
            }
            String clientFirst = new String(m.body(), at + 4, len, StandardCharsets.UTF_8);
            if (!(clientFirst.startsWith("n,") || clientFirst.startsWith("y,"))) {
                throw new ClientSession.ProtocolError("28000", "SCRAM channel binding is not supported by the readsplit proxy");
            }
            int second = clientFirst.indexOf(',', 2);
            if (second < 0) {
                throw new ClientSession.ProtocolError("08P01", "malformed SCRAM client-first message");
            }
            clientFirstBare = clientFirst.substring(second + 1);
            String clientNonce = Scram.attribute(clientFirstBare, 'r');
            if (clientNonce == null || clientNonce.isEmpty()) {
                throw new ClientSession.ProtocolError("08P01", "malformed SCRAM client-first message: no nonce");
            }
            nonce = clientNonce + Scram.nonce(random);
            serverFirst = "r=" + nonce + ",s=" + Base64.getEncoder().encodeToString(verifier.salt()) + ",i="
                    + verifier.iterations();
            return Step.more(Msg.builder('R').int32(11).bytes(serverFirst.getBytes(StandardCharsets.UTF_8)).build());
        }

        private Step fin(Msg m) throws ClientSession.ProtocolError {
            String clientFinal = new String(m.body(), StandardCharsets.UTF_8);
            int p = clientFinal.lastIndexOf(",p=");
            String proof = Scram.attribute(clientFinal, 'p');
            if (p < 0 || proof == null || !nonce.equals(Scram.attribute(clientFinal, 'r'))) {
                throw new ClientSession.ProtocolError("08P01", "malformed SCRAM client-final message");
            }
            String authMessage = clientFirstBare + "," + serverFirst + "," + clientFinal.substring(0, p);
            byte[] proofBytes;
            try {
                proofBytes = Base64.getDecoder().decode(proof);
            } catch (IllegalArgumentException e) {
                throw new ClientSession.ProtocolError("08P01", "malformed SCRAM proof");
            }
            if (!verifier.verify(authMessage, proofBytes)) {
                throw failed();
            }
            return Step.authenticated(Msg.builder('R').int32(12).bytes(("v=" + verifier.serverSignature(authMessage))
                    .getBytes(StandardCharsets.UTF_8)).build(), null);
        }
    }

    /** PostgreSQL's md5 challenge: {@code md5(md5(password || user) || salt)}, with a fresh 4-byte salt. */
    static final class Md5Login extends ClientLogin {
        private final ClientCredentials credentials;
        private final byte[] salt = new byte[4];

        Md5Login(String user, ClientCredentials credentials, java.security.SecureRandom random) {
            super(user);
            this.credentials = credentials;
            random.nextBytes(salt);
        }

        @Override
        Msg request() {
            return Msg.builder('R').int32(5).bytes(salt).build();
        }

        @Override
        Step next(Msg m) throws ClientSession.ProtocolError {
            String response = passwordOf(m);
            if (!credentials.md5Matches(user, salt, response)) {
                throw failed();
            }
            return Step.authenticated(null, null);
        }
    }

    /**
     * Pass-through: the client sends its password in clear (AuthenticationCleartextPassword, so only over TLS or
     * loopback, which {@link ProxyConfig} enforces); the proxy logs in to the primary as that user with it, and the
     * primary's own authentication decides. The client's backends are then opened with the same login.
     */
    static final class Passthrough extends ClientLogin {
        private final PrimaryCheck primary;

        Passthrough(String user, PrimaryCheck primary) {
            super(user);
            this.primary = primary;
        }

        @Override
        Msg request() {
            return Msg.builder('R').int32(3).build();
        }

        @Override
        Step next(Msg m) throws ClientSession.ProtocolError {
            String password = passwordOf(m);
            if (password.isEmpty()) {
                throw failed();
            }
            BackendLogin as = new BackendLogin(user, Secret.of(password));
            Arrays.fill(m.body(), (byte) 0); // the message's copy of the password is not kept either
            primary.login(as);
            return Step.authenticated(null, as);
        }
    }
}

package dev.readsplit.proxy;

import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * SCRAM-SHA-256 (RFC 5802/7677) as PostgreSQL speaks it, both ways: {@link Verifier} checks a client's proof against a
 * stored password (the proxy as a server), {@link #clientFinal} answers a server (the proxy logging in to a backend).
 * Channel binding is not offered ({@code n,,}). Passwords are used as given (no SASLprep), which matches PostgreSQL for
 * ASCII passwords.
 */
final class Scram {

    static final String MECHANISM = "SCRAM-SHA-256";
    static final int ITERATIONS = 4096;
    /** How PostgreSQL stores a verifier ({@code pg_authid.rolpassword}): {@code SCRAM-SHA-256$iter:salt$stored:server}. */
    static final String VERIFIER_PREFIX = "SCRAM-SHA-256$";

    private Scram() {
    }

    /** A user's stored keys: computed once from the password, never the password itself. */
    record Verifier(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {

        static Verifier of(String password, SecureRandom random) {
            byte[] salt = new byte[16];
            random.nextBytes(salt);
            byte[] salted = salted(password, salt, ITERATIONS);
            return new Verifier(salt, ITERATIONS, sha256(hmac(salted, "Client Key")), hmac(salted, "Server Key"));
        }

        /**
         * A verifier as PostgreSQL stores it ({@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}, base64
         * parts); the error names the user, never the verifier.
         */
        static Verifier parse(String stored, String user) {
            String bad = "the SCRAM-SHA-256 verifier of user \"" + user + "\" is malformed (expected "
                    + VERIFIER_PREFIX + "<iterations>:<salt>$<StoredKey>:<ServerKey>)";
            if (!stored.startsWith(VERIFIER_PREFIX)) {
                throw new IllegalArgumentException(bad);
            }
            String[] parts = stored.substring(VERIFIER_PREFIX.length()).split("\\$", -1);
            if (parts.length != 2) {
                throw new IllegalArgumentException(bad);
            }
            String[] is = parts[0].split(":", -1);
            String[] keys = parts[1].split(":", -1);
            if (is.length != 2 || keys.length != 2) {
                throw new IllegalArgumentException(bad);
            }
            try {
                int iterations = Integer.parseInt(is[0]);
                byte[] salt = Base64.getDecoder().decode(is[1]);
                byte[] storedKey = Base64.getDecoder().decode(keys[0]);
                byte[] serverKey = Base64.getDecoder().decode(keys[1]);
                if (iterations < 1 || iterations > 1_000_000 || salt.length == 0 || storedKey.length != 32
                        || serverKey.length != 32) {
                    throw new IllegalArgumentException(bad);
                }
                return new Verifier(salt, iterations, storedKey, serverKey);
            } catch (IllegalArgumentException e) { // NumberFormatException too
                throw new IllegalArgumentException(bad);
            }
        }

        /** Whether {@code proof} (base64) proves the password for {@code authMessage}. */
        boolean verify(String authMessage, byte[] proof) {
            byte[] signature = hmac(storedKey, authMessage);
            if (proof.length != signature.length) {
                return false;
            }
            byte[] clientKey = new byte[proof.length];
            for (int i = 0; i < proof.length; i++) {
                clientKey[i] = (byte) (proof[i] ^ signature[i]);
            }
            return MessageDigest.isEqual(sha256(clientKey), storedKey);
        }

        String serverSignature(String authMessage) {
            return Base64.getEncoder().encodeToString(hmac(serverKey, authMessage));
        }

        @Override
        public String toString() {
            return "Verifier[SCRAM-SHA-256]";
        }
    }

    /** The client side: the client-final message for a server-first message; returns {finalMessage, expectedServerSignature}. */
    static String[] clientFinal(String password, String clientFirstBare, String serverFirst, String clientNonce) {
        String nonce = attribute(serverFirst, 'r');
        String salt = attribute(serverFirst, 's');
        String iter = attribute(serverFirst, 'i');
        if (nonce == null || salt == null || iter == null || !nonce.startsWith(clientNonce)) {
            throw new IllegalStateException("malformed SCRAM server-first message");
        }
        int iterations = Integer.parseInt(iter);
        if (iterations < 1 || iterations > 1_000_000) {
            throw new IllegalStateException("SCRAM iteration count out of range: " + iterations);
        }
        byte[] salted = salted(password, Base64.getDecoder().decode(salt), iterations);
        byte[] clientKey = hmac(salted, "Client Key");
        byte[] storedKey = sha256(clientKey);
        String withoutProof = "c=biws,r=" + nonce;
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] signature = hmac(storedKey, authMessage);
        byte[] proof = new byte[clientKey.length];
        for (int i = 0; i < proof.length; i++) {
            proof[i] = (byte) (clientKey[i] ^ signature[i]);
        }
        String serverSignature = Base64.getEncoder().encodeToString(hmac(hmac(salted, "Server Key"), authMessage));
        return new String[] {withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof), serverSignature};
    }

    static String nonce(SecureRandom random) {
        byte[] b = new byte[18];
        random.nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    /** The value of attribute {@code name} in a comma-separated SCRAM message, or null. */
    static String attribute(String message, char name) {
        for (String part : message.split(",")) {
            if (part.length() >= 2 && part.charAt(0) == name && part.charAt(1) == '=') {
                return part.substring(2);
            }
        }
        return null;
    }

    private static byte[] salted(String password, byte[] salt, int iterations) {
        try {
            SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
            return f.generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256)).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 unavailable", e);
        }
    }

    static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}

package dev.readsplit.proxy;

import dev.readsplit.config.Secret;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;

/**
 * The configured client users' stored keys, derived once when the proxy starts: a SCRAM-SHA-256 verifier (from a plain
 * password, or the {@code SCRAM-SHA-256$...} verifier given) and the md5 hash ({@code md5} of password and user name)
 * where the method needs it. Plain passwords are not kept. Unknown users get a decoy verifier and salt, so they fail
 * the same exchange as a wrong password.
 */
final class ClientCredentials {

    private final ClientAuth auth;
    private final Map<String, Scram.Verifier> verifiers = new HashMap<>();
    private final Map<String, byte[]> md5Hashes = new HashMap<>();
    private final Scram.Verifier decoy;

    ClientCredentials(ProxyConfig config, SecureRandom random) {
        this.auth = config.auth();
        this.decoy = Scram.Verifier.of(Scram.nonce(random), random);
        for (Map.Entry<String, Secret> e : config.users().entrySet()) {
            String user = e.getKey();
            String stored = e.getValue().reveal();
            switch (auth) {
                case SCRAM_SHA_256 -> verifiers.put(user, stored.startsWith(Scram.VERIFIER_PREFIX)
                        ? Scram.Verifier.parse(stored, user) : Scram.Verifier.of(stored, random));
                case MD5 -> md5Hashes.put(user, (isMd5Hash(stored) ? stored : "md5" + md5Hex(stored + user))
                        .substring(3).getBytes(StandardCharsets.US_ASCII));
                default -> { }
            }
        }
    }

    ClientAuth auth() {
        return auth;
    }

    /** The user's verifier, or the decoy for an unknown user. */
    Scram.Verifier verifier(String user) {
        Scram.Verifier v = verifiers.get(user);
        return v != null ? v : decoy;
    }

    /** Whether {@code response} (the client's PasswordMessage) answers the md5 challenge with {@code salt}. */
    boolean md5Matches(String user, byte[] salt, String response) {
        byte[] inner = md5Hashes.get(user);
        // an unknown user is checked against a hash nobody knows: same work, same answer as a wrong password
        byte[] hash = inner != null ? inner : decoy.storedKey();
        byte[] expected = ("md5" + md5Hex(hash, salt)).getBytes(StandardCharsets.US_ASCII);
        boolean ok = MessageDigest.isEqual(expected, response.getBytes(StandardCharsets.US_ASCII));
        return ok && inner != null;
    }

    /** Whether {@code stored} is a PostgreSQL md5 hash ({@code md5} and 32 hex digits). */
    static boolean isMd5Hash(String stored) {
        return stored.length() == 35 && stored.startsWith("md5") && stored.substring(3).chars()
                .allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }

    static String md5Hex(String s) {
        return md5Hex(s.getBytes(StandardCharsets.UTF_8), new byte[0]);
    }

    static String md5Hex(byte[] a, byte[] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            md.update(a);
            md.update(b);
            byte[] d = md.digest();
            StringBuilder sb = new StringBuilder(32);
            for (byte x : d) {
                sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is required of every JDK", e);
        }
    }

    @Override
    public String toString() {
        return "ClientCredentials[" + auth.label() + ", users=" + (verifiers.size() + md5Hashes.size()) + "]";
    }
}

package dev.readsplit.proxy;

import dev.readsplit.config.Secret;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ProxyConfigTest {

    @Test
    void badValuesFailFastNamingThem() {
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().listen("nohost"))
                .getMessage()).contains("HOST:PORT").contains("nohost");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().listen("h:x"))
                .getMessage()).contains("h:x");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().maxClients(0))
                .getMessage()).contains("maxClients");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().build())
                .getMessage()).contains("user");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().user("app", Secret.of("")))
                .getMessage()).contains("app");
    }

    @Test
    void poolModeIsSessionUnlessSetAndABadNameIsRefusedNamingIt() {
        assertThat(ProxyConfig.builder().user("app", Secret.of("pw")).build().poolMode()).isEqualTo(PoolMode.SESSION);
        ProxyConfig t = ProxyConfig.builder().user("app", Secret.of("pw")).poolMode(PoolMode.parse(" Transaction "))
                .build();
        assertThat(t.poolMode()).isEqualTo(PoolMode.TRANSACTION);
        assertThat(t.toString()).contains("poolMode=transaction");
        assertThat(assertThrows(IllegalArgumentException.class, () -> PoolMode.parse("statement")).getMessage())
                .contains("statement").contains("session").contains("transaction");
    }

    @Test
    void pipeliningIsOffUnlessSetAndNeedsTransactionPoolingAndABoundedDepthAndWait() {
        ProxyConfig d = ProxyConfig.builder().user("app", Secret.of("pw")).build();
        assertThat(d.pipelineDepth()).isEqualTo(1);
        assertThat(d.pipelineMaxWait()).isEqualTo(java.time.Duration.ofMillis(2));
        ProxyConfig p = ProxyConfig.builder().user("app", Secret.of("pw")).poolMode(PoolMode.TRANSACTION)
                .pipelineDepth(8).pipelineMaxWait(java.time.Duration.ofMillis(5)).build();
        assertThat(p.pipelineDepth()).isEqualTo(8);
        assertThat(p.toString()).contains("pipelineDepth=8").contains("pipelineMaxWait=PT0.005S");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().user("app",
                Secret.of("pw")).pipelineDepth(8).build()).getMessage()).contains("pipelineDepth 8")
                .contains("transaction");
        for (int bad : new int[] {0, -1, ProxyConfig.MAX_PIPELINE_DEPTH + 1}) {
            assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().pipelineDepth(bad))
                    .getMessage()).contains("pipelineDepth").contains(String.valueOf(bad));
        }
        for (java.time.Duration bad : new java.time.Duration[] {java.time.Duration.ZERO, java.time.Duration.ofMillis(-1),
                java.time.Duration.ofMinutes(2), null}) {
            assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().pipelineMaxWait(bad))
                    .getMessage()).contains("pipelineMaxWait");
        }
    }

    @Test
    void theDrainTimeoutIsTenSecondsUnlessSetAndCannotBeNegative() {
        assertThat(ProxyConfig.builder().user("app", Secret.of("pw")).build().drainTimeout())
                .isEqualTo(java.time.Duration.ofSeconds(10));
        assertThat(ProxyConfig.builder().user("app", Secret.of("pw")).drainTimeout(java.time.Duration.ZERO).build()
                .drainTimeout()).isZero();
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder()
                .drainTimeout(java.time.Duration.ofSeconds(-1))).getMessage()).contains("drainTimeout").contains("-1");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().drainTimeout(null))
                .getMessage()).contains("drainTimeout");
    }

    @Test
    void passwordsNeverShowInToString() {
        ProxyConfig c = ProxyConfig.builder().listen("127.0.0.1:0").user("app", Secret.of("hunter2")).build();
        assertThat(c.toString()).contains("app").doesNotContain("hunter2");
        assertThat(c.listenPort()).isZero();
    }

    @Test
    void eachAuthenticationMethodChecksWhatItNeeds() {
        String md5Hash = "md5" + ClientCredentials.md5Hex("pw" + "bob");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder()
                .user("bob", Secret.of(md5Hash)).build()).getMessage())
                .contains("bob").contains("md5 hash").contains("scram-sha-256").doesNotContain(md5Hash);
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().auth(ClientAuth.MD5)
                .user("dave", Secret.of("SCRAM-SHA-256$4096:c2FsdA==$AAAA:BBBB")).build()).getMessage())
                .contains("dave").contains("SCRAM-SHA-256 verifier").contains("md5");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder()
                .user("dave", Secret.of("SCRAM-SHA-256$4096:c2FsdA==$AAAA:BBBB")).build()).getMessage())
                .contains("dave").contains("malformed").doesNotContain("c2FsdA");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().auth(ClientAuth.MD5)
                .build()).getMessage()).contains("md5").contains("user");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder()
                .auth(ClientAuth.PASSTHROUGH).user("app", Secret.of("pw")).build()).getMessage())
                .contains("passthrough").contains("app");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().listen("0.0.0.0:6432")
                .auth(ClientAuth.PASSTHROUGH).build()).getMessage()).contains("TLS").contains("0.0.0.0");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ProxyConfig.builder().user("a", Secret.of("x"))
                .user("a", Secret.of("y"))).getMessage()).contains("a").contains("twice");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ClientAuth.parse("kerberos")).getMessage())
                .contains("kerberos").contains("scram-sha-256");

        ProxyConfig passthrough = ProxyConfig.builder().listen("127.0.0.1:0").auth(ClientAuth.PASSTHROUGH).build();
        assertThat(passthrough.auth()).isEqualTo(ClientAuth.PASSTHROUGH);
        assertThat(passthrough.trust()).isFalse();
        ProxyConfig md5 = ProxyConfig.builder().auth(ClientAuth.MD5).user("bob", Secret.of(md5Hash)).build();
        assertThat(md5.toString()).contains("md5").contains("bob").doesNotContain(md5Hash);
        assertThat(ProxyConfig.builder().trust(true).build().auth()).isEqualTo(ClientAuth.TRUST);
    }

    @Test
    void md5ResponsesAreCheckedAgainstPlainPasswordsAndStoredHashesAlike() {
        byte[] salt = {1, 2, 3, 4};
        ProxyConfig c = ProxyConfig.builder().auth(ClientAuth.MD5).user("alice", Secret.of("alice-pw"))
                .user("bob", Secret.of("md5" + ClientCredentials.md5Hex("bob-pw" + "bob"))).build();
        ClientCredentials creds = new ClientCredentials(c, new java.security.SecureRandom());
        assertThat(creds.md5Matches("alice", salt, response("alice-pw", "alice", salt))).isTrue();
        assertThat(creds.md5Matches("bob", salt, response("bob-pw", "bob", salt))).isTrue();
        assertThat(creds.md5Matches("alice", salt, response("wrong", "alice", salt))).isFalse();
        assertThat(creds.md5Matches("alice", new byte[] {9, 9, 9, 9}, response("alice-pw", "alice", salt))).isFalse();
        assertThat(creds.md5Matches("nobody", salt, response("alice-pw", "nobody", salt))).isFalse();
    }

    /** What libpq sends: md5 of (md5 of password and user, in hex) and the salt. */
    private static String response(String password, String user, byte[] salt) {
        String inner = ClientCredentials.md5Hex(password + user);
        return "md5" + ClientCredentials.md5Hex(inner.getBytes(java.nio.charset.StandardCharsets.US_ASCII), salt);
    }
}

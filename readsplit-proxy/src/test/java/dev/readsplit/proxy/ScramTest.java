package dev.readsplit.proxy;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;

class ScramTest {

    /** RFC 7677 section 3: user "user", password "pencil". */
    @Test
    void clientSideMatchesTheRfcExample() {
        String clientFirstBare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
        String serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        String[] fin = Scram.clientFinal("pencil", clientFirstBare, serverFirst, "rOprNGfwEbeRWgbNEkqO");
        assertThat(fin[0]).isEqualTo("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        assertThat(fin[1]).isEqualTo("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    @Test
    void verifierAcceptsTheRightPasswordOnlyAndSignsLikeTheClientExpects() {
        Scram.Verifier v = Scram.Verifier.of("s3cret", new SecureRandom());
        String cnonce = "clientnonce";
        String clientFirstBare = "n=,r=" + cnonce;
        String serverFirst = "r=" + cnonce + "server,s=" + Base64.getEncoder().encodeToString(v.salt()) + ",i="
                + v.iterations();
        for (String password : new String[] {"s3cret", "wrong"}) {
            String[] fin = Scram.clientFinal(password, clientFirstBare, serverFirst, cnonce);
            int p = fin[0].lastIndexOf(",p=");
            String authMessage = clientFirstBare + "," + serverFirst + "," + fin[0].substring(0, p);
            byte[] proof = Base64.getDecoder().decode(fin[0].substring(p + 3));
            boolean right = password.equals("s3cret");
            assertThat(v.verify(authMessage, proof)).isEqualTo(right);
            assertThat(v.serverSignature(authMessage).equals(fin[1])).isEqualTo(right);
        }
        assertThat(v.toString()).doesNotContain("s3cret");
    }
}

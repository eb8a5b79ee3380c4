package dev.readsplit.proxy;

import dev.readsplit.config.Secret;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

class UserListTest {

    @Test
    void readsPgBouncerFormatWithQuotesCommentsAndStoredHashes(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("userlist.txt");
        Files.writeString(f, "; PgBouncer style comment\n# another\n\n\"alice\" \"pw \"\"one\"\"\"\r\n"
                + "  \"bob\"   \"md5" + "0123456789abcdef0123456789abcdef\"  \n\"carol\" \"SCRAM-SHA-256$4096:c2FsdA==$a:b\"\n");
        Map<String, Secret> users = UserList.read(f);
        assertThat(users.keySet()).containsExactly("alice", "bob", "carol");
        assertThat(users.get("alice").reveal()).isEqualTo("pw \"one\"");
        assertThat(users.get("bob").reveal()).startsWith("md5");
        assertThat(users.toString()).doesNotContain("pw").doesNotContain("md5");
    }

    @Test
    void errorsNameTheLineAndNeverThePassword() {
        assertThat(message("\"alice\" \"secret-1\"\nalice secret-2\n")).contains("t line 2").contains("double quotes")
                .doesNotContain("secret");
        assertThat(message("\"alice\" \"secret-1")).contains("line 1").contains("closing double quote")
                .doesNotContain("secret");
        assertThat(message("\"alice\" \"secret-1\" extra")).contains("after the password of user \"alice\"")
                .doesNotContain("secret");
        assertThat(message("\"alice\" \"secret-1\"\n\"alice\" \"secret-2\"")).contains("line 2")
                .contains("listed twice").doesNotContain("secret");
        assertThat(message("\"alice\" \"\"")).contains("empty password");
        assertThat(message("\"\" \"secret-1\"")).contains("empty user name").doesNotContain("secret");
        assertThat(assertThrows(IllegalArgumentException.class, () -> UserList.read(Path.of("/no/such/userlist")))
                .getMessage()).contains("/no/such/userlist");
    }

    private static String message(String text) {
        return assertThrows(IllegalArgumentException.class, () -> UserList.parse(text, "t")).getMessage();
    }
}

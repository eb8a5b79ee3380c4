package dev.readsplit.config;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Properties;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The one builder of node-connection properties (the only place a node's password is revealed) and the one
 * redactor of free text.
 */
class SecretsPlumbingTest {

    private static final String PASSWORD = "pw-Plumbing-51ac0e";
    private static final String SSL_PASSWORD = "ssl-Plumbing-77e1";

    private static NodeConfig node() {
        return NodeConfig.builder().host("db1").port(5433).user("app").password(PASSWORD)
                .jdbcProperty("sslmode", "require").jdbcProperty("sslpassword", SSL_PASSWORD)
                .jdbcProperty("readOnlyMode", "transaction").build();
    }

    @Test
    void propertiesCarryTheNodesCredentialsAndPropertiesPlusTheCallersOwn() {
        Properties p = ConnectionProperties.of(node()).set("ApplicationName", "x-health")
                .setIfAbsent("readOnlyMode", "always").setIfAbsent("connectTimeout", "2").build();
        assertThat(p).containsEntry("user", "app").containsEntry("password", PASSWORD)
                .containsEntry("sslmode", "require").containsEntry("sslpassword", SSL_PASSWORD)
                .containsEntry("ApplicationName", "x-health").containsEntry("connectTimeout", "2")
                .as("the node's own readOnlyMode wins over setIfAbsent").containsEntry("readOnlyMode", "transaction");
        assertThat(ConnectionProperties.of(node()).remove("readOnlyMode").build()).doesNotContainKey("readOnlyMode");
        NodeConfig bare = NodeConfig.of("db2", 5432);
        assertThat(ConnectionProperties.of(bare).build()).doesNotContainKeys("user", "password");
    }

    @Test
    void callersCannotSetCredentialsAndTheBuilderNeverPrintsThem() {
        ConnectionProperties.Builder b = ConnectionProperties.of(node());
        assertThrows(IllegalArgumentException.class, () -> b.set("password", "x"));
        assertThrows(IllegalArgumentException.class, () -> b.set("User", "x"));
        assertThrows(IllegalArgumentException.class, () -> b.set("sslpassword", "x"));
        assertThat(b.toString()).contains("sslmode=require").doesNotContain(PASSWORD).doesNotContain(SSL_PASSWORD);
    }

    @Test
    void libpqConninfoQuotesEveryValue() {
        NodeConfig n = NodeConfig.builder().host("db1").port(5433).user("o'brien").password("p\\w'd")
                .jdbcProperty("sslmode", "verify-full").build();
        assertThat(ConnectionProperties.libpqConninfo(n))
                .isEqualTo("host='db1' port=5433 user='o\\'brien' password='p\\\\w\\'d' sslmode='verify-full'");
    }

    @Test
    void redactorMasksPasswordsTokensAndSecretJdbcPropertiesLongestFirst() {
        ReadsplitConfig c = ReadsplitConfig.builder().primary(node())
                .addReplica(NodeConfig.builder().host("r1").password(PASSWORD + "-longer").build())
                .adminToken("tok-Plumbing-0b2d").build();
        Redactor r = Redactor.of(c);
        assertThat(r.redact("a " + PASSWORD + "-longer b " + PASSWORD + " c " + SSL_PASSWORD + " d tok-Plumbing-0b2d"))
                .isEqualTo("a **** b **** c **** d ****");
        assertThat(r.redact(null)).isNull();
        assertThat(r.toString()).doesNotContain(PASSWORD);
        assertThat(Redactor.of(NodeConfig.of("h", 1)).redact("nothing to hide")).isEqualTo("nothing to hide");
        assertThat(Redactor.ofValues(java.util.List.of("abc", "")).redact("xabcx")).isEqualTo("x****x");
    }

    @Test
    void environmentMessagesAreScrubbedByTheSameRedactor() {
        ConfigException e = assertThrows(ConfigException.class, () -> ReadsplitConfig.fromEnvironment(Map.of(
                "DB_HOST", "h", "DB_PASSWORD", PASSWORD, "READSPLIT_NAME", " ")));
        assertThat(e.getMessage()).doesNotContain(PASSWORD);
    }

    /** Node passwords reach a driver only through ConnectionProperties: no other production class reveals one. */
    @Test
    void onlyConnectionPropertiesRevealsANodePassword() {
        JavaClasses core = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.readsplit");
        noClasses().that().doNotHaveFullyQualifiedName(ConnectionProperties.class.getName())
                .and().doNotHaveFullyQualifiedName(ConnectionProperties.Builder.class.getName())
                .and().doNotHaveFullyQualifiedName(Redactor.class.getName())
                .and().doNotHaveFullyQualifiedName(Secret.class.getName())
                .should().callMethod(Secret.class, "reveal")
                .orShould().callMethod(Secret.class, "value")
                .because("ConnectionProperties is the one place a node's password is handed to a driver")
                .check(core);
    }
}

package dev.readsplit;

import dev.readsplit.config.ConfigException;
import dev.readsplit.config.ReadsplitConfig;
import dev.readsplit.failover.FailoverException;
import dev.readsplit.failover.FailoverStep;
import dev.readsplit.jdbc.ReadsplitDriver;
import org.junit.jupiter.api.Test;

import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The one thing to catch ({@code docs/architecture.md}, "Public API"): every exception Readsplit throws of its own is a
 * {@link ReadsplitFailure} with a machine-readable reason from one enum, whatever its Java type must be for its callers.
 */
class ReadsplitFailureTest {

    @Test
    void anInvalidConfigurationIsAFailureWithItsReasonAndItsKey() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ReadsplitConfig.builder().name("app").primary("db", 5432).maxLag(java.time.Duration.ofSeconds(-1)).build());
        ReadsplitFailure f = e;
        assertThat(f.reason()).isEqualTo(ReadsplitException.Reason.INVALID_CONFIG);
        assertThat(e.key()).isEqualTo("maxLag");
        assertThat(f.getMessage()).contains("maxLag");
        assertThat(e).isInstanceOf(IllegalArgumentException.class); // a builder fails fast, unchecked
    }

    @Test
    void aBadUrlThroughJdbcIsAReadsplitExceptionWithTheConfigurationReasonAndNoSecret() {
        Properties info = new Properties();
        info.setProperty("password", "s3cr3t-pw");
        SQLException e = assertThrows(SQLException.class, () -> ReadsplitDriver.registered()
                .connect("jdbc:readsplit:postgresql://db:5432/app?healthCheckInterval=soon", info));
        assertThat((Throwable) e).isInstanceOf(ReadsplitException.class);
        assertThat(((ReadsplitFailure) e).reason()).isEqualTo(ReadsplitException.Reason.INVALID_CONFIG);
        assertThat(e.getSQLState()).isEqualTo("08001");
        assertThat(e.getMessage()).contains("healthCheckInterval").doesNotContain("s3cr3t-pw");
        assertThat(e.getCause()).isInstanceOf(ConfigException.class);
    }

    @Test
    void aFailedFailoverStepIsAFailureNamingTheStep() {
        FailoverException e = new FailoverException(FailoverStep.PROMOTE, "app: pg_promote() did not finish in 10s");
        assertThat(e.reason()).isEqualTo(ReadsplitException.Reason.FAILOVER_FAILED);
        assertThat(e.step()).isEqualTo(FailoverStep.PROMOTE);
        FailoverException busy = new FailoverException(ReadsplitException.Reason.FAILOVER_IN_PROGRESS,
                FailoverStep.SWITCHOVER, "app: another failover or switchover is running");
        assertThat(busy.reason()).isEqualTo(ReadsplitException.Reason.FAILOVER_IN_PROGRESS);
    }

    @Test
    void everyReasonHasAnSqlStateForWhenItCrossesJdbc() {
        for (ReadsplitException.Reason r : ReadsplitException.Reason.values()) {
            assertThat(r.sqlState()).as(r.name()).matches("[0-9A-Z]{5}");
            assertThat(new ReadsplitException(r, "m").getSQLState()).isEqualTo(r.sqlState());
        }
    }

    @Test
    void findLooksThroughTheWrappersOfFrameworks() {
        ReadsplitException cause = new ReadsplitException(ReadsplitException.Reason.NO_ELIGIBLE_NODE, "app: no replica");
        RuntimeException wrapped = new CompletionException(new IllegalStateException("framework", cause));
        assertThat(ReadsplitFailure.find(wrapped)).containsSame(cause);
        assertThat(ReadsplitFailure.find(cause)).containsSame(cause);
        assertThat(ReadsplitFailure.find(new IllegalStateException("not ours"))).isEmpty();
        assertThat(ReadsplitFailure.find(null)).isEmpty();
    }
}

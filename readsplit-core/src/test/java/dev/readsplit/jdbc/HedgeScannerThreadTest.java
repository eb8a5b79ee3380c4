package dev.readsplit.jdbc;

import dev.readsplit.Consistency;
import dev.readsplit.config.NodeConfig;
import dev.readsplit.config.ReadsplitConfig;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The hedge scanner's thread starts with the data source's first logical connection, not before: a data source that
 * only serves the proxy (which opens no logical connections) or is never used runs no scanner tick; close() stops it.
 */
class HedgeScannerThreadTest {

    private static boolean scannerThreadAlive(String dsName) {
        String scanner = "readsplit-hedge-" + dsName;
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.isAlive() && t.getName().equals(scanner));
    }

    /** A data source on the stub driver (registered here) with one replica, whose health checks stay out of the way. */
    private static ReadsplitConfig onePrimaryOneReplica(String name) {
        StubDriver.register();
        return ReadsplitConfig.builder().name(name)
                .primary(NodeConfig.builder().name("primary").url("jdbc:stub:" + name + "-primary").build())
                .addReplica(NodeConfig.builder().name("r1").url("jdbc:stub:" + name + "-r1").build())
                .primaryPoolSize(2).replicaPoolSize(2).minIdle(0).consistency(Consistency.eventual())
                .healthCheckInterval(Duration.ofHours(1)).healthCheckTimeout(Duration.ofSeconds(5))
                .build();
    }

    @Test
    void theScannerStartsWithTheFirstLogicalConnectionAndStopsWithTheDataSource() throws Exception {
        String name = "scannerthread";
        ReadsplitDataSource ds = new ReadsplitDataSource(onePrimaryOneReplica(name));
        try {
            assertThat(ds.hedger()).as("hedged reads are on by default").isNotNull();
            assertThat(scannerThreadAlive(name)).as("no logical connection yet").isFalse();
            assertThat(ds.hedger().scanning()).isFalse();
            try (Connection c = ds.getConnection()) {
                assertThat(c.isClosed()).isFalse();
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> scannerThreadAlive(name));
            assertThat(ds.hedger().scanning()).isTrue();
        } finally {
            ds.close();
        }
        assertThat(ds.hedger().scanning()).isFalse();
        await().atMost(Duration.ofSeconds(30)).until(() -> !scannerThreadAlive(name));
    }

    /**
     * An idle data source's scanner parks (looks once a second, not every tick) after a second with no statement
     * running, and the next statement wakes it. It once looked every tick for as long as the data source was open.
     */
    @Test
    void theScannerParksWhenNothingRunsAndTheNextStatementWakesIt() throws Exception {
        try (ReadsplitDataSource ds = new ReadsplitDataSource(onePrimaryOneReplica("scannerparks"))) {
            Hedger hedger = ds.hedger();
            try (Connection c = ds.getConnection(); java.sql.Statement s = c.createStatement()) {
                s.executeQuery("SELECT 1").close();
            }
            await().atMost(Duration.ofSeconds(30)).until(hedger::parked);
            assertThat(hedger.wakeUps()).isZero();
            try (Connection c = ds.getConnection(); java.sql.Statement s = c.createStatement()) {
                s.executeQuery("SELECT 2").close();
            }
            assertThat(hedger.wakeUps()).isEqualTo(1);
            assertThat(hedger.scanning()).isTrue();
            await().atMost(Duration.ofSeconds(30)).until(hedger::parked); // and parks again
        }
    }

    @Test
    void aDataSourceClosedBeforeItsFirstConnectionNeverStartsTheScanner() {
        StubDriver.register();
        String name = "scannerclosed";
        ReadsplitConfig config = ReadsplitConfig.builder().name(name)
                .primary(NodeConfig.builder().name("primary").url("jdbc:stub:" + name + "-primary").build())
                .healthCheckInterval(Duration.ofHours(1)).healthCheckTimeout(Duration.ofSeconds(5))
                .build();
        ReadsplitDataSource ds = new ReadsplitDataSource(config);
        ds.close();
        Hedger hedger = ds.hedger();
        hedger.register(null); // a connection racing close(): registered, but no thread starts
        assertThat(hedger.scanning()).isFalse();
        assertThat(scannerThreadAlive(name)).isFalse();
    }
}

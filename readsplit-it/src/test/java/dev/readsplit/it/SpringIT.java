package dev.readsplit.it;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

import javax.sql.DataSource;
import java.util.Map;

import static dev.readsplit.it.Placement.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Spring Framework 6.2's JDBC and transaction support on a {@link ReadsplitDataSource}: {@link JdbcTemplate} in
 * autocommit, {@link TransactionTemplate} read-write and read-only, and {@code @Transactional(readOnly = true)} through
 * an annotation config (also with {@code enforceReadOnly}, which sends {@code SET TRANSACTION READ ONLY} as SQL).
 */
class SpringIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static int primaryPort;
    private static int standbyPort;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).password("Spring-It-pw1").start();
        Placement.exec(cluster.primary(), "CREATE TABLE note (id bigserial PRIMARY KEY, body text, written_on int DEFAULT inet_server_port())");
        ds = new ReadsplitDataSource(Placement.config(cluster, "spring").build());
        Placement.awaitAllUp(ds);
        Placement.awaitReplayed(cluster);
        primaryPort = cluster.primary().port();
        standbyPort = cluster.standby(0).port();
    }

    @AfterAll
    static void stop() {
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void jdbcTemplateReadsFromTheStandbyAndWritesOnThePrimary() {
        JdbcTemplate jdbc = new JdbcTemplate(ds);
        assertThat(jdbc.queryForObject("SELECT inet_server_port()", Integer.class)).isEqualTo(standbyPort);
        Integer writtenOn = jdbc.queryForObject("INSERT INTO note(body) VALUES (?) RETURNING written_on", Integer.class,
                "template");
        assertThat(writtenOn).isEqualTo(primaryPort);
        assertThat(jdbc.update("UPDATE note SET body = 'template2' WHERE body = ?", "template")).isEqualTo(1);
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM note WHERE body = 'template2'")).isEqualTo(1);
    }

    @Test
    void aTransactionTemplateRunsEverythingOnThePrimary() {
        JdbcTemplate jdbc = new JdbcTemplate(ds);
        TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
        Map<String, Object> seen = tx.execute(status -> {
            Map<String, Object> where = jdbc.queryForMap("SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby");
            jdbc.update("INSERT INTO note(body) VALUES ('in a transaction')");
            return where;
        });
        assertThat(seen).containsEntry("port", primaryPort).containsEntry("standby", false);
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM note WHERE body = 'in a transaction' AND written_on = "
                + primaryPort)).isEqualTo(1);
    }

    @Test
    void aReadOnlyTransactionTemplateRunsOnTheStandby() {
        JdbcTemplate jdbc = new JdbcTemplate(ds);
        TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(ds));
        tx.setReadOnly(true);
        Map<String, Object> seen = tx.execute(status ->
                jdbc.queryForMap("SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby"));
        assertThat(seen).containsEntry("port", standbyPort).containsEntry("standby", true);
    }

    @Test
    void transactionalReadOnlyMethodsRunOnTheStandbyAndReadWriteOnesOnThePrimary() {
        for (boolean enforceReadOnly : new boolean[] {false, true}) {
            try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext()) {
                // the test owns the data source: no inferred close() when the context closes
                context.registerBean(DataSource.class, () -> ds, bd -> bd.setDestroyMethodName(""));
                context.registerBean("enforceReadOnly", Boolean.class, () -> enforceReadOnly);
                context.register(TxConfig.class);
                context.refresh();
                NoteService notes = context.getBean(NoteService.class);

                assertThat(notes.where()).as("@Transactional(readOnly = true), enforceReadOnly=" + enforceReadOnly)
                        .containsEntry("port", standbyPort).containsEntry("standby", true)
                        .containsEntry("read_only", "on");
                assertThat(notes.write("annotated " + enforceReadOnly)).isEqualTo(primaryPort);
            }
        }
    }

    /** A service whose transactions Spring opens from its annotations. */
    public static class NoteService {
        private final JdbcTemplate jdbc;

        public NoteService(DataSource dataSource) {
            this.jdbc = new JdbcTemplate(dataSource);
        }

        @Transactional(readOnly = true)
        public Map<String, Object> where() {
            return jdbc.queryForMap("SELECT inet_server_port() AS port, pg_is_in_recovery() AS standby,"
                    + " current_setting('transaction_read_only') AS read_only");
        }

        @Transactional
        public Integer write(String body) {
            return jdbc.queryForObject("INSERT INTO note(body) VALUES (?) RETURNING written_on", Integer.class, body);
        }
    }

    @Configuration
    @EnableTransactionManagement
    static class TxConfig {
        @Bean
        PlatformTransactionManager transactionManager(DataSource dataSource, Boolean enforceReadOnly) {
            DataSourceTransactionManager tm = new DataSourceTransactionManager(dataSource);
            tm.setEnforceReadOnly(enforceReadOnly);
            return tm;
        }

        @Bean
        NoteService noteService(DataSource dataSource) {
            return new NoteService(dataSource);
        }
    }
}

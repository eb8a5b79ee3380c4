package dev.readsplit.spring.boot.it.jdbc;

import dev.readsplit.spring.boot.it.OpenSecurity;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.data.annotation.Id;
import org.springframework.data.jdbc.repository.config.EnableJdbcRepositories;
import org.springframework.data.relational.core.mapping.Table;
import org.springframework.data.repository.CrudRepository;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** A JDBC application: JdbcTemplate, DataSourceTransactionManager, Flyway, Actuator, all from auto-configuration. */
@SpringBootApplication
@Import(OpenSecurity.class)
@EnableJdbcRepositories(considerNestedRepositories = true)
public class JdbcApp {

    /** A row of {@code notes} for Spring Data JDBC. */
    @Table("notes")
    public record NoteRow(@Id Long id, String body, Integer originPort, Boolean originRecovery) {
    }

    /** A Spring Data JDBC repository over the same data source. */
    public interface NoteRows extends CrudRepository<NoteRow, Long> {
    }

    /** Where a statement ran, as the server says. */
    public record Placement(int port, boolean inRecovery) {
    }

    @Service
    public static class PlacementService {
        private final JdbcTemplate jdbc;

        private final NoteRows rows;

        public PlacementService(JdbcTemplate jdbc, NoteRows rows) {
            this.jdbc = jdbc;
            this.rows = rows;
        }

        /** Saves through Spring Data JDBC and reads the row back in the same read-write transaction. */
        @Transactional
        public NoteRow saveAndFind(String body) {
            NoteRow saved = rows.save(new NoteRow(null, body, null, null));
            return rows.findById(saved.id()).orElseThrow();
        }

        /** Reads through Spring Data JDBC in a read-only transaction. */
        @Transactional(readOnly = true)
        public long countRows() {
            return rows.count();
        }

        @Transactional(readOnly = true)
        public Placement readOnly() {
            return here();
        }

        @Transactional
        public Placement readWrite(String body) {
            jdbc.update("INSERT INTO notes (body, origin_port, origin_recovery) "
                    + "SELECT ?, inet_server_port(), pg_is_in_recovery()", body);
            return here();
        }

        private Placement here() {
            return jdbc.queryForObject("SELECT inet_server_port(), pg_is_in_recovery()",
                    (rs, i) -> new Placement(rs.getInt(1), rs.getBoolean(2)));
        }
    }
}

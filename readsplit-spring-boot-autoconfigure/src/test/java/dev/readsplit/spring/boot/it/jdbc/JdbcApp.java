package dev.readsplit.spring.boot.it.jdbc;

import dev.readsplit.spring.boot.it.OpenSecurity;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** A JDBC application: JdbcTemplate, DataSourceTransactionManager, Flyway, Actuator, all from auto-configuration. */
@SpringBootApplication
@Import(OpenSecurity.class)
public class JdbcApp {

    /** Where a statement ran, as the server says. */
    public record Placement(int port, boolean inRecovery) {
    }

    @Service
    public static class PlacementService {
        private final JdbcTemplate jdbc;

        public PlacementService(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
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

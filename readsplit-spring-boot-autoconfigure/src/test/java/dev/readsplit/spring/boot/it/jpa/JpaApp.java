package dev.readsplit.spring.boot.it.jpa;

import jakarta.persistence.Entity;
import jakarta.persistence.EntityManager;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.PersistenceContext;
import jakarta.persistence.Table;
import dev.readsplit.spring.boot.it.OpenSecurity;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Import;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.config.EnableJpaRepositories;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A JPA web application: a Spring Data JPA repository, JpaTransactionManager, Liquibase, and Readsplit's
 * request causal-token filter, all from auto-configuration.
 */
@SpringBootApplication
@Import(OpenSecurity.class)
@EnableJpaRepositories(considerNestedRepositories = true)
public class JpaApp {

    @Entity
    @Table(name = "jpa_note")
    public static class Note {
        @Id
        @GeneratedValue(strategy = GenerationType.IDENTITY)
        private Long id;
        private String body;

        protected Note() {
        }

        public Note(String body) {
            this.body = body;
        }

        public Long getId() {
            return id;
        }

        public String getBody() {
            return body;
        }
    }

    public interface NoteRepository extends JpaRepository<Note, Long> {
    }

    @Service
    public static class NoteService {
        private final NoteRepository notes;
        @PersistenceContext
        private EntityManager em;

        public NoteService(NoteRepository notes) {
            this.notes = notes;
        }

        @Transactional
        public Map<String, Object> create(String body) {
            Note n = notes.save(new Note(body));
            Map<String, Object> m = placement();
            m.put("id", n.getId());
            return m;
        }

        @Transactional(readOnly = true)
        public Map<String, Object> find(long id) {
            Map<String, Object> m = placement();
            m.put("found", notes.findById(id).isPresent());
            return m;
        }

        private Map<String, Object> placement() {
            Object[] row = (Object[]) em.createNativeQuery("SELECT inet_server_port(), pg_is_in_recovery()")
                    .getSingleResult();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("port", ((Number) row[0]).intValue());
            m.put("recovery", row[1]);
            return m;
        }
    }

    @RestController
    public static class NoteController {
        private final NoteService service;

        public NoteController(NoteService service) {
            this.service = service;
        }

        @PostMapping("/notes")
        public Map<String, Object> create(@RequestParam String body) {
            return service.create(body);
        }

        @GetMapping("/notes/{id}")
        public Map<String, Object> find(@PathVariable long id) {
            return service.find(id);
        }

        /** The same read on another thread, with the request's causal context attached there. */
        @GetMapping("/notes/{id}/elsewhere")
        public Map<String, Object> findElsewhere(@PathVariable long id, jakarta.servlet.http.HttpServletRequest request)
                throws Exception {
            dev.readsplit.jdbc.CausalContext ctx = (dev.readsplit.jdbc.CausalContext)
                    request.getAttribute(dev.readsplit.spring.boot.web.CausalTokenFilter.CONTEXT_ATTRIBUTE);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
            try {
                return pool.submit(() -> {
                    try (dev.readsplit.jdbc.CausalContext.Attachment attached = ctx.attach()) {
                        return service.find(id);
                    }
                }).get();
            } finally {
                pool.shutdown();
            }
        }
    }
}

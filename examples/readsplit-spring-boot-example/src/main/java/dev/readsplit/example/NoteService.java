package dev.readsplit.example;

import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Writes in read-write transactions (the primary), reads in read-only ones (a replica that has replayed this
 * user's last write, thanks to the causal-token cookie). Each answer says which server served it.
 */
@Service
public class NoteService {

    private final NoteRepository notes;
    @PersistenceContext
    private EntityManager em;

    public NoteService(NoteRepository notes) {
        this.notes = notes;
    }

    @Transactional
    public Map<String, Object> create(String body) {
        Note n = notes.save(new Note(body));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", n.getId());
        m.put("body", n.getBody());
        m.put("servedBy", servedBy());
        return m;
    }

    @Transactional(readOnly = true)
    public Map<String, Object> find(long id) {
        Optional<Note> n = notes.findById(id);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("found", n.isPresent());
        n.ifPresent(note -> m.put("body", note.getBody()));
        m.put("servedBy", servedBy());
        return m;
    }

    @Transactional(readOnly = true)
    public Map<String, Object> count() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("notes", notes.count());
        m.put("servedBy", servedBy());
        return m;
    }

    /** Asked of the server itself, not of Readsplit. */
    private String servedBy() {
        Object[] row = (Object[]) em.createNativeQuery("SELECT inet_server_port(), pg_is_in_recovery()")
                .getSingleResult();
        return (Boolean.TRUE.equals(row[1]) ? "replica" : "primary") + " on port " + row[0];
    }
}

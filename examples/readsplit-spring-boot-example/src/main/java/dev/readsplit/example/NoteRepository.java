package dev.readsplit.example;

import org.springframework.data.jpa.repository.JpaRepository;

/** Spring Data JPA, unchanged: Readsplit sits below it as the DataSource. */
public interface NoteRepository extends JpaRepository<Note, Long> {
}

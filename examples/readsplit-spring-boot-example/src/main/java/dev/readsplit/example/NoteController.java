package dev.readsplit.example;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.util.Map;

/** {@code POST /notes?body=...}, {@code GET /notes/{id}}, {@code GET /notes}. */
@RestController
public class NoteController {

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

    @GetMapping("/notes")
    public Map<String, Object> count() {
        return service.count();
    }
}

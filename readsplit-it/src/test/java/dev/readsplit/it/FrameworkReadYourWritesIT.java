package dev.readsplit.it;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.boot.MetadataSources;
import org.hibernate.boot.registry.StandardServiceRegistry;
import org.hibernate.boot.registry.StandardServiceRegistryBuilder;
import org.hibernate.cfg.AvailableSettings;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Record3;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

/**
 * Read-your-writes with default settings for the frameworks that borrow a new connection per call (issue 13), with
 * the standbys 300 ms behind: Hibernate persists in one transaction and finds in a read-only one, jOOQ inserts and
 * then selects. Each read must see the row just written; where it ran is asked of the server, and a read that ran
 * on a standby must have found the row there. Before the thread scope became the default, each read went to the
 * delayed standby without the session's position and missed the row.
 */
class FrameworkReadYourWritesIT {

    private static final Duration APPLY_DELAY = Duration.ofMillis(300);
    private static final int ROUNDS = 20;

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static SessionFactory sessions;
    private static DSLContext dsl;
    private static Set<Integer> ports;

    @Entity(name = "Note")
    @Table(name = "note")
    public static class Note {
        @Id
        @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "note_seq")
        @SequenceGenerator(name = "note_seq", sequenceName = "note_seq", allocationSize = 1)
        Long id;
        String body;

        protected Note() {
        }

        Note(String body) {
            this.body = body;
        }
    }

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).password("Framework-Ryw-pw1").start();
        Placement.exec(cluster.primary(), "CREATE SEQUENCE note_seq");
        Placement.exec(cluster.primary(), "CREATE TABLE note (id bigint PRIMARY KEY, body text)");
        Placement.exec(cluster.primary(), "CREATE TABLE item (id bigserial PRIMARY KEY, label text)");
        Placement.awaitReplayed(cluster);
        for (EmbeddedNode s : cluster.standbys()) {
            s.setApplyDelay(APPLY_DELAY);
        }
        // default consistency (read_your_writes) and default causal scope: nothing set for this test
        ds = new ReadsplitDataSource(Placement.config(cluster, "framework-ryw").build());
        Placement.awaitAllUp(ds);
        ports = cluster.standbys().stream().map(EmbeddedNode::port).collect(Collectors.toSet());
        ports.add(cluster.primary().port());
        StandardServiceRegistry registry = new StandardServiceRegistryBuilder()
                .applySetting(AvailableSettings.JAKARTA_NON_JTA_DATASOURCE, ds)
                .applySetting(AvailableSettings.HBM2DDL_AUTO, "none")
                .build();
        sessions = new MetadataSources(registry).addAnnotatedClass(Note.class).buildMetadata().buildSessionFactory();
        dsl = DSL.using(ds, SQLDialect.POSTGRES);
    }

    @AfterAll
    static void stop() {
        if (sessions != null) {
            sessions.close();
        }
        if (ds != null) {
            ds.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void hibernateFindsInAReadOnlyTransactionWhatItPersistedInTheLastOne() {
        for (int i = 0; i < ROUNDS; i++) {
            String body = "note " + i;
            Long id = sessions.fromTransaction(s -> {
                Note n = new Note(body);
                s.persist(n);
                return n.id;
            });
            try (Session s = sessions.withOptions().readOnly(true).openSession()) {
                s.inTransaction(tx -> {
                    Note found = s.find(Note.class, id);
                    int port = s.createNativeQuery("SELECT inet_server_port()", Integer.class).getSingleResult();
                    assertThat(ports).contains(port);
                    assertThat(found).as("%s: the note just persisted, read on port %d", body, port).isNotNull();
                    assertThat(found.body).isEqualTo(body);
                });
            }
        }
    }

    @Test
    void jooqSelectsWhatItJustInserted() {
        Field<Long> id = field(name("id"), Long.class);
        Field<String> label = field(name("label"), String.class);
        Field<Integer> port = field("inet_server_port()", Integer.class);
        Field<Boolean> standby = field("pg_is_in_recovery()", Boolean.class);
        for (int i = 0; i < ROUNDS; i++) {
            String text = "item " + i;
            Long inserted = dsl.insertInto(table(name("item")), label).values(text).returningResult(id).fetchOne().value1();
            Record3<String, Integer, Boolean> read = dsl.select(label, port, standby).from(table(name("item")))
                    .where(id.eq(inserted)).fetchOne();
            assertThat(read).as("round %d: the row just inserted", i).isNotNull();
            assertThat(read.value1()).isEqualTo(text);
            assertThat(ports).contains(read.value2());
            if (read.value2() == cluster.primary().port()) {
                assertThat(read.value3()).isFalse();
            } else {
                assertThat(read.value3()).isTrue(); // a standby answered, and it had the row: it had replayed the write
            }
        }
    }

    @Test
    void aReadOfRowsWrittenByNobodyInThisThreadStillGoesToAStandby() throws Exception {
        // the other side of the trade: a thread that never wrote does not wait and is not sent to the primary
        Thread reader = new Thread(() -> {
            Record r = dsl.select(field("inet_server_port()", Integer.class), field("pg_is_in_recovery()", Boolean.class))
                    .fetchOne();
            assertThat(r.get(1, Boolean.class)).isTrue();
        });
        Throwable[] failure = new Throwable[1];
        reader.setUncaughtExceptionHandler((t, e) -> failure[0] = e);
        reader.start();
        reader.join(30_000);
        assertThat(failure[0]).isNull();
    }
}

package dev.readsplit.it;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.LockModeType;
import jakarta.persistence.SequenceGenerator;
import jakarta.persistence.Table;
import org.hibernate.Session;
import org.hibernate.SessionFactory;
import org.hibernate.boot.MetadataSources;
import org.hibernate.boot.registry.StandardServiceRegistry;
import org.hibernate.boot.registry.StandardServiceRegistryBuilder;
import org.hibernate.cfg.AvailableSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import static dev.readsplit.it.Placement.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Hibernate ORM 7 on a {@link ReadsplitDataSource}: saving (sequence ids drawn on the primary), batch inserts, a
 * read-only session on a standby, and a {@code PESSIMISTIC_WRITE} lock held on the primary. Placement is asked of
 * the server through native queries in the same session.
 */
class HibernateIT {

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static SessionFactory sessions;

    @Entity(name = "Book")
    @Table(name = "book")
    public static class Book {
        @Id
        @GeneratedValue(strategy = GenerationType.SEQUENCE, generator = "book_seq")
        @SequenceGenerator(name = "book_seq", sequenceName = "book_seq", allocationSize = 1)
        Long id;
        String title;

        protected Book() {
        }

        Book(String title) {
            this.title = title;
        }
    }

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).password("Hibernate-It-pw1").start();
        Placement.exec(cluster.primary(), "CREATE SEQUENCE book_seq");
        Placement.exec(cluster.primary(), "CREATE TABLE book (id bigint PRIMARY KEY, title text)");
        ds = new ReadsplitDataSource(Placement.config(cluster, "hibernate").build());
        Placement.awaitAllUp(ds);
        Placement.awaitReplayed(cluster);
        StandardServiceRegistry registry = new StandardServiceRegistryBuilder()
                .applySetting(AvailableSettings.JAKARTA_NON_JTA_DATASOURCE, ds)
                .applySetting(AvailableSettings.HBM2DDL_AUTO, "none")
                .applySetting(AvailableSettings.STATEMENT_BATCH_SIZE, 20)
                .applySetting(AvailableSettings.ORDER_INSERTS, true)
                .build();
        sessions = new MetadataSources(registry).addAnnotatedClass(Book.class).buildMetadata().buildSessionFactory();
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
    void savesOnThePrimaryWithSequenceIdsDrawnThere() {
        long before = queryLong(cluster.primary(), "SELECT last_value FROM book_seq");
        Long id = sessions.fromTransaction(s -> {
            Book b = new Book("Dune");
            s.persist(b);
            s.flush();
            assertThat(serverPort(s)).isEqualTo(cluster.primary().port());
            return b.id;
        });
        assertThat(id).isGreaterThan(before);
        assertThat(queryLong(cluster.primary(), "SELECT last_value FROM book_seq")).isEqualTo(id);
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM book WHERE id = " + id + " AND title = 'Dune'"))
                .isEqualTo(1);
    }

    @Test
    void batchInsertsLandOnThePrimary() {
        sessions.inTransaction(s -> {
            for (int i = 0; i < 50; i++) {
                s.persist(new Book("batch " + i));
            }
        });
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM book WHERE title LIKE 'batch %'")).isEqualTo(50);
    }

    @Test
    void aReadOnlySessionReadsFromTheStandby() {
        Long id = sessions.fromTransaction(s -> {
            Book b = new Book("Read me");
            s.persist(b);
            return b.id;
        });
        Placement.awaitReplayed(cluster);
        try (Session s = sessions.withOptions().readOnly(true).openSession()) {
            s.inTransaction(tx -> {
                assertThat(s.find(Book.class, id).title).isEqualTo("Read me");
                assertThat(serverPort(s)).isEqualTo(cluster.standby(0).port());
                assertThat(s.createNativeQuery("SELECT pg_is_in_recovery()", Boolean.class).getSingleResult()).isTrue();
            });
        }
    }

    @Test
    void pessimisticWriteLocksTheRowOnThePrimary() throws SQLException {
        Long id = sessions.fromTransaction(s -> {
            Book b = new Book("Locked");
            s.persist(b);
            return b.id;
        });
        sessions.inTransaction(s -> {
            Book b = s.find(Book.class, id, LockModeType.PESSIMISTIC_WRITE);
            assertThat(b.title).isEqualTo("Locked");
            assertThat(serverPort(s)).isEqualTo(cluster.primary().port());
            // another session on the primary cannot take the same row lock while this transaction holds it
            try (Connection other = cluster.primary().connect(); Statement st = other.createStatement()) {
                SQLException e = assertThrows(SQLException.class,
                        () -> st.executeQuery("SELECT id FROM book WHERE id = " + id + " FOR UPDATE NOWAIT"));
                assertThat(e.getSQLState()).isEqualTo("55P03");
            } catch (SQLException e) {
                throw new AssertionError(e);
            }
        });
    }

    private static int serverPort(Session s) {
        return s.createNativeQuery("SELECT inet_server_port()", Integer.class).getSingleResult();
    }
}

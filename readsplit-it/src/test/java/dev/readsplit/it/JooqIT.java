package dev.readsplit.it;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import org.jooq.CommonTableExpression;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Record1;
import org.jooq.Record2;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static dev.readsplit.it.Placement.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

/**
 * jOOQ 3.19 on a {@link ReadsplitDataSource}: a select on the standby, an insert with {@code RETURNING} and a
 * data-modifying CTE ({@code WITH moved AS (DELETE ... RETURNING ...) INSERT ... SELECT}) on the primary, built with
 * jOOQ's DSL, not written as text.
 */
class JooqIT {

    private static final Table<Record> TASK = table(name("task"));
    private static final Table<Record> DONE = table(name("done_task"));
    private static final Field<Long> ID = field(name("id"), Long.class);
    private static final Field<String> TITLE = field(name("title"), String.class);
    private static final Field<Integer> WRITTEN_ON = field(name("written_on"), Integer.class);
    private static final Field<Integer> SERVER_PORT = field("inet_server_port()", Integer.class);

    private static EmbeddedCluster cluster;
    private static ReadsplitDataSource ds;
    private static DSLContext dsl;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).password("Jooq-It-pw1").start();
        Placement.exec(cluster.primary(), "CREATE TABLE task (id bigserial PRIMARY KEY, title text, written_on int DEFAULT inet_server_port())");
        Placement.exec(cluster.primary(), "CREATE TABLE done_task (id bigint PRIMARY KEY, title text, written_on int DEFAULT inet_server_port())");
        ds = new ReadsplitDataSource(Placement.config(cluster, "jooq").build());
        Placement.awaitAllUp(ds);
        Placement.awaitReplayed(cluster);
        dsl = DSL.using(ds, SQLDialect.POSTGRES);
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
    void aSelectRunsOnTheStandby() {
        Record2<Integer, Boolean> where = dsl.select(SERVER_PORT, field("pg_is_in_recovery()", Boolean.class)).fetchOne();
        assertThat(where.value1()).isEqualTo(cluster.standby(0).port());
        assertThat(where.value2()).isTrue();
    }

    @Test
    void anInsertReturningRunsOnThePrimary() {
        Record1<Integer> returned = dsl.insertInto(TASK, TITLE).values("write the docs").returningResult(WRITTEN_ON).fetchOne();
        assertThat(returned.value1()).isEqualTo(cluster.primary().port());
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM task WHERE title = 'write the docs'")).isEqualTo(1);
    }

    @Test
    void aDataModifyingCteRunsOnThePrimary() {
        dsl.insertInto(TASK, TITLE).values("finished").values("also finished").execute();
        CommonTableExpression<Record2<Long, String>> moved = name("moved").fields("id", "title")
                .as(DSL.deleteFrom(TASK).where(TITLE.like("%finished")).returningResult(ID, TITLE));
        int inserted = dsl.with(moved)
                .insertInto(DONE, ID, TITLE)
                .select(DSL.select(moved.field("id", Long.class), moved.field("title", String.class)).from(moved))
                .execute();
        assertThat(inserted).isEqualTo(2);
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM done_task WHERE written_on = "
                + cluster.primary().port())).isEqualTo(2);
        assertThat(queryLong(cluster.primary(), "SELECT count(*) FROM task WHERE title LIKE '%finished'")).isZero();

        // a CTE that deletes inside a SELECT: the classifier must send it to the primary, not the standby
        dsl.insertInto(TASK, TITLE).values("gone soon").execute();
        CommonTableExpression<Record1<Long>> gone = name("gone").fields("id")
                .as(DSL.deleteFrom(TASK).where(TITLE.eq("gone soon")).returningResult(ID));
        Record2<Integer, Integer> result = dsl.with(gone).select(DSL.count(), SERVER_PORT).from(gone).fetchOne();
        assertThat(result.value1()).isEqualTo(1);
        assertThat(result.value2()).isEqualTo(cluster.primary().port());
    }
}

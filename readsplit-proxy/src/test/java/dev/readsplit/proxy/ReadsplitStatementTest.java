package dev.readsplit.proxy;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ReadsplitStatementTest {

    @Test
    void setResetAndShowAreRecognisedInTheirSqlSpellings() {
        assertThat(ReadsplitStatement.parse("SET readsplit.token = '0000000000000001/0/16B3748'"))
                .isEqualTo(new ReadsplitStatement(ReadsplitStatement.Kind.SET, "token", "0000000000000001/0/16B3748"));
        assertThat(ReadsplitStatement.parse("set session READSPLIT.Consistency to strong;"))
                .isEqualTo(new ReadsplitStatement(ReadsplitStatement.Kind.SET, "consistency", "strong"));
        assertThat(ReadsplitStatement.parse("SET readsplit.x = 'it''s'").value()).isEqualTo("it's");
        ReadsplitStatement show = ReadsplitStatement.parse("  SHOW readsplit.token ;");
        assertThat(show.kind()).isEqualTo(ReadsplitStatement.Kind.SHOW);
        assertThat(show.column()).isEqualTo("readsplit.token");
        assertThat(show.tag()).isEqualTo("SHOW");
        assertThat(ReadsplitStatement.parse("RESET readsplit.consistency").column()).isNull();
    }

    @Test
    void anythingElseGoesToTheServer() {
        assertThat(ReadsplitStatement.parse("SELECT 'readsplit.token'")).isNull();
        assertThat(ReadsplitStatement.parse("SET readsplit.token = 'a'; DELETE FROM t")).isNull();
        assertThat(ReadsplitStatement.parse("SET search_path = readsplit.x")).isNull();
        assertThat(ReadsplitStatement.parse("SHOW readsplit.token; SELECT 1")).isNull();
        assertThat(ReadsplitStatement.parse(null)).isNull();
    }
}

package dev.readsplit.proxy;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.readsplit.proxy.LeadingBeginTest.bind;
import static dev.readsplit.proxy.LeadingBeginTest.describe;
import static dev.readsplit.proxy.LeadingBeginTest.execute;
import static dev.readsplit.proxy.LeadingBeginTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

/** Which extended-protocol pipelines need nothing prepared on their server connection (pipelining's rule). */
class UnnamedPipelineTest {

    @Test
    void theOneOffQueriesOfPgbenchLibpqAndPgjdbcNeedNothingPrepared() {
        // pgbench -M extended, libpq's PQexecParams, pgjdbc's Statement (the Sync is not in the batch)
        assertThat(ClientSession.unnamedAndWhole(List.of(parse("", "SELECT 1"), bind("", ""), describe('P', ""),
                execute("")))).isTrue();
        // a statement described before it is bound, and a Parse alone (a client preparing the unnamed statement)
        assertThat(ClientSession.unnamedAndWhole(List.of(parse("", "SELECT $1"), describe('S', ""), bind("", ""),
                execute("")))).isTrue();
        assertThat(ClientSession.unnamedAndWhole(List.of(parse("", "SELECT 1")))).isTrue();
    }

    @Test
    void anythingNamedOrParsedEarlierTakesAConnectionOfItsOwn() {
        // a Bind of the unnamed statement parsed in an earlier round trip
        assertThat(ClientSession.unnamedAndWhole(List.of(bind("", ""), execute("")))).isFalse();
        // named statements (pgbench -M prepared, pgjdbc after prepareThreshold) and named portals
        assertThat(ClientSession.unnamedAndWhole(List.of(parse("S_1", "SELECT 1"), bind("", "S_1"), execute(""))))
                .isFalse();
        assertThat(ClientSession.unnamedAndWhole(List.of(parse("", "SELECT 1"), bind("", "S_1"), execute(""))))
                .isFalse();
        assertThat(ClientSession.unnamedAndWhole(List.of(parse("", "SELECT 1"), bind("p", ""), execute("p"))))
                .isFalse();
        assertThat(ClientSession.unnamedAndWhole(List.of(parse("", "SELECT 1"), bind("", ""), describe('S', "x"),
                execute("")))).isFalse();
        // two statements in one pipeline, a Close, nothing at all
        assertThat(ClientSession.unnamedAndWhole(List.of(parse("", "SELECT 1"), bind("", ""), execute(""),
                parse("", "SELECT 2"), bind("", ""), execute("")))).isFalse();
        assertThat(ClientSession.unnamedAndWhole(List.of(parse("", "SELECT 1"),
                Msg.builder('C').byte1('S').cstring("x").build()))).isFalse();
        assertThat(ClientSession.unnamedAndWhole(List.of())).isFalse();
    }
}

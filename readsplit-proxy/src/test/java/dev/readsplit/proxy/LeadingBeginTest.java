package dev.readsplit.proxy;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Finding the execution of a BEGIN that leads a pipeline, in the shapes real clients send, and nothing else. */
class LeadingBeginTest {

    static Msg parse(String name, String sql) {
        return Msg.builder('P').cstring(name).cstring(sql).int16(0).build();
    }

    static Msg bind(String portal, String stmt) {
        return Msg.builder('B').cstring(portal).cstring(stmt).int16(0).int16(0).int16(0).build();
    }

    static Msg describe(char kind, String name) {
        return Msg.builder('D').byte1(kind).cstring(name).build();
    }

    static Msg execute(String portal) {
        return Msg.builder('E').cstring(portal).int32(0).build();
    }

    private final Map<String, byte[]> statements = new HashMap<>();

    @Test
    void pgjdbcsBeginAheadOfTheFirstStatement() {
        List<Msg> p = List.of(parse("", "BEGIN"), bind("", ""), execute(""),
                parse("", "SELECT 1"), bind("", ""), describe('P', ""), execute(""));
        assertThat(LeadingBegin.find(p, statements)).isEqualTo(new LeadingBegin.Found("BEGIN", 3));
    }

    @Test
    void pgbenchsExtendedAndPreparedModes() {
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN;"), bind("", ""), describe('P', ""), execute("")),
                statements)).isEqualTo(new LeadingBegin.Found("BEGIN;", 4));
        statements.put("P0_1", parse("P0_1", "START TRANSACTION").body());
        assertThat(LeadingBegin.find(List.of(bind("", "P0_1"), describe('S', "P0_1"), execute("")), statements))
                .isEqualTo(new LeadingBegin.Found("START TRANSACTION", 3));
    }

    @Test
    void anythingElseIsNotALeadingExecution() {
        // a statement only prepared, a Bind of a statement the session does not know, another statement's Describe
        assertThat(LeadingBegin.find(List.of(parse("b", "BEGIN")), statements)).isNull();
        assertThat(LeadingBegin.find(List.of(bind("", "unknown"), execute("")), statements)).isNull();
        assertThat(LeadingBegin.find(List.of(parse("a", "BEGIN"), bind("", "a"), describe('S', "other"), execute("")),
                statements)).isNull();
        // a Parse and a Bind of different statements; a named portal; an Execute of another portal
        assertThat(LeadingBegin.find(List.of(parse("a", "BEGIN"), bind("", "b"), execute("")), statements)).isNull();
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN"), bind("p", ""), execute("p")), statements)).isNull();
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN"), bind("", ""), execute("x")), statements)).isNull();
        // a Close before the Execute, so no execution at all
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN"), bind("", ""),
                Msg.builder('C').byte1('P').cstring("").build()), statements)).isNull();
    }

    @Test
    void parametersOrDeclaredTypesLeaveItToTheServer() {
        Msg typed = Msg.builder('P').cstring("").cstring("BEGIN").int16(1).int32(23).build();
        assertThat(LeadingBegin.find(List.of(typed, bind("", ""), execute("")), statements)).isNull();
        Msg withParameter = Msg.builder('B').cstring("").cstring("").int16(0).int16(1).int32(1).byte1('1')
                .int16(0).build();
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN"), withParameter, execute("")), statements)).isNull();
        Msg withFormats = Msg.builder('B').cstring("").cstring("").int16(1).int16(1).int16(0).int16(1).int16(1)
                .build();
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN"), withFormats, execute("")), statements))
                .isEqualTo(new LeadingBegin.Found("BEGIN", 3));
    }

    @Test
    void malformedMessagesAreLeftToTheServer() {
        Msg emptyBind = Msg.builder('B').build();
        Msg emptyDescribe = Msg.builder('D').build();
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN"), emptyBind, execute("")), statements)).isNull();
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN"), bind("", ""), emptyDescribe, execute("")), statements))
                .isNull();
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN"), bind("", ""), execute(""), emptyDescribe), statements))
                .isNull();
        Msg truncatedParse = Msg.builder('P').cstring("").cstring("BEGIN").build(); // no parameter-type count
        assertThat(LeadingBegin.find(List.of(truncatedParse, bind("", ""), execute("")), statements)).isNull();
        Msg truncatedBind = Msg.builder('B').cstring("").cstring("").int16(3).build(); // three formats announced
        assertThat(LeadingBegin.find(List.of(parse("", "BEGIN"), truncatedBind, execute("")), statements)).isNull();
    }

    @Test
    void itsPortalUsedAgainBeforeANewBindKeepsItOnTheServer() {
        List<Msg> again = List.of(parse("", "BEGIN"), bind("", ""), execute(""), execute(""));
        assertThat(LeadingBegin.find(again, statements)).isNull();
        List<Msg> described = List.of(parse("", "BEGIN"), bind("", ""), execute(""), describe('P', ""));
        assertThat(LeadingBegin.find(described, statements)).isNull();
        List<Msg> rebound = List.of(parse("", "BEGIN"), bind("", ""), execute(""), parse("", "SELECT 1"),
                bind("", ""), execute(""));
        assertThat(LeadingBegin.find(rebound, statements)).isNotNull();
    }

    @Test
    void answeredAsPostgresqlAnswersThem() {
        List<Msg> written = new ArrayList<>();
        Exchange.ClientOutput out = new RecordingOutput(written);
        LeadingBegin.answer(List.of(parse("", "BEGIN"), bind("", ""), describe('S', ""), execute("")), "BEGIN", out);
        assertThat(written).extracting(m -> (char) m.type()).containsExactly('1', '2', 't', 'n', 'C');
        assertThat(written.get(2).int16(0)).isZero();
        assertThat(written.get(4).cstring(0)).isEqualTo("BEGIN");
        assertThat(LeadingBegin.tag("  start transaction isolation level repeatable read")).isEqualTo("START TRANSACTION");
        assertThat(LeadingBegin.tag("BEGIN WORK")).isEqualTo("BEGIN");
    }

    /** A client output that keeps what was written. */
    private static final class RecordingOutput implements Exchange.ClientOutput {
        private final List<Msg> written;

        RecordingOutput(List<Msg> written) {
            this.written = written;
        }

        @Override
        public void write(Msg m) {
            written.add(m);
        }

        @Override
        public void flush() {
        }

        @Override
        public boolean writable() {
            return true;
        }

        @Override
        public void whenWritable(Runnable r) {
            r.run();
        }

        @Override
        public void copyIn(Exchange x) {
            throw new UnsupportedOperationException("no COPY here");
        }
    }
}

package dev.readsplit.proxy;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Reading a DataRow's first column, as the proxy's own queries (positions, settings) do. */
class MsgTest {

    @Test
    void theFirstColumnAsTextIsNullForSqlNull() {
        assertThat(Msg.dataRow("on").firstColumn()).isEqualTo("on");
        assertThat(Msg.dataRow("").firstColumn()).isEmpty();
        assertThat(Msg.dataRow("Grüße").firstColumn()).isEqualTo("Grüße");
        assertThat(Msg.dataRow(null).firstColumn()).isNull();
    }

    @Test
    void theFirstColumnAsALongIsMinusOneForSqlNull() {
        assertThat(Msg.dataRow("0").firstColumnLong()).isZero();
        assertThat(Msg.dataRow("50331944").firstColumnLong()).isEqualTo(50_331_944L);
        assertThat(Msg.dataRow(String.valueOf(Long.MAX_VALUE)).firstColumnLong()).isEqualTo(Long.MAX_VALUE);
        assertThat(Msg.dataRow("-42").firstColumnLong()).isEqualTo(-42L);
        assertThat(Msg.dataRow(null).firstColumnLong()).isEqualTo(-1L);
    }

    @Test
    void onlyTheFirstOfSeveralColumnsIsRead() {
        Msg row = Msg.builder('D').int16(2).int32(3).bytes("123".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .int32(2).bytes("45".getBytes(java.nio.charset.StandardCharsets.UTF_8)).build();
        assertThat(row.firstColumn()).isEqualTo("123");
        assertThat(row.firstColumnLong()).isEqualTo(123L);
    }

    @Test
    void aParsesQueryAndABindsStatementFollowTheirFirstName() {
        Msg parse = Msg.builder('P').cstring("S_1").cstring("SELECT $1").int16(1).int32(23).build();
        assertThat(parse.parseQuery()).isEqualTo("SELECT $1");
        Msg bind = Msg.builder('B').cstring("").cstring("S_1").int16(0).int16(0).int16(0).build();
        assertThat(bind.bindStatement()).isEqualTo("S_1");
    }
}

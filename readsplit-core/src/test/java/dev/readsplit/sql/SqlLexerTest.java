package dev.readsplit.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link SqlLexer#next}'s fast paths: the end of the text and a {@code $} (positional parameter, dollar quote
 * or operator) are answered without the general path; the tokens must be exactly those of the general path.
 */
class SqlLexerTest {

    private static final String[] NAMES = {"EOF", "WORD", "QIDENT", "STRING", "NUMBER", "PARAM", "LPAREN", "RPAREN",
        "LBRACKET", "RBRACKET", "COMMA", "SEMI", "DOT", "DCOLON", "OP", "ERROR"};

    /** Tokens as {@code TYPE:start-end}, up to and including EOF or ERROR. */
    private static String tokens(String s) {
        List<String> out = new ArrayList<>();
        int pos = 0;
        while (true) {
            long t = SqlLexer.next(s, pos);
            int type = SqlLexer.type(t);
            out.add(NAMES[type] + ":" + SqlLexer.start(t) + "-" + SqlLexer.end(t));
            if (type == SqlLexer.EOF || type == SqlLexer.ERROR) {
                return String.join(" ", out);
            }
            pos = SqlLexer.end(t);
        }
    }

    @ParameterizedTest(name = "<{0}>")
    @CsvSource(delimiter = '|', value = {
        "$1                 | PARAM:0-2 EOF:2-2",
        "a = $1             | WORD:0-1 OP:2-3 PARAM:4-6 EOF:6-6",
        "a=$12,$3)          | WORD:0-1 OP:1-2 PARAM:2-5 COMMA:5-6 PARAM:6-8 RPAREN:8-9 EOF:9-9",
        "$1abc              | ERROR:0-2",
        "$1$$ x             | ERROR:0-2",
        "$$ x $$ y          | STRING:0-7 WORD:8-9 EOF:9-9",
        "a $tag$ $1 $tag$   | WORD:0-1 STRING:2-16 EOF:16-16",
        "$tag$ unterminated | ERROR:18-18",
        "$x                 | OP:0-1 WORD:1-2 EOF:2-2",
        "$ 1                | OP:0-1 NUMBER:2-3 EOF:3-3",
        "a$1                | WORD:0-3 EOF:3-3",
        "x $                | WORD:0-1 OP:2-3 EOF:3-3",
    })
    void dollarTokens(String sql, String expected) {
        assertThat(tokens(sql)).isEqualTo(expected);
    }

    @Test
    void endOfText() {
        assertThat(tokens("")).isEqualTo("EOF:0-0");
        assertThat(tokens("a ")).isEqualTo("WORD:0-1 EOF:2-2");
        assertThat(tokens("a -- c")).isEqualTo("WORD:0-1 EOF:6-6");
        assertThat(tokens("a /* c")).isEqualTo("WORD:0-1 ERROR:6-6");
        // at or past the end, always EOF at the text's length
        assertThat(SqlLexer.next("ab", 2)).isEqualTo(SqlLexer.pack(SqlLexer.EOF, 2, 2));
        assertThat(SqlLexer.next("ab", 7)).isEqualTo(SqlLexer.pack(SqlLexer.EOF, 2, 2));
    }
}

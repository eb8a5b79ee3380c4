package dev.readsplit.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table with aligned columns, for people reading a terminal. A column whose header and cells
 * are all empty is left out (for columns shown only sometimes).
 */
final class Table {

    private final String[] header;
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
        this.header = header;
    }

    Table row(String... cells) {
        if (cells.length != header.length) {
            throw new IllegalArgumentException("expected " + header.length + " cells, got " + cells.length);
        }
        rows.add(cells);
        return this;
    }

    void print(PrintWriter out) {
        List<Integer> shown = new ArrayList<>();
        for (int i = 0; i < header.length; i++) {
            boolean empty = header[i].isEmpty();
            for (String[] r : rows) {
                empty &= r[i] == null || r[i].isEmpty();
            }
            if (!empty) {
                shown.add(i);
            }
        }
        int[] width = new int[shown.size()];
        for (int k = 0; k < shown.size(); k++) {
            int i = shown.get(k);
            width[k] = header[i].length();
            for (String[] r : rows) {
                width[k] = Math.max(width[k], r[i] == null ? 0 : r[i].length());
            }
        }
        line(out, header, shown, width);
        StringBuilder rule = new StringBuilder();
        for (int k = 0; k < width.length; k++) {
            rule.append("-".repeat(width[k])).append(k < width.length - 1 ? "  " : "");
        }
        out.println(rule);
        for (String[] r : rows) {
            line(out, r, shown, width);
        }
    }

    private static void line(PrintWriter out, String[] cells, List<Integer> shown, int[] width) {
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < shown.size(); k++) {
            String c = cells[shown.get(k)] == null ? "" : cells[shown.get(k)];
            sb.append(c);
            if (k < shown.size() - 1) {
                sb.append(" ".repeat(width[k] - c.length() + 2));
            }
        }
        out.println(sb.toString().stripTrailing());
    }
}

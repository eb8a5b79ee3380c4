package dev.readsplit.proxy;

import dev.readsplit.config.Secret;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a client user list in PgBouncer's {@code userlist.txt} format: one {@code "name" "password"} per line, each
 * field in double quotes ({@code ""} for a quote inside), blank lines and lines starting with {@code ;} or {@code #}
 * ignored. A password is a plain password, a PostgreSQL {@code md5...} hash or a {@code SCRAM-SHA-256$...} verifier
 * (as in {@code pg_authid.rolpassword}). Errors name the file and line, never a password. See {@code docs/proxy.md}.
 */
public final class UserList {

    /** Bound on the file (a user list is small; anything bigger is a mistake). */
    static final long MAX_BYTES = 16L << 20;

    private UserList() {
    }

    /** The users of {@code file}, in file order. */
    public static Map<String, Secret> read(Path file) {
        String text;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new IllegalArgumentException("user list " + file + " is larger than " + MAX_BYTES + " bytes");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the user list " + file + ": " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    /** The users of {@code text}; {@code source} names it in errors. */
    public static Map<String, Secret> parse(String text, String source) {
        Map<String, Secret> users = new LinkedHashMap<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith(";") || line.startsWith("#")) {
                continue;
            }
            String where = source + " line " + (i + 1);
            int[] at = {0};
            String name = quoted(line, at, where, "user name");
            skipSpaces(line, at);
            String password = quoted(line, at, where, "password");
            skipSpaces(line, at);
            if (at[0] < line.length()) {
                throw new IllegalArgumentException(where + ": unexpected text after the password of user \"" + name
                        + "\" (expected \"name\" \"password\")");
            }
            if (name.isEmpty()) {
                throw new IllegalArgumentException(where + ": empty user name");
            }
            if (password.isEmpty()) {
                throw new IllegalArgumentException(where + ": user \"" + name + "\" has an empty password");
            }
            if (users.put(name, Secret.of(password)) != null) {
                throw new IllegalArgumentException(where + ": user \"" + name + "\" is listed twice");
            }
        }
        return users;
    }

    private static String quoted(String line, int[] at, String where, String what) {
        int i = at[0];
        if (i >= line.length() || line.charAt(i) != '"') {
            throw new IllegalArgumentException(where + ": the " + what + " must be in double quotes"
                    + " (expected \"name\" \"password\")");
        }
        StringBuilder sb = new StringBuilder();
        i++;
        while (true) {
            if (i >= line.length()) {
                throw new IllegalArgumentException(where + ": the " + what + " has no closing double quote");
            }
            char c = line.charAt(i);
            if (c == '"') {
                if (i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    sb.append('"');
                    i += 2;
                    continue;
                }
                at[0] = i + 1;
                return sb.toString();
            }
            sb.append(c);
            i++;
        }
    }

    private static void skipSpaces(String line, int[] at) {
        while (at[0] < line.length() && Character.isWhitespace(line.charAt(at[0]))) {
            at[0]++;
        }
    }
}

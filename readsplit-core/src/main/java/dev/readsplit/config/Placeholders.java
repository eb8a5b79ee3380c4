package dev.readsplit.config;

import java.util.Map;

/**
 * Resolves {@code ${VAR}} and {@code ${VAR:default}} in configuration-file values from the environment, so that
 * a file kept in version control can take its password from a secret store: {@code password: ${DB_PASSWORD}}.
 *
 * <ul>
 * <li>{@code ${VAR}}: the value of {@code VAR}; an error naming the key and {@code VAR} when it is not set.</li>
 * <li>{@code ${VAR:default}}: {@code default} when {@code VAR} is not set (a set but empty variable is used as
 * it is, as Spring does).</li>
 * <li><code>$${</code> is a literal <code>${</code>; a {@code $} not followed by <code>{</code> is itself.</li>
 * <li>Variable names are letters, digits and {@code _}, not starting with a digit. Placeholders do not
 * nest, and a resolved value is not scanned again.</li>
 * </ul>
 * Error messages name the key and the variable, never a value: the text around a placeholder in a password is
 * itself part of the password.
 */
final class Placeholders {

    private Placeholders() {
    }

    /**
     * @param key   the key the value belongs to (for messages), e.g. {@code readsplit.password}
     * @param value the raw value; returned unchanged when it holds no {@code $}
     * @throws ConfigException naming {@code key} and the variable
     */
    static String resolve(String key, String value, Map<String, String> env) {
        if (value == null || value.indexOf('$') < 0) {
            return value;
        }
        StringBuilder out = new StringBuilder(value.length());
        int i = 0;
        int n = value.length();
        while (i < n) {
            char c = value.charAt(i);
            if (c != '$') {
                out.append(c);
                i++;
                continue;
            }
            if (value.startsWith("$${", i)) {
                out.append("${");
                i += 3;
                continue;
            }
            if (!value.startsWith("${", i)) {
                out.append(c);
                i++;
                continue;
            }
            int close = value.indexOf('}', i + 2);
            if (close < 0) {
                throw new ConfigException(key, key + " has an unclosed placeholder '${' (expected ${VAR} or "
                        + "${VAR:default}; write $${ for a literal ${)");
            }
            String body = value.substring(i + 2, close);
            int colon = body.indexOf(':');
            String name = colon < 0 ? body : body.substring(0, colon);
            if (!isName(name)) {
                throw new ConfigException(key, key + " has an invalid placeholder: '" + (isSecret(key) ? "****"
                        : "${" + body + "}") + "' (expected ${VAR} or ${VAR:default}, VAR made of letters, digits"
                        + " and _)");
            }
            String v = env.get(name);
            if (v == null) {
                if (colon < 0) {
                    throw new ConfigException(key, key + ": environment variable " + name + " is not set (from ${"
                            + name + "}; set it, or give a default with ${" + name + ":default})");
                }
                v = body.substring(colon + 1);
            }
            out.append(v);
            i = close + 1;
        }
        return out.toString();
    }

    private static boolean isName(String name) {
        if (name.isEmpty() || Character.isDigit(name.charAt(0))) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isSecret(String key) {
        int dot = key.lastIndexOf('.');
        String last = dot < 0 ? key : key.substring(dot + 1);
        return last.equals("adminToken") || NodeConfig.isSecretKey(last);
    }
}

package dev.readsplit.admin;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.readsplit.config.ConfigException;
import dev.readsplit.config.NodeConfig;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The body of {@code POST /replicas}, read and checked before anything reaches the data source: a JSON object
 * (UTF-8, no duplicate member) with known members only, each of the right type, syntax and length. Every
 * refusal is a {@link BadRequest} whose message names the field; no message echoes a password, and values are
 * echoed only in a printable, escaped, shortened form.
 *
 * <table>
 *   <caption>Members</caption>
 *   <tr><td>{@code host}</td><td>required: a host name (letters, digits, {@code - _}, dot-separated labels of
 *       1..63, at most 253 in all), an IPv4 address, or an IPv6 address (brackets optional)</td></tr>
 *   <tr><td>{@code port}</td><td>1..65535 (default 5432)</td></tr>
 *   <tr><td>{@code name}, {@code zone}</td><td>1..{@value #MAX_NAME} of {@code A-Z a-z 0-9 . _ : @ [ ] -}</td></tr>
 *   <tr><td>{@code weight}</td><td>1..{@value #MAX_WEIGHT}</td></tr>
 *   <tr><td>{@code database}, {@code user}</td><td>1..63 characters (PostgreSQL's identifier limit), no control
 *       character</td></tr>
 *   <tr><td>{@code password}</td><td>at most 1024 characters, no control character</td></tr>
 * </table>
 */
final class ReplicaRequest {

    static final int MAX_NAME = 64;
    static final int MAX_WEIGHT = 10_000;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:@\\[\\]-]{1," + MAX_NAME + "}");
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");
    private static final String KNOWN = "host, port, name, zone, weight, database, user, password";

    private ReplicaRequest() {
    }

    /** A refused request: 400 with this message. */
    static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;

        BadRequest(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * Parses and checks {@code body}.
     *
     * @throws BadRequest naming the field or the JSON problem
     */
    static NodeConfig parse(ObjectMapper json, byte[] body) {
        JsonNode tree;
        try {
            tree = json.readTree(body);
        } catch (JsonParseException e) {
            throw new BadRequest(jsonProblem(e));
        } catch (JsonProcessingException e) {
            throw new BadRequest("malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadRequest("unreadable body: " + e.getMessage());
        }
        if (tree == null || !tree.isObject()) {
            throw new BadRequest("body must be a JSON object: {\"host\": ..., \"port\": ...}");
        }
        NodeConfig.Builder b = NodeConfig.builder();
        boolean host = false;
        for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode v = e.getValue();
            try {
                switch (key) {
                    case "host" -> {
                        b.host(host(text(key, v)));
                        host = true;
                    }
                    case "port" -> b.port(integer(key, v, 1, 65535));
                    case "name" -> b.name(name(key, text(key, v)));
                    case "zone" -> b.zone(name(key, text(key, v)));
                    case "weight" -> b.weight(integer(key, v, 1, MAX_WEIGHT));
                    case "database", "user" -> {
                        String s = plain(key, text(key, v), 63, false);
                        if (key.equals("database")) {
                            b.database(s);
                        } else {
                            b.user(s);
                        }
                    }
                    case "password" -> b.password(plain(key, text(key, v), 1024, true));
                    default -> throw new BadRequest("unknown field " + printable(key) + " (known: " + KNOWN + ")");
                }
            } catch (ConfigException c) {
                throw new BadRequest(key + ": " + c.getMessage());
            }
        }
        if (!host) {
            throw new BadRequest("host: required (known fields: " + KNOWN + ")");
        }
        try {
            return b.build();
        } catch (ConfigException c) {
            throw new BadRequest(c.getMessage());
        }
    }

    private static String jsonProblem(JsonParseException e) {
        String m = e.getOriginalMessage();
        if (m != null && m.startsWith("Duplicate field")) {
            // Jackson: "Duplicate field 'host'"
            return "duplicate field " + m.substring("Duplicate field ".length()) + ": each field at most once";
        }
        if (m != null && m.contains("UTF-8")) {
            return "body is not valid UTF-8: " + m;
        }
        var at = e.getLocation();
        return "malformed JSON" + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr())
                + ": " + m;
    }

    private static String text(String key, JsonNode v) {
        if (!v.isTextual()) {
            throw new BadRequest(key + " must be a string");
        }
        return v.textValue();
    }

    private static int integer(String key, JsonNode v, int min, int max) {
        long n;
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            n = v.longValue();
        } else if (v.isTextual() && v.textValue().trim().matches("\\d{1,10}")) {
            n = Long.parseLong(v.textValue().trim());
        } else {
            throw new BadRequest(key + " must be an integer in " + min + ".." + max);
        }
        if (n < min || n > max) {
            throw new BadRequest(key + " must be in " + min + ".." + max + ": " + n);
        }
        return (int) n;
    }

    /** A host name, an IPv4 address or an IPv6 address; never looked up here (no DNS on the request thread). */
    static String host(String h) {
        String s = h;
        if (s.startsWith("[") && s.endsWith("]") && s.length() > 2) {
            s = s.substring(1, s.length() - 1);
        }
        if (s.indexOf(':') >= 0) {
            if (IPV6_CHARS.matcher(s).matches() && isIpv6(s)) {
                return s;
            }
            throw new BadRequest("host must be a host name or an IPv4/IPv6 address: " + printable(h)
                    + " is not a valid IPv6 address");
        }
        if (s.isEmpty() || s.length() > 253) {
            throw new BadRequest("host must be 1..253 characters: " + printable(h));
        }
        if (s.matches("[0-9.]+")) {
            if (IPV4.matcher(s).matches()) {
                return s;
            }
            throw new BadRequest("host must be a host name or an IPv4/IPv6 address: " + printable(h)
                    + " is not a valid IPv4 address");
        }
        String name = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        for (String label : name.split("\\.", -1)) {
            if (!LABEL.matcher(label).matches()) {
                throw new BadRequest("host must be a host name (labels of letters, digits, '-' and '_', 1..63"
                        + " characters, separated by dots) or an IPv4/IPv6 address: " + printable(h));
            }
        }
        return s;
    }

    private static boolean isIpv6(String s) {
        // a literal: InetAddress parses it without a lookup because it contains ':'
        try {
            return java.net.InetAddress.getByName(s) instanceof java.net.Inet6Address
                    || s.matches(".*:.*\\d+\\.\\d+\\.\\d+\\.\\d+"); // IPv4-mapped forms parse as Inet4Address
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static String name(String key, String s) {
        if (!NAME.matcher(s).matches()) {
            throw new BadRequest(key + " must be 1.." + MAX_NAME + " of A-Z a-z 0-9 . _ : @ [ ] -: " + printable(s));
        }
        return s;
    }

    private static String plain(String key, String s, int max, boolean secret) {
        if (s.isEmpty() && !secret) {
            throw new BadRequest(key + " must not be empty");
        }
        if (s.length() > max) {
            throw new BadRequest(key + " must be at most " + max + " characters (" + s.length() + " given)");
        }
        for (int i = 0; i < s.length(); i++) {
            if (Character.isISOControl(s.charAt(i))) {
                throw new BadRequest(key + " must not contain a control character (U+"
                        + String.format("%04X", (int) s.charAt(i)) + " at position " + i + ")");
            }
        }
        return s;
    }

    /** {@code s} quoted, non-printable characters as {@code \\uXXXX}, cut at 80 characters. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder("'");
        for (int i = 0; i < s.length() && sb.length() < 80; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && !Character.isLetterOrDigit(c))) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append(s.length() > 80 ? "...'" : "'").toString();
    }
}

package dev.readsplit.proxy;

import dev.readsplit.config.ConfigException;
import dev.readsplit.config.NodeConfig;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;

import javax.net.ssl.SSLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the proxy's connections to one node use TLS, read from the same pgjdbc properties the JDBC path uses for that
 * node ({@code sslmode}, {@code ssl}, {@code sslrootcert}, {@code sslfactory}), with pgjdbc's meaning: see
 * docs/proxy.md, "Backends". {@code context} is null when the mode never encrypts.
 */
record BackendTls(Mode mode, SslContext context) {

    /** pgjdbc's {@code sslmode} values. */
    enum Mode {
        /** No TLS. */
        DISABLE,
        /** pgjdbc: plain first, TLS if refused; the proxy asks for TLS first, as {@link #PREFER}. */
        ALLOW,
        /** TLS if the server offers it, else plain (pgjdbc's and libpq's default); the certificate is not checked. */
        PREFER,
        /** TLS or no connection; the certificate is not checked. */
        REQUIRE,
        /** TLS, and the server's certificate chain checked against the root certificate. */
        VERIFY_CA,
        /** As {@link #VERIFY_CA}, and the certificate names the node's host. */
        VERIFY_FULL;

        /** Whether the proxy asks the server for TLS. */
        boolean asks() {
            return this != DISABLE;
        }

        /** Whether a server that refuses TLS is refused. */
        boolean requires() {
            return this == REQUIRE || this == VERIFY_CA || this == VERIFY_FULL;
        }

        /** The value as pgjdbc spells it ({@code verify-full}). */
        String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Mode parse(String value) {
            for (Mode m : values()) {
                if (m.label().equalsIgnoreCase(value.trim())) {
                    return m;
                }
            }
            throw new IllegalArgumentException("sslmode '" + value
                    + "' is not one of disable, allow, prefer, require, verify-ca, verify-full");
        }
    }

    /** pgjdbc's factory that encrypts without checking the certificate (what older configurations set). */
    static final String NON_VALIDATING_FACTORY = "org.postgresql.ssl.NonValidatingFactory";
    /** pgjdbc's default factory: it follows {@code sslmode}, as the proxy does. */
    static final String LIBPQ_FACTORY = "org.postgresql.ssl.LibPQFactory";
    /** Properties for what the proxy cannot do with its backends: client certificates, custom SSL code. */
    private static final List<String> UNSUPPORTED = List.of("sslcert", "sslkey", "sslpassword",
            "sslpasswordcallback", "sslhostnameverifier", "sslfactoryarg", "sslnegotiation");

    /**
     * The TLS settings of {@code node}'s pgjdbc properties. Throws {@link ConfigException} naming the node and the
     * property for a value the proxy cannot follow, and a root certificate that cannot be read.
     */
    static BackendTls of(NodeConfig node) {
        Map<String, String> p = node.jdbcProperties();
        String where = "node " + node.name() + ": ";
        for (String key : UNSUPPORTED) {
            if (p.containsKey(key)) {
                throw new ConfigException(key, where + "the proxy does not support the pgjdbc property " + key
                        + " for its connections to the node (docs/proxy.md, backends)");
            }
        }
        Mode mode;
        try {
            String sslmode = p.get("sslmode");
            String ssl = p.get("ssl");
            // as pgjdbc: ssl=true (or present without a value) means verify-full; anything else prefer
            mode = sslmode != null ? Mode.parse(sslmode)
                    : ssl != null && (ssl.isEmpty() || Boolean.parseBoolean(ssl)) ? Mode.VERIFY_FULL
                    : Mode.PREFER;
        } catch (IllegalArgumentException e) {
            throw new ConfigException("sslmode", where + e.getMessage());
        }
        String factory = p.get("sslfactory");
        boolean checks = mode == Mode.VERIFY_CA || mode == Mode.VERIFY_FULL;
        if (factory != null && !factory.equals(LIBPQ_FACTORY)) {
            if (!factory.equals(NON_VALIDATING_FACTORY) || checks) {
                throw new ConfigException("sslfactory", where + "the proxy does not support sslfactory=" + factory
                        + (checks ? " with sslmode=" + mode.label() : "")
                        + " (it follows sslmode itself; " + NON_VALIDATING_FACTORY + " only with prefer or require)");
            }
        }
        if (!mode.asks()) {
            return new BackendTls(mode, null);
        }
        try {
            SslContextBuilder b = SslContextBuilder.forClient();
            if (checks) {
                Path root = rootCertificate(p.get("sslrootcert"));
                if (!Files.isReadable(root)) {
                    throw new ConfigException("sslrootcert", where + "sslmode=" + mode.label()
                            + " needs a root certificate: cannot read " + root + " (set sslrootcert)");
                }
                b.trustManager(root.toFile());
                b.endpointIdentificationAlgorithm(mode == Mode.VERIFY_FULL ? "HTTPS" : null);
            } else {
                b.trustManager(InsecureTrustManagerFactory.INSTANCE).endpointIdentificationAlgorithm(null);
            }
            return new BackendTls(mode, b.build());
        } catch (ConfigException e) {
            throw e;
        } catch (SSLException | RuntimeException e) {
            throw new ConfigException("sslrootcert", where + "cannot use its TLS settings: " + e.getMessage());
        }
    }

    /** pgjdbc's {@code sslrootcert}: the file given, else {@code ~/.postgresql/root.crt}. */
    private static Path rootCertificate(String configured) {
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        return Path.of(System.getProperty("user.home"), ".postgresql", "root.crt");
    }
}

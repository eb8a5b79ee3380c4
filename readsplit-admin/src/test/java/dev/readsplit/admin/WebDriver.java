package dev.readsplit.admin;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough of the W3C WebDriver protocol, spoken to Debian's {@code chromedriver} over java.net.http, to
 * drive a headless Chromium: new session, navigate, run a script, take a screenshot, quit. No Selenium: the
 * five commands a page test needs are a few HTTP calls, and the test dependency tree stays empty.
 *
 * <p>Scripts are expected to return a string (e.g. {@code JSON.stringify(...)}); {@link #script} returns it.
 */
final class WebDriver implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private static final Pattern SESSION_ID = Pattern.compile("\"sessionId\"\\s*:\\s*\"([^\"]+)\"");

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Process driver;
    private final URI base;
    private final Path profile;
    private String session;

    private WebDriver(Process driver, URI base, Path profile) {
        this.driver = driver;
        this.base = base;
        this.profile = profile;
    }

    /**
     * Starts chromedriver and a headless Chromium session.
     *
     * @throws AssertionError if Chromium or chromedriver is not installed (the test fails, it does not skip)
     */
    static WebDriver start(Path logDir) throws IOException, InterruptedException {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            throw new AssertionError("the dashboard test needs a real headless Chromium: " + CHROMIUM + " and "
                    + CHROMEDRIVER + " must exist (Debian: apt-get install -y chromium chromium-driver;"
                    + " .ci/run installs them)");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Files.createDirectories(logDir);
        Process p = new ProcessBuilder(CHROMEDRIVER.toString(), "--port=" + port)
                .redirectErrorStream(true)
                .redirectOutput(logDir.resolve("chromedriver.log").toFile())
                .start();
        WebDriver wd = new WebDriver(p, URI.create("http://127.0.0.1:" + port + "/"),
                Files.createTempDirectory("readsplit-chromium-"));
        try {
            wd.awaitReady();
            wd.newSession();
        } catch (IOException | RuntimeException | Error e) {
            wd.close();
            throw e;
        }
        return wd;
    }

    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (!driver.isAlive()) {
                throw new AssertionError("chromedriver exited with " + driver.exitValue());
            }
            try {
                if (call("GET", "status", null).contains("\"ready\":true")) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("chromedriver did not become ready within 20 s");
    }

    private void newSession() throws IOException, InterruptedException {
        List<String> args = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-dev-shm-usage", "--window-size=1400,900", "--user-data-dir=" + profile);
        StringBuilder a = new StringBuilder();
        for (String arg : args) {
            a.append(a.length() == 0 ? "" : ",").append(Json.quote(arg));
        }
        String body = "{\"capabilities\":{\"alwaysMatch\":{\"browserName\":\"chrome\",\"goog:chromeOptions\":{"
                + "\"binary\":" + Json.quote(CHROMIUM.toString()) + ",\"args\":[" + a + "]}}}}";
        String response = call("POST", "session", body);
        Matcher m = SESSION_ID.matcher(response);
        if (!m.find()) {
            throw new AssertionError("chromedriver refused to start Chromium: " + response);
        }
        session = m.group(1);
    }

    void navigate(String url) throws IOException, InterruptedException {
        check(call("POST", "session/" + session + "/url", "{\"url\":" + Json.quote(url) + "}"));
    }

    /** Runs {@code script} (a function body) in the page and returns the string it returns. */
    String script(String script) throws IOException, InterruptedException {
        return stringValue(check(call("POST", "session/" + session + "/execute/sync",
                "{\"script\":" + Json.quote(script) + ",\"args\":[]}")));
    }

    /** A PNG screenshot of the viewport. */
    byte[] screenshot() throws IOException, InterruptedException {
        return Base64.getDecoder().decode(stringValue(check(call("GET", "session/" + session + "/screenshot", null))));
    }

    private static String check(String response) {
        if (response.contains("\"error\":")) {
            throw new AssertionError("WebDriver error: " + response);
        }
        return response;
    }

    private String call(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
        if (body != null) {
            b.header("Content-Type", "application/json; charset=utf-8");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The string in {@code {"value": "..."}}, JSON escapes decoded. */
    static String stringValue(String response) {
        int i = response.indexOf("\"value\"");
        if (i < 0) {
            throw new AssertionError("no value in " + response);
        }
        i = response.indexOf(':', i) + 1;
        while (Character.isWhitespace(response.charAt(i))) {
            i++;
        }
        if (response.charAt(i) != '"') {
            throw new AssertionError("value is not a string: " + response);
        }
        StringBuilder sb = new StringBuilder();
        for (i++; response.charAt(i) != '"'; i++) {
            char c = response.charAt(i);
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            char e = response.charAt(++i);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'u' -> {
                    sb.append((char) Integer.parseInt(response.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> sb.append(e);
            }
        }
        return sb.toString();
    }

    /** Ends the session (Chromium quits), stops chromedriver, deletes the profile. */
    @Override
    public void close() {
        try {
            if (session != null) {
                call("DELETE", "session/" + session, null);
            }
        } catch (IOException | RuntimeException e) {
            // chromedriver already gone
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            driver.descendants().forEach(ProcessHandle::destroy);
            driver.destroy();
            try {
                driver.waitFor(java.util.concurrent.TimeUnit.SECONDS.toMillis(10), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (driver.isAlive()) {
                driver.destroyForcibly();
            }
            deleteQuietly(profile);
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory
        }
    }
}

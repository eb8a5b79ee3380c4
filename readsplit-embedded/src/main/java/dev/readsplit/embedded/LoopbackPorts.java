package dev.readsplit.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;
import java.util.function.IntSupplier;
import java.util.random.RandomGenerator;

/**
 * Hands out the loopback TCP ports of one cluster's servers: never the same port twice, each free when handed out,
 * and on Linux outside the kernel's range for outgoing connections.
 *
 * <p>A cluster picks all its ports before its servers bind them (etcd, then each Patroni and PostgreSQL), so two
 * independent "bind port 0 and close" picks can return the same port, and a client's outgoing connection can take a
 * port from the kernel's ephemeral range in the seconds before its server binds it. Both make a server fail with
 * "Address already in use". Keeping the ports already handed out, and drawing from outside
 * {@code net.ipv4.ip_local_port_range} (from port 10000 up, so clear of the usual services), removes both.
 */
final class LoopbackPorts {

    /** Below this, ports belong to services a developer's machine may run (PostgreSQL 5432, etcd 2379, Patroni 8008). */
    static final int LOWEST = 10_000;
    private static final int HIGHEST = 65_535;
    private static final int MAX_DRAWS = 1_000;
    private static final Path EPHEMERAL_RANGE = Path.of("/proc/sys/net/ipv4/ip_local_port_range");

    private final IntSupplier candidates;
    private final IntPredicate free;
    private final Set<Integer> handedOut = new HashSet<>();

    LoopbackPorts(IntSupplier candidates, IntPredicate free) {
        this.candidates = candidates;
        this.free = free;
    }

    /**
     * Ports drawn at random outside this machine's ephemeral range, or from the kernel ("bind port 0") where that
     * range cannot be read or leaves nothing outside it.
     */
    static LoopbackPorts forThisMachine(RandomGenerator random) {
        int[] ephemeral = ephemeralRange(EPHEMERAL_RANGE);
        IntSupplier outside = ephemeral == null ? null : outside(ephemeral, random);
        return new LoopbackPorts(outside != null ? outside : LoopbackPorts::kernelAssigned, LoopbackPorts::bindable);
    }

    /** The next port: free now and not handed out by this instance before. */
    synchronized int next() {
        for (int draw = 0; draw < MAX_DRAWS; draw++) {
            int port = candidates.getAsInt();
            if (!handedOut.contains(port) && free.test(port)) {
                handedOut.add(port);
                return port;
            }
        }
        throw new IllegalStateException("no free loopback port after " + MAX_DRAWS + " draws ("
                + handedOut.size() + " already handed out to this cluster)");
    }

    /**
     * {@code [low, high]} of the kernel's range for outgoing connections, from the file's two numbers, or null when it
     * cannot be read (not Linux) or does not hold two ports in order.
     */
    static int[] ephemeralRange(Path file) {
        try {
            // not Files.readString: on JDK 17 it returns the first byte only of a /proc file (whose size reads as 0)
            List<String> lines = Files.readAllLines(file);
            if (lines.isEmpty()) {
                return null;
            }
            String[] parts = lines.get(0).trim().split("\\s+");
            if (parts.length != 2) {
                return null;
            }
            int low = Integer.parseInt(parts[0]);
            int high = Integer.parseInt(parts[1]);
            return low >= 1 && low <= high && high <= HIGHEST ? new int[] {low, high} : null;
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    /**
     * Uniform draws from {@code [LOWEST, 65535]} without {@code [low, high]}, or null when that leaves no port.
     */
    static IntSupplier outside(int[] ephemeral, RandomGenerator random) {
        int low = Math.max(ephemeral[0], LOWEST);
        int high = Math.max(ephemeral[1], LOWEST - 1);
        int below = low - LOWEST; // ports LOWEST .. low-1
        int above = HIGHEST - high; // ports high+1 .. 65535
        int count = below + above;
        if (count <= 0) {
            return null;
        }
        return () -> {
            int i = random.nextInt(count);
            return i < below ? LOWEST + i : high + 1 + (i - below);
        };
    }

    private static int kernelAssigned() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}

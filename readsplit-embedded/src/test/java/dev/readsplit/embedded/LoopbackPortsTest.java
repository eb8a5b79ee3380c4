package dev.readsplit.embedded;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LoopbackPortsTest {

    private static IntSupplier sequence(Integer... ports) {
        Iterator<Integer> it = List.of(ports).iterator();
        return it::next;
    }

    @Test
    void aPortDrawnTwiceIsHandedOutOnce() {
        // the CI failure: etcd's peer port and pg2's Patroni REST port were the same kernel pick
        LoopbackPorts ports = new LoopbackPorts(sequence(34559, 34559, 34560), port -> true);

        assertThat(ports.next()).isEqualTo(34559);
        assertThat(ports.next()).isEqualTo(34560);
    }

    @Test
    void aPortThatCannotBeBoundIsSkipped() {
        LoopbackPorts ports = new LoopbackPorts(sequence(20000, 20001), port -> port != 20000);

        assertThat(ports.next()).isEqualTo(20001);
    }

    @Test
    void givesUpWithAClearErrorWhenNoDrawIsUsable() {
        LoopbackPorts ports = new LoopbackPorts(() -> 20000, port -> true);
        assertThat(ports.next()).isEqualTo(20000);

        assertThatThrownBy(ports::next)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no free loopback port after 1000 draws")
                .hasMessageContaining("1 already handed out");
    }

    @Test
    void drawsStayOutsideTheEphemeralRangeAndAboveTheUsualServices() {
        IntSupplier draws = LoopbackPorts.outside(new int[] {32768, 60999}, new SplittableRandom(7));
        boolean below = false;
        boolean above = false;
        for (int i = 0; i < 20_000; i++) {
            int port = draws.getAsInt();
            assertThat(port).isBetween(LoopbackPorts.LOWEST, 65535);
            assertThat(port < 32768 || port > 60999).as("port %d outside 32768-60999", port).isTrue();
            below |= port < 32768;
            above |= port > 60999;
        }
        assertThat(below).isTrue();
        assertThat(above).isTrue();
    }

    @Test
    void anEphemeralRangeCoveringEverythingLeavesNoDraws() {
        assertThat(LoopbackPorts.outside(new int[] {1024, 65535}, new SplittableRandom(1))).isNull();
        // a range below the lowest port leaves the whole of LOWEST..65535
        IntSupplier draws = LoopbackPorts.outside(new int[] {2000, 5000}, new SplittableRandom(1));
        for (int i = 0; i < 1000; i++) {
            assertThat(draws.getAsInt()).isBetween(LoopbackPorts.LOWEST, 65535);
        }
    }

    @Test
    void readsTheKernelsRangeAndRejectsWhatIsNotOne(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("ip_local_port_range");
        Files.writeString(file, "32768\t60999\n");
        assertThat(LoopbackPorts.ephemeralRange(file)).containsExactly(32768, 60999);

        Files.writeString(file, "60999 32768\n");
        assertThat(LoopbackPorts.ephemeralRange(file)).isNull();
        Files.writeString(file, "abc\n");
        assertThat(LoopbackPorts.ephemeralRange(file)).isNull();
        assertThat(LoopbackPorts.ephemeralRange(dir.resolve("missing"))).isNull();
    }

    @Test
    void onLinuxTheKernelsOwnRangeIsReadAndAvoided() {
        Path real = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(real), "not Linux");
        int[] range = LoopbackPorts.ephemeralRange(real);
        assertThat(range).as("read from %s", real).isNotNull().hasSize(2);
        assertThat(range[0]).isLessThanOrEqualTo(range[1]);

        LoopbackPorts ports = LoopbackPorts.forThisMachine(new SplittableRandom(5));
        for (int i = 0; i < 50; i++) {
            int port = ports.next();
            if (range[0] > LoopbackPorts.LOWEST || range[1] < 65535) { // the range leaves ports outside it
                assertThat(port < range[0] || port > range[1]).as("port %d outside %d-%d", port, range[0], range[1])
                        .isTrue();
            }
        }
    }

    @Test
    void onThisMachineEveryPortHandedOutIsDistinctAndBindable() throws IOException {
        LoopbackPorts ports = LoopbackPorts.forThisMachine(new SplittableRandom(3));
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            int port = ports.next();
            assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                assertThat(s.getLocalPort()).isEqualTo(port);
            }
        }
    }
}

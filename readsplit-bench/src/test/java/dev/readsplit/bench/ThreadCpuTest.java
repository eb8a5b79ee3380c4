package dev.readsplit.bench;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ThreadCpuTest {

    @Test
    void groupsThreadsByTheirNameWithoutTheTrailingNumber() {
        assertThat(ThreadCpu.group("bench-readsplit-3")).isEqualTo("bench-readsplit");
        assertThat(ThreadCpu.group("GC Thread#1")).isEqualTo("GC Thread");
        assertThat(ThreadCpu.group("C2 CompilerThre")).isEqualTo("C2 CompilerThre");
        assertThat(ThreadCpu.group("42")).isEqualTo("42");
        // tid (comm) state ppid ... utime(14th field) stime(15th)
        assertThat(ThreadCpu.parse("77 (HikariPool-1 h) S 1 2 3 0 -1 0 0 0 0 0 120 30 0 0 20 0"))
                .isEqualTo(Map.entry("HikariPool-1 h", 150L));
        assertThat(ThreadCpu.parse("77 (cut")).isNull();
    }

    @Test
    void perOperationListsTheBiggestGroupsAndSumsTheRest() {
        Map<String, Long> g = new LinkedHashMap<>();
        g.put("bench-x", 300L);
        g.put("GC Thread", 100L);
        g.put("C1 CompilerThre", 10L);
        // 100 ticks per second: 300 ticks = 3 s over 1,000,000 ops = 3 µs each
        assertThat(ThreadCpu.perOperation(g, 1_000_000, 2)).isEqualTo("bench-x 3.00, GC Thread 1.00, other 0.10 us/op");
        assertThat(ThreadCpu.perOperation(g, 0, 2)).isEqualTo("unknown");
    }

    @Test
    void aBusyThreadShowsUpUnderItsGroup() throws Exception {
        assumeTrue(java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/self/task")), "Linux /proc");
        ThreadCpu before = ThreadCpu.read();
        Thread t = new Thread(() -> {
            long x = 0;
            long until = System.nanoTime() + 300_000_000L;
            while (System.nanoTime() < until) {
                x += Long.numberOfTrailingZeros(x + System.nanoTime());
            }
            if (x == 42) {
                System.out.print("");
            }
        }, "busy-spinner-7");
        t.start();
        Thread.sleep(200); // read while it runs: an ended thread's time leaves /proc/self/task
        Map<String, Long> since = ThreadCpu.read().since(before);
        t.join();
        assertThat(since).containsKey("busy-spinner");
        assertThat(since.get("busy-spinner")).isPositive();
    }
}

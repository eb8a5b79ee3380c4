package dev.readsplit.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CpuMeterTest {

    @Test
    void readsTheTimesAfterACommandNameWithSpacesAndParentheses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
        String stat = "4242 (post (gres) x) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 123 0 0";
        assertThat(CpuMeter.parse(stat)).containsExactly(17, 250 + 50 + 7 + 3, 7 + 3);
        assertThat(CpuMeter.parse("4242 (truncated")).isNull();
        assertThat(CpuMeter.parse("4242 (short) S 1 2 3")).isNull();
    }

    @Test
    void countsThisProcessesTreeAndNothingForAProcessThatIsNotThere() {
        assumeTrue(java.nio.file.Files.isReadable(java.nio.file.Path.of("/proc/self/stat")), "Linux /proc");
        long self = ProcessHandle.current().pid();
        long before = CpuMeter.read().ticks(List.of(self));
        long x = 0;
        long until = System.nanoTime() + 300_000_000L; // 300 ms of CPU: at least a tick in any accounting
        while (System.nanoTime() < until) {
            x += Long.numberOfTrailingZeros(x + System.nanoTime());
        }
        assertThat(x).isNotNegative();
        CpuMeter after = CpuMeter.read();
        assertThat(after.ticks(List.of(self))).isGreaterThan(before);
        assertThat(after.ticks(List.of(Long.MAX_VALUE))).isZero();
        assertThat(after.childrenTicks(self)).isNotNegative();
        assertThat(after.childrenTicks(Long.MAX_VALUE)).isEqualTo(-1);
    }
}

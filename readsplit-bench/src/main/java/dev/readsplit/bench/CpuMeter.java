package dev.readsplit.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One reading of the CPU time (user + system, in clock ticks) that every process has used so far, from Linux's
 * {@code /proc/PID/stat}: for a tree, the root and every live descendant, each with the time of its children
 * already ended and waited for ({@code cutime}, {@code cstime}). Two readings around a run give the CPU a tree
 * spent in it, backends that ended during the run included (their time has moved to their parent's child times).
 * One reading serves every tree asked of it ({@code /proc} is read once). Off Linux, or when {@code /proc} cannot be
 * read, every figure of it is {@code -1}.
 */
public final class CpuMeter {

    /** Linux's USER_HZ, the unit of the times in /proc/PID/stat on every architecture Java runs on. */
    public static final long TICKS_PER_SECOND = 100;

    /** pid to {ppid, utime + stime + cutime + cstime, cutime + cstime}; null when /proc could not be read. */
    private final Map<Long, long[]> procs;
    private final Map<Long, List<Long>> children = new HashMap<>();

    private CpuMeter(Map<Long, long[]> procs) {
        this.procs = procs;
        if (procs != null) {
            procs.forEach((pid, v) -> children.computeIfAbsent(v[0], k -> new ArrayList<>()).add(pid));
        }
    }

    /** Reads every process now. */
    static CpuMeter read() {
        return new CpuMeter(readAll());
    }

    /** Ticks used by the trees rooted at {@code roots} (a root that is not running counts 0), or -1. */
    long ticks(Collection<Long> roots) {
        if (procs == null) {
            return -1;
        }
        long sum = 0;
        Set<Long> seen = new HashSet<>();
        Deque<Long> todo = new ArrayDeque<>(roots);
        while (!todo.isEmpty()) {
            long pid = todo.pop();
            long[] v = procs.get(pid);
            if (v == null || !seen.add(pid)) {
                continue;
            }
            sum += v[1];
            todo.addAll(children.getOrDefault(pid, List.of()));
        }
        return sum;
    }

    /** Ticks used by {@code pid}'s ended and waited-for children (this JVM's: the pgbench runs), or -1. */
    long childrenTicks(long pid) {
        long[] v = procs == null ? null : procs.get(pid);
        return v == null ? -1 : v[2];
    }

    /** pid to {ppid, utime + stime + cutime + cstime, cutime + cstime}; null when /proc cannot be read. */
    private static Map<Long, long[]> readAll() {
        Map<Long, long[]> out = new HashMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path d : dirs) {
                long[] v = parse(d.resolve("stat"));
                if (v != null) {
                    out.put(Long.parseLong(d.getFileName().toString()), v);
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return out.isEmpty() ? null : out;
    }

    /** One /proc/PID/stat: {ppid, all four times, the children's two}; null when it is gone or unreadable. */
    private static long[] parse(Path stat) {
        String s;
        try {
            s = Files.readString(stat, StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            return null; // the process ended between the listing and the read
        }
        return parse(s);
    }

    /**
     * The text of one /proc/PID/stat (or /proc/self/task/TID/stat): {ppid, all four times, the children's two}; null
     * when it is not one. Public for the micro benchmarks' own /proc readers ({@code bench.micro}).
     */
    public static long[] parse(String s) {
        int close = s.lastIndexOf(')'); // the command name may hold spaces and parentheses
        if (close < 0) {
            return null;
        }
        String[] f = s.substring(close + 2).trim().split(" ");
        if (f.length < 15) {
            return null;
        }
        // after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
        long children = Long.parseLong(f[13]) + Long.parseLong(f[14]);
        return new long[] {Long.parseLong(f[1]), Long.parseLong(f[11]) + Long.parseLong(f[12]) + children, children};
    }
}

package dev.readsplit.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One reading of the CPU time (user + system, in clock ticks) of every thread of this JVM, Java's and the VM's own
 * (GC, compiler), from Linux's {@code /proc/self/task/TID/stat}, keyed by thread id with the thread's name. Two
 * readings around a run give the CPU each group of threads spent in it: threads are grouped by name with the trailing
 * number dropped ({@code bench-readsplit-3} and {@code GC Thread#1} count as {@code bench-readsplit} and
 * {@code GC Thread}). Names are the kernel's, cut to 15 characters. Off Linux every reading is empty.
 */
final class ThreadCpu {

    /** Thread id to {name, ticks}. */
    private final Map<Long, Map.Entry<String, Long>> threads;

    private ThreadCpu(Map<Long, Map.Entry<String, Long>> threads) {
        this.threads = threads;
    }

    /** Reads every thread of this JVM now. */
    static ThreadCpu read() {
        Map<Long, Map.Entry<String, Long>> out = new HashMap<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(Path.of("/proc/self/task"), "[0-9]*")) {
            for (Path d : dirs) {
                String stat;
                try {
                    stat = Files.readString(d.resolve("stat"), StandardCharsets.US_ASCII);
                } catch (IOException e) {
                    continue; // the thread ended between the listing and the read
                }
                Map.Entry<String, Long> e = parse(stat);
                if (e != null) {
                    out.put(Long.parseLong(d.getFileName().toString()), e);
                }
            }
        } catch (IOException | RuntimeException e) {
            return new ThreadCpu(Map.of());
        }
        return new ThreadCpu(out);
    }

    /**
     * One /proc/.../stat text as {group name, utime + stime}; null when it is not one. The times are
     * {@link CpuMeter#parse}'s (a thread's "children" times are its process's: left out).
     */
    static Map.Entry<String, Long> parse(String stat) {
        int open = stat.indexOf('(');
        long[] v = CpuMeter.parse(stat);
        if (open < 0 || v == null) {
            return null;
        }
        return Map.entry(group(stat.substring(open + 1, stat.lastIndexOf(')'))), v[1] - v[2]);
    }

    /** A thread's name without its trailing number and the separator before it. */
    static String group(String name) {
        int end = name.length();
        while (end > 0 && Character.isDigit(name.charAt(end - 1))) {
            end--;
        }
        while (end > 0 && "-#_ ".indexOf(name.charAt(end - 1)) >= 0) {
            end--;
        }
        return end == 0 ? name : name.substring(0, end);
    }

    /**
     * The ticks each group spent from {@code before} to this reading, most first; a thread that started after
     * {@code before} counts whole, one that ended before this reading is lost (its ticks are not in /proc any more).
     */
    Map<String, Long> since(ThreadCpu before) {
        Map<String, Long> sum = new HashMap<>();
        threads.forEach((tid, now) -> {
            Map.Entry<String, Long> then = before.threads.get(tid);
            long was = then != null && then.getKey().equals(now.getKey()) ? then.getValue() : 0;
            long d = now.getValue() - was;
            if (d > 0) {
                sum.merge(now.getKey(), d, Long::sum);
            }
        });
        return sum.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
    }

    /** {@code groups} as "name µs/op" pairs, the first {@code most} of them and the rest summed as "other". */
    static String perOperation(Map<String, Long> groups, long ops, int most) {
        if (ops <= 0 || groups.isEmpty()) {
            return "unknown";
        }
        double toMicros = 1e6 / CpuMeter.TICKS_PER_SECOND / ops;
        StringBuilder sb = new StringBuilder();
        List<Map.Entry<String, Long>> list = List.copyOf(groups.entrySet());
        long other = 0;
        for (int i = 0; i < list.size(); i++) {
            if (i < most) {
                sb.append(sb.length() == 0 ? "" : ", ")
                        .append(String.format(Locale.ROOT, "%s %.2f", list.get(i).getKey(), list.get(i).getValue() * toMicros));
            } else {
                other += list.get(i).getValue();
            }
        }
        if (other > 0) {
            sb.append(String.format(Locale.ROOT, ", other %.2f", other * toMicros));
        }
        return sb.append(" us/op").toString();
    }
}

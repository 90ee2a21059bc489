package dev.gatehouse.serving.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The memory this process can still take, as Linux tells it: {@code MemAvailable} of
 * /proc/meminfo, and in a container with a cgroup v2 memory limit what is left under
 * {@code memory.max} (less {@code memory.current}), whichever is smaller. Both are live readings,
 * so the models this process has loaded are already counted in them.
 *
 * @param availableBytes what a new allocation can have before the kernel's OOM killer steps in
 * @param source         where the figure comes from, for the refusal message
 */
public record HostMemory(long availableBytes, String source) {

    /** Empty where neither file is readable (not Linux): then nothing is checked. */
    public static Optional<HostMemory> read() {
        return read(Path.of("/proc/meminfo"), Path.of("/sys/fs/cgroup"));
    }

    static Optional<HostMemory> read(Path meminfo, Path cgroup) {
        Optional<HostMemory> physical = memAvailable(meminfo)
                .map(b -> new HostMemory(b, "MemAvailable " + MemoryEstimate.gb(b)));
        Optional<HostMemory> container = cgroupFree(cgroup);
        if (physical.isEmpty()) {
            return container;
        }
        if (container.isEmpty()) {
            return physical;
        }
        return container.get().availableBytes() < physical.get().availableBytes() ? container : physical;
    }

    private static Optional<Long> memAvailable(Path meminfo) {
        try {
            for (String line : Files.readAllLines(meminfo)) {
                if (line.startsWith("MemAvailable:")) { // "MemAvailable:   12345678 kB"
                    return Optional.of(Long.parseLong(line.substring(13).replace("kB", "").trim()) * 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or a format this code does not know: no reading rather than a wrong one
        }
        return Optional.empty();
    }

    private static Optional<HostMemory> cgroupFree(Path cgroup) {
        try {
            String max = Files.readString(cgroup.resolve("memory.max")).trim();
            if (max.equals("max")) {
                return Optional.empty();
            }
            long limit = Long.parseLong(max);
            long used = Long.parseLong(Files.readString(cgroup.resolve("memory.current")).trim());
            long free = Math.max(0, limit - used);
            return Optional.of(new HostMemory(free, "container limit " + MemoryEstimate.gb(limit) + ", "
                    + MemoryEstimate.gb(used) + " in use"));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }
}

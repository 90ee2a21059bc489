package dev.gatehouse.serving.engine;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The memory Linux says this process can still take, physical or under a container's limit. */
class HostMemoryTest {
    @TempDir
    Path dir;

    private Path meminfo(long availableKb) throws Exception {
        return Files.writeString(dir.resolve("meminfo"), "MemTotal:       24000000 kB\nMemFree:         1000000 kB\n"
                + "MemAvailable:   " + availableKb + " kB\nBuffers:          100 kB\n");
    }

    @Test
    void physicalWithoutAContainerLimit() throws Exception {
        Path cgroup = Files.createDirectories(dir.resolve("cg"));
        Files.writeString(cgroup.resolve("memory.max"), "max\n");
        HostMemory m = HostMemory.read(meminfo(20_000_000), cgroup).orElseThrow();
        assertEquals(20_000_000L * 1024, m.availableBytes());
        assertEquals("MemAvailable 20.5 GB", m.source());
    }

    @Test
    void theContainerLimitWinsWhenItIsTighter() throws Exception {
        Path cgroup = Files.createDirectories(dir.resolve("cg"));
        Files.writeString(cgroup.resolve("memory.max"), "8000000000\n");
        Files.writeString(cgroup.resolve("memory.current"), "3000000000\n");
        HostMemory m = HostMemory.read(meminfo(20_000_000), cgroup).orElseThrow();
        assertEquals(5_000_000_000L, m.availableBytes());
        assertEquals("container limit 8.0 GB, 3.0 GB in use", m.source());
    }

    @Test
    void nothingReadableIsNoReading() {
        assertTrue(HostMemory.read(dir.resolve("none"), dir.resolve("none")).isEmpty());
    }

    @Test
    void thisMachineHasSomeMemory() {
        assertTrue(HostMemory.read().map(m -> m.availableBytes() > 0).orElse(true));
    }
}

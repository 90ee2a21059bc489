package dev.gatehouse.gateway.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `gatehouse info` as a user runs it: the engine, and the memory models can have. */
class InfoCommandTest {
    @Test
    void showsTheMemoryTheProcessCanHave() {
        CliRun r = CliRun.run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("engine: PyTorch"), r.out());
        String memory = r.out().lines().filter(l -> l.startsWith("memory for models: ")).findFirst().orElseThrow();
        // Linux (where the tests run) always has /proc/meminfo; a container limit may be what is named
        assertTrue(memory.matches("memory for models: \\d+\\.\\d GB free \\((MemAvailable|container limit) .*\\)"), memory);
    }
}

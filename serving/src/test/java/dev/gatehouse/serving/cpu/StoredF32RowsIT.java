package dev.gatehouse.serving.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Run by failsafe against the packaged serving jar (only in a JDK 22+ build): the JVM picks the jar's
 * Java 22 variant, so the kernel tests run alongside it exercise the in-place path a server takes.
 */
class StoredF32RowsIT {
    @Test
    void theJarRunsTheVariantOfTheRunningJdk() {
        String from = StoredF32Rows.class.getProtectionDomain().getCodeSource().getLocation().getPath();
        assertTrue(from.endsWith(".jar"), "loaded from " + from);
        assertEquals(Runtime.version().feature() >= 22, StoredF32Rows.inPlace(), "Java " + Runtime.version());
    }
}

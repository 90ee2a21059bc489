package dev.gatehouse.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.util.Utils;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * Start never downloads a native library: DJL's tokenizers loader reads RUST_FLAVOR (cpu: the
 * library inside the jar, never the CUDA build it would fetch on a GPU host) and every DJL
 * download checks DJL_OFFLINE / ai.djl.offline first.
 */
class NativeLibrariesTest {
    @Test
    void pinsTheCpuTokenizersAndOfflineModeByDefault() {
        assertEquals(Map.of("RUST_FLAVOR", "cpu", "ai.djl.offline", "true"), NativeLibraries.settings(Map.of(), new Properties()));
    }

    @Test
    void theOperatorsOwnChoiceWins() {
        assertEquals(Map.of("ai.djl.offline", "true"), NativeLibraries.settings(Map.of("RUST_FLAVOR", "cu124"), new Properties()));
        assertEquals(Map.of("RUST_FLAVOR", "cpu"), NativeLibraries.settings(Map.of("DJL_OFFLINE", "false"), new Properties()));
        Properties props = new Properties();
        props.setProperty("ai.djl.offline", "false");
        props.setProperty("RUST_FLAVOR", "cpu");
        assertEquals(Map.of(), NativeLibraries.settings(Map.of(), props));
    }

    /** What DJL itself then reads (unless this test's environment sets DJL_OFFLINE, which would win). */
    @Test
    void djlSeesOfflineModeAndTheCpuFlavour() {
        NativeLibraries.pinOffline();
        if (System.getenv("DJL_OFFLINE") == null) {
            assertEquals(true, Utils.isOfflineMode());
        }
        if (System.getenv("RUST_FLAVOR") == null) {
            assertEquals("cpu", Utils.getEnvOrSystemProperty("RUST_FLAVOR"));
        }
    }
}

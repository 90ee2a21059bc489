package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** A GPU build (-Pcuda) must name its libtorch: DJL would otherwise fall back to a CPU one without a word. */
class TorchBuildTest {
    @Test
    void aGpuBuildThatNamesNoLibtorchIsRefused() {
        String problem = TorchBuild.unpinnedGpuBuild(false, Map.of(), new Properties());
        assertTrue(problem.contains("PYTORCH_FLAVOR") && problem.contains("PYTORCH_LIBRARY_PATH"), problem);
        assertTrue(TorchBuild.unpinnedGpuBuild(false, Map.of("PYTORCH_FLAVOR", " "), new Properties()) != null, "blank is unset");
    }

    @Test
    void aFlavourALibraryPathOrTheBundledCpuLibtorchIsEnough() {
        assertNull(TorchBuild.unpinnedGpuBuild(true, Map.of(), new Properties()));
        assertNull(TorchBuild.unpinnedGpuBuild(false, Map.of("PYTORCH_FLAVOR", "cu128"), new Properties()));
        Properties props = new Properties();
        props.setProperty("PYTORCH_LIBRARY_PATH", "/opt/torch/lib");
        assertNull(TorchBuild.unpinnedGpuBuild(false, Map.of(), props));
    }

    /** This (CPU) build: libtorch loads from the jar and is no CUDA build. */
    @Test
    void theCpuBuildLoadsItsOwnLibtorch() {
        TorchBuild.engine();
        assertTrue(!TorchBuild.isCudaBuild() || TorchBuild.cudaAvailable(), TorchBuild.libtorchPath());
    }
}

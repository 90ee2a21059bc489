package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --device auto|cpu|cuda: parsed leniently, refused clearly, and never a native crash on a machine without a GPU. */
class DeviceChoiceTest {
    @TempDir
    Path tmp;

    @Test
    void parsesTheThreeChoicesInAnyCase() {
        assertEquals(DeviceChoice.AUTO, DeviceChoice.parse("auto"));
        assertEquals(DeviceChoice.CPU, DeviceChoice.parse(" CPU "));
        assertEquals(DeviceChoice.CUDA, DeviceChoice.parse("Cuda"));
    }

    @Test
    void anythingElseIsRefusedWithTheChoices() {
        for (String bad : new String[] {"bogus", "", "gpu", "cuda:0"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.parse(bad));
            assertTrue(e.getMessage().contains("auto, cpu or cuda") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void cpuIsTheCpu() {
        assertEquals(Device.cpu(), DeviceChoice.CPU.resolve());
    }

    /** The CPU build (the default Maven profile) sees no GPU, whatever the machine has. */
    @Test
    void withoutAGpuAutoIsTheCpuAndCudaIsAClearError() throws IOException {
        assumeTrue(Engine.getEngine("PyTorch").getGpuCount() == 0, "PyTorch sees a GPU here");
        assertEquals(Device.cpu(), DeviceChoice.AUTO.resolve());
        IllegalStateException e = assertThrows(IllegalStateException.class, DeviceChoice.CUDA::resolve);
        assertTrue(e.getMessage().contains("cuda") && e.getMessage().contains("no CUDA GPU"), e.getMessage());

        Path dir = TestModelFolder.llama().write(tmp.resolve("tiny"));
        IllegalStateException load = assertThrows(IllegalStateException.class, () -> LocalModel.load(dir, DeviceChoice.CUDA));
        assertEquals(e.getMessage(), load.getMessage());
        try (LocalModel m = LocalModel.load(dir, DeviceChoice.AUTO)) { // the refused load left nothing broken behind
            assertEquals(64, m.config().hiddenSize());
        }
    }
}

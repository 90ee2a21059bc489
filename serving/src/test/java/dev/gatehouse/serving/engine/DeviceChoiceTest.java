package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

/** --device auto|cpu|cuda|cuda:N: parsed leniently, refused clearly, and never a native crash on a machine without a GPU. */
class DeviceChoiceTest {
    @TempDir
    Path tmp;

    @Test
    void parsesTheChoicesInAnyCase() {
        assertEquals(DeviceChoice.AUTO, DeviceChoice.parse("auto"));
        assertEquals(DeviceChoice.CPU, DeviceChoice.parse(" CPU "));
        assertEquals(DeviceChoice.CUDA, DeviceChoice.parse("Cuda"));
        assertEquals(DeviceChoice.CUDA, DeviceChoice.parse("cuda:0"));
        assertEquals(DeviceChoice.cuda(3), DeviceChoice.parse("CUDA:3"));
        assertEquals("cuda:3", DeviceChoice.parse("cuda:3").toString());
        assertEquals("auto", DeviceChoice.AUTO.toString());
    }

    @Test
    void anythingElseIsRefusedWithTheChoices() {
        for (String bad : new String[] {"bogus", "", "gpu", "cuda:", "cuda:-1", "cuda:1234", "cuda:0:1", "cuda 1", "gpu:0"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceChoice.parse(bad));
            assertTrue(e.getMessage().contains("auto, cpu, cuda or cuda:N") && e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    /** One line either way, naming the libtorch, and telling a CPU build from a CUDA build that sees no GPU. */
    @Test
    void noGpuIsOneLineThatSaysWhichBuild() {
        String cudaBuild = DeviceChoice.noGpuMessage(true, "cuda:1", "/opt/djl/pytorch/2.7.1-cu128");
        assertTrue(cudaBuild.startsWith("device cuda:1: libtorch is a CUDA build (/opt/djl/pytorch/2.7.1-cu128) but sees no usable GPU"),
                cudaBuild);
        String cpuBuild = DeviceChoice.noGpuMessage(false, "cuda:0", "/root/.djl.ai/pytorch/2.7.1-cpu");
        assertTrue(cpuBuild.contains("CPU build") && cpuBuild.contains("-Pcuda"), cpuBuild);
        assertFalse(cudaBuild.contains("\n") || cpuBuild.contains("\n"));
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
        assertEquals(DeviceChoice.noGpuMessage(TorchBuild.isCudaBuild(), "cuda:0", TorchBuild.libtorchPath()), e.getMessage());
        assertThrows(IllegalStateException.class, () -> DeviceChoice.cuda(2).resolve());

        Path dir = TestModelFolder.llama().write(tmp.resolve("tiny"));
        IllegalStateException load = assertThrows(IllegalStateException.class, () -> LocalModel.load(dir, DeviceChoice.CUDA));
        assertEquals(e.getMessage(), load.getMessage());
        try (LocalModel m = LocalModel.load(dir, DeviceChoice.AUTO)) { // the refused load left nothing broken behind
            assertEquals(64, m.config().hiddenSize());
        }
    }
}

package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.EngineException;
import org.junit.jupiter.api.Test;

/** kv-cache-mb unset on a GPU: a share of the memory free after the weights, from given figures. */
class KvBudgetTest {
    private static final long GIB = 1L << 30;

    @Test
    void aShareOfWhatIsFreeAboveTheReserve() {
        // an H200 with a 7B FP16 model loaded: ~125 GiB free -> 0.9 x 124 GiB
        assertEquals((long) (124 * GIB * 0.9), KvBudget.fromFreeGpuMemory(125 * GIB));
        // a 24 GiB card with 14 GiB of weights: 10 GiB free -> 8.1 GiB
        assertEquals((long) (9 * GIB * 0.9), KvBudget.fromFreeGpuMemory(10 * GIB));
    }

    @Test
    void tooLittleLeftIsAClearErrorWithTheFigures() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> KvBudget.fromFreeGpuMemory(GIB + (32L << 20)));
        assertTrue(e.getMessage().startsWith("out of GPU memory: 1056 MiB free after the weights"), e.getMessage());
        assertTrue(e.getMessage().contains("kv-cache-mb"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> KvBudget.fromFreeGpuMemory(0));
    }

    @Test
    void theCpuKeepsOneGibAndAnExplicitSettingWins() {
        assertEquals(0, EngineConfig.defaults().kvCacheBytes(), "unset = automatic");
        assertEquals(GIB, KvBudget.CPU_DEFAULT);
        assertThrows(IllegalArgumentException.class, () -> EngineConfig.defaults().withKvCacheBytes(-1));
    }

    @Test
    void pyTorchsOutOfMemoryIsRecognisedThroughWrappersAndCutToOneLine() {
        EngineException oom = new EngineException("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 1 has a total "
                + "capacity of 79.1 GiB of which 1.1 GiB is free.\nException raised from malloc at ../c10/cuda/...");
        assertTrue(GpuMemory.isOutOfMemory(new IllegalStateException("load failed", oom)));
        assertEquals("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 1 has a total capacity of 79.1 GiB of which 1.1 GiB is free.",
                GpuMemory.firstLine(oom));
        assertFalse(GpuMemory.isOutOfMemory(new EngineException("index out of range")));
    }
}

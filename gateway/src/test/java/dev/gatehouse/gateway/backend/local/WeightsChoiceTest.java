package dev.gatehouse.gateway.backend.local;

import dev.gatehouse.gateway.backend.local.tools.ToolSettings;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.MemoryBudget;
import dev.gatehouse.serving.engine.MemoryEstimate;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code weights-dtype: auto} on the CPU: a 16-bit Llama-family checkpoint kept as stored (its whole step
 * runs in Java, faster), a GPT-2 one widened to FP32 when that fits the memory budget, else kept 16-bit.
 */
class WeightsChoiceTest {
    private static final String MODEL = "bf16-gpt2";
    private static final String LLAMA = "bf16-llama";
    private static final EngineConfig SMALL_KV = EngineConfig.defaults().withKvCacheBytes(1L << 20);

    @TempDir
    static Path store;
    static long stored;
    static long widened;

    @BeforeAll
    static void write() throws Exception {
        Path folder = TestModelFolder.gpt2().dtype(TensorDtype.BF16).hidden(256).intermediate(1024).vocab(8192)
                .write(store.resolve(MODEL));
        TestModelFolder.llama().dtype(TensorDtype.BF16).hidden(256).intermediate(1024).vocab(8192).write(store.resolve(LLAMA));
        stored = MemoryEstimate.forEngine(folder, DtypeChoice.AUTO, WeightsDtype.STORED, SMALL_KV).totalBytes();
        widened = MemoryEstimate.forEngine(folder, DtypeChoice.AUTO, WeightsDtype.F32, SMALL_KV).totalBytes();
        assertTrue(widened > stored, widened + " widened, " + stored + " stored");
    }

    private static String whyAfterLoading(WeightsDtype setting, MemoryBudget budget) {
        return whyAfterLoading(MODEL, setting, budget);
    }

    private static String whyAfterLoading(String model, WeightsDtype setting, MemoryBudget budget) {
        LocalStore local = new LocalStore(store, DeviceChoice.CPU, name -> SMALL_KV,
                name -> new LocalStore.Placement(DeviceChoice.CPU, DtypeChoice.AUTO, setting), name -> ToolSettings.DEFAULTS,
                budget);
        try (LocalModels models = new LocalModels()) {
            models.load(local, model, new SimpleMeterRegistry());
            return models.get(model).orElseThrow().engine().model().dtype().why();
        }
    }

    @Test
    void autoKeepsALlamaFamilyCheckpointStoredEvenWhenWidenedWouldFit() {
        assertTrue(whyAfterLoading(LLAMA, WeightsDtype.AUTO, new MemoryBudget(1L << 40)).contains("kept as stored"));
    }

    @Test
    void autoWidensAGpt2CheckpointThatFitsWidenedForPyTorchsOps() {
        assertFalse(whyAfterLoading(WeightsDtype.AUTO, new MemoryBudget(widened + (64L << 20))).contains("kept as stored"));
    }

    @Test
    void autoKeepsSixteenBitsWhenOnlyThatFits() {
        assertTrue(whyAfterLoading(WeightsDtype.AUTO, new MemoryBudget((stored + widened) / 2)).contains("kept as stored"));
    }

    @Test
    void storedKeepsSixteenBitsWhateverFits() {
        assertTrue(whyAfterLoading(WeightsDtype.STORED, new MemoryBudget(widened + (64L << 20))).contains("kept as stored"));
    }
}

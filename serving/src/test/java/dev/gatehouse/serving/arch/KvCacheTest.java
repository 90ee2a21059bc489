package dev.gatehouse.serving.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvCacheTest {
    private static final int LENGTH = 16;

    @TempDir
    Path tmp;

    /**
     * A batched decode reads a short sequence's slot up to the longest sequence's length; the mask
     * hides those stale positions, but a NaN a previous sequence left there must not leak through.
     */
    @Test
    void aClearedSlotForgetsWhatTheLastSequenceLeft() throws Exception {
        TestModelFolder folder = TestModelFolder.llama();
        try (EngineRun run = new EngineRun(folder.write(tmp.resolve("llama")))) {
            CausalLM lm = run.model.lm();
            float[] expected;
            try (KvCache fresh = lm.newCache(2, LENGTH)) {
                expected = shortSequenceAnswer(run, fresh, folder);
            }
            try (KvCache used = lm.newCache(2, LENGTH)) {
                poison(run, used, 1);
                float[] poisoned = shortSequenceAnswer(run, used, folder);
                assertTrue(Float.isNaN(poisoned[0]), "stale NaN reaches an uncleared slot's answer (so this test can fail)");
            }
            try (KvCache used = lm.newCache(2, LENGTH)) {
                poison(run, used, 1);
                used.clear(1);
                assertArrayEquals(expected, shortSequenceAnswer(run, used, folder));
            }
        }
    }

    /** Slot 0 holds 10 tokens, slot 1 holds 4; one batched decode step; slot 1's logits. */
    private static float[] shortSequenceAnswer(EngineRun run, KvCache cache, TestModelFolder folder) {
        forward(run, cache, StepBatch.single(folder.randomTokens(10, 1), 0, 0));
        forward(run, cache, StepBatch.single(folder.randomTokens(4, 2), 0, 1));
        float[] logits = forward(run, cache, new StepBatch(new int[] {5, 6}, 2, 1, new int[] {10, 4}, new int[] {0, 1}));
        return Arrays.copyOfRange(logits, logits.length / 2, logits.length);
    }

    private static float[] forward(EngineRun run, KvCache cache, StepBatch batch) {
        try (NDManager step = run.model.newStepManager()) {
            return run.model.lm().forward(batch, cache, step).toFloatArray();
        }
    }

    /** NaN keys and values in every position of a slot, as a sequence that overflowed would leave them. */
    private static void poison(EngineRun run, KvCache cache, int slot) {
        ModelConfig cfg = run.model.lm().config();
        try (NDManager step = run.model.newStepManager()) {
            StepUploads uploads = new StepUploads();
            KvCache.Positions at = cache.positions(StepBatch.single(new int[LENGTH], 0, slot), uploads);
            uploads.send(step, run.model.lm().dtype());
            NDArray nan = step.full(new Shape(1, LENGTH, cfg.numKvHeads(), cfg.headDim()), Float.NaN);
            for (int layer = 0; layer < cfg.numLayers(); layer++) {
                cache.write(layer, nan, nan, at);
            }
        }
    }
}

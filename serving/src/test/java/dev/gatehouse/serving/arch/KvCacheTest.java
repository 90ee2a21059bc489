package dev.gatehouse.serving.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class KvCacheTest {
    private static final int B = KvCache.BLOCK_SIZE;

    @TempDir
    Path tmp;

    /**
     * A batched decode reads a short sequence up to the longest one's length; what a block's last
     * owner left past the short sequence's end (here NaN, as an FP16 overflow leaves) is never read.
     * On PyTorch's ops ({@code f32}) and on the Java forward pass ({@code stored}).
     */
    @ParameterizedTest
    @EnumSource(value = WeightsDtype.class, names = {"F32", "STORED"})
    void aReusedBlockForgetsWhatItsLastOwnerLeft(WeightsDtype weights) throws Exception {
        TestModelFolder folder = TestModelFolder.llama();
        try (EngineRun run = new EngineRun(folder.write(tmp.resolve("llama")), weights)) {
            CausalLM lm = run.model.lm();
            float[] expected;
            try (KvCache fresh = lm.newCache(2)) {
                expected = shortSequenceAnswer(run, fresh, folder);
            }
            try (KvCache used = lm.newCache(2)) {
                poison(run, used, 1);
                assertArrayEquals(expected, shortSequenceAnswer(run, used, folder));
            }
            try (KvCache used = lm.newCache(2)) { // so this test can fail: poison that is read does reach the answer
                forward(run, used, StepBatch.single(folder.randomTokens(10, 1), 0, new int[] {0}));
                poison(run, used, 0);
                float[] logits = forward(run, used, StepBatch.single(new int[] {5}, 10, new int[] {0}));
                assertTrue(Float.isNaN(logits[0]));
            }
        }
    }

    /** A sequence's blocks anywhere in the pool, in any order, give the logits consecutive blocks give (gather vs view). */
    @ParameterizedTest
    @EnumSource(value = WeightsDtype.class, names = {"F32", "STORED"})
    void scatteredBlocksAnswerAsConsecutiveOnes(WeightsDtype weights) throws Exception {
        for (TestModelFolder folder : new TestModelFolder[] {TestModelFolder.llama(), TestModelFolder.gpt2()}) {
            try (EngineRun run = new EngineRun(folder.write(tmp.resolve(folder.toString().replaceAll("\\W", ""))), weights)) {
                int[] prompt = folder.randomTokens(2 * B + 5, 3);
                float[] consecutive = prefillThenDecode(run, prompt, new int[] {0, 1, 2});
                float[] scattered = prefillThenDecode(run, prompt, new int[] {6, 2, 4});
                assertArrayEquals(consecutive, scattered, 1e-5f);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = WeightsDtype.class, names = {"F32", "STORED"})
    void aPositionPastTheBlockTableIsRefused(WeightsDtype weights) throws Exception {
        TestModelFolder folder = TestModelFolder.llama();
        try (EngineRun run = new EngineRun(folder.write(tmp.resolve("llama")), weights); KvCache cache = run.model.lm().newCache(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> forward(run, cache, StepBatch.single(folder.randomTokens(B + 1, 1), 0, new int[] {0})));
            assertTrue(e.getMessage().contains("holds 1 blocks"), e.getMessage());
        }
    }

    @ParameterizedTest
    @EnumSource(value = WeightsDtype.class, names = {"F32", "STORED"})
    void aBlockOutsideThePoolIsRefused(WeightsDtype weights) throws Exception {
        TestModelFolder folder = TestModelFolder.llama();
        try (EngineRun run = new EngineRun(folder.write(tmp.resolve("llama")), weights); KvCache cache = run.model.lm().newCache(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> forward(run, cache, StepBatch.single(new int[] {5}, 0, new int[] {2})));
            assertEquals("block 2 outside the pool of 2", e.getMessage());
        }
    }

    /** On the Java path a bad id is refused before anything is read; PyTorch refuses it in its embedding op. */
    @Test
    void aTokenIdOutsideTheVocabularyIsAClearError() throws Exception {
        TestModelFolder folder = TestModelFolder.llama();
        try (EngineRun run = new EngineRun(folder.write(tmp.resolve("llama")), WeightsDtype.STORED);
             KvCache cache = run.model.lm().newCache(1)) {
            int vocab = run.model.lm().config().vocabSize();
            for (int id : new int[] {vocab, -1}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> forward(run, cache, StepBatch.single(new int[] {5, id}, 0, new int[] {0})));
                assertEquals("token id " + id + " is outside the vocabulary of " + vocab, e.getMessage());
            }
            forward(run, cache, StepBatch.single(new int[] {5}, 0, new int[] {0})); // and the model still runs
        }
    }

    @Test
    void blockArithmetic() {
        assertEquals(0, KvCache.blocksFor(0));
        assertEquals(1, KvCache.blocksFor(1));
        assertEquals(1, KvCache.blocksFor(B));
        assertEquals(2, KvCache.blocksFor(B + 1));
        assertArrayEquals(new int[] {3, 4}, KvCache.consecutiveBlocks(3, B + 1));
    }

    private static float[] prefillThenDecode(EngineRun run, int[] prompt, int[] table) {
        try (KvCache cache = run.model.lm().newCache(8)) {
            forward(run, cache, StepBatch.single(prompt, 0, table));
            return forward(run, cache, StepBatch.single(new int[] {7}, prompt.length, table));
        }
    }

    /** Block 0 holds 10 tokens, block 1 holds 4; one batched decode step; the second sequence's logits. */
    private static float[] shortSequenceAnswer(EngineRun run, KvCache cache, TestModelFolder folder) {
        forward(run, cache, StepBatch.single(folder.randomTokens(10, 1), 0, new int[] {0}));
        forward(run, cache, StepBatch.single(folder.randomTokens(4, 2), 0, new int[] {1}));
        float[] logits = forward(run, cache, new StepBatch(new int[] {5, 6}, 2, 1, new int[] {10, 4}, new int[][] {{0}, {1}}));
        return Arrays.copyOfRange(logits, logits.length / 2, logits.length);
    }

    private static float[] forward(EngineRun run, KvCache cache, StepBatch batch) {
        try (NDManager step = run.model.newStepManager()) {
            return run.model.lm().forward(batch, cache, step).toFloatArray();
        }
    }

    /** NaN keys and values in every position of a block, as a sequence that overflowed would leave them. */
    private static void poison(EngineRun run, KvCache cache, int block) {
        ModelConfig cfg = run.model.lm().config();
        try (NDManager step = run.model.newStepManager()) {
            StepUploads uploads = new StepUploads();
            KvCache.Positions at = cache.positions(StepBatch.single(new int[B], 0, new int[] {block}), uploads);
            uploads.send(step, run.model.lm().dtype());
            NDArray nan = step.full(new Shape(1, B, cfg.numKvHeads(), cfg.headDim()), Float.NaN);
            for (int layer = 0; layer < cfg.numLayers(); layer++) {
                cache.write(layer, nan, nan, at);
            }
        }
    }
}

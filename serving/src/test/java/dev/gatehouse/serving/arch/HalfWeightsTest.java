package dev.gatehouse.serving.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checkpoints with their matrices kept as stored on the CPU (weights-dtype stored: 16-bit and F32
 * ones, multiplied by the Vector API kernels) against the same checkpoints as F32 tensors for PyTorch
 * (weights-dtype f32). Both multiply the same values (a 16-bit number widens to FP32 exactly) and
 * accumulate in FP32, so they differ only by the order of the additions: logits agree within
 * {@link #LOGIT_TOLERANCE} of the largest logit, and greedy ids match.
 */
class HalfWeightsTest {
    /** Relative to the largest logit: FP32 sums of a few hundred products, in another order, through a few layers. */
    static final float LOGIT_TOLERANCE = 1e-4f;
    static final int GREEDY_TOKENS = 16;

    @TempDir
    Path tmp;

    static Stream<Arguments> variants() {
        return Stream.of(
                Arguments.of("llama-bf16", TestModelFolder.llama().dtype(TensorDtype.BF16)),
                Arguments.of("llama-f16", TestModelFolder.llama().dtype(TensorDtype.F16)),
                Arguments.of("llama-tied-sharded-bf16", TestModelFolder.llama().tied(true).shards(2).dtype(TensorDtype.BF16)),
                Arguments.of("qwen2-bias-bf16", TestModelFolder.qwen2().dtype(TensorDtype.BF16)),
                Arguments.of("qwen3-f16", TestModelFolder.qwen3().dtype(TensorDtype.F16)),
                Arguments.of("gpt2-bf16", TestModelFolder.gpt2().dtype(TensorDtype.BF16)),
                Arguments.of("gpt2-f16", TestModelFolder.gpt2().dtype(TensorDtype.F16)),
                Arguments.of("llama-f32", TestModelFolder.llama()),
                Arguments.of("qwen2-bias-f32", TestModelFolder.qwen2()),
                Arguments.of("gpt2-f32", TestModelFolder.gpt2()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void storedWeightsAgreeWithTheF32Reference(String label, TestModelFolder folder) throws Exception {
        Path dir = folder.write(tmp.resolve(label));
        int[] prompt = folder.randomTokens(12, 1);
        int[][] batch = {folder.randomTokens(5, 2), folder.randomTokens(5, 3), folder.randomTokens(5, 4)};
        try (EngineRun half = new EngineRun(dir, WeightsDtype.STORED); EngineRun f32 = new EngineRun(dir, WeightsDtype.F32)) {
            assertTrue(half.model.dtype().why().contains(folder.dtype().name() + " weights kept as stored"), half.model.dtype().why());
            assertTrue(!f32.model.dtype().why().contains("kept as stored"), f32.model.dtype().why());
            assertClose(f32.batchLogits(new int[][] {prompt}), half.batchLogits(new int[][] {prompt}), label + " prefill");
            assertClose(f32.batchLogits(batch), half.batchLogits(batch), label + " batch of 3");
            assertClose(f32.nextTokenProbabilitiesIncremental(prompt), half.nextTokenProbabilitiesIncremental(prompt),
                    label + " token by token (probabilities)");
            assertArrayEquals(f32.greedy(prompt, GREEDY_TOKENS), half.greedy(prompt, GREEDY_TOKENS), label + " greedy ids");
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        float scale = 0;
        float worst = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= LOGIT_TOLERANCE * scale, what + ": max difference " + worst + " for values up to " + scale);
    }
}

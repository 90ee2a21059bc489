package dev.gatehouse.serving.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.testing.FolderEdits;
import dev.gatehouse.serving.testing.JlamaOracle;
import dev.gatehouse.serving.testing.ReferenceModel;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Llama family against independent implementations: Jlama where it runs the variant (F32
 * folders, where it is exact), else a float64 reference written from the published formulas. Every
 * variant runs both ways a CPU step can: PyTorch's ops on F32 tensors ({@code weights-dtype: f32})
 * and the Java forward pass on the mapped weights ({@code stored}; {@link EngineRun} checks that the
 * step ran wholly in Java).
 */
class LlamaTest {
    static final float TOLERANCE = 1e-4f;
    static final int GREEDY_TOKENS = 32;

    @TempDir
    Path tmp;

    static Stream<Arguments> jlamaVariants() {
        return bothPaths(
                Arguments.of("llama-untied", TestModelFolder.llama()),
                Arguments.of("llama-tied", TestModelFolder.llama().tied(true)),
                Arguments.of("llama-mha-3layers", TestModelFolder.llama().kvHeads(4).layers(3).seed(7)),
                Arguments.of("llama-sharded", TestModelFolder.llama().shards(2).seed(3)),
                Arguments.of("mistral", TestModelFolder.mistral()),
                Arguments.of("qwen2-tied", TestModelFolder.qwen2()),
                Arguments.of("qwen2-untied-sharded", TestModelFolder.qwen2().tied(false).shards(2)));
    }

    static Stream<Arguments> referenceVariants() {
        return bothPaths(
                Arguments.of("qwen3", TestModelFolder.qwen3()),
                Arguments.of("qwen3-head-dim", TestModelFolder.qwen3().headDim(32).seed(5)),
                Arguments.of("llama3-rope-scaling", TestModelFolder.llama().ropeScaling(8.0, 1.0, 4.0, 64).maxPositions(256)),
                Arguments.of("llama-attention-bias", TestModelFolder.llama().attentionBias(true)),
                Arguments.of("qwen3-attention-bias", TestModelFolder.qwen3().attentionBias(true).seed(9)));
    }

    /** Each (label, folder) on PyTorch's ops and on the Java forward pass. */
    static Stream<Arguments> bothPaths(Arguments... variants) {
        return Stream.of(variants).flatMap(v -> Stream.of(WeightsDtype.F32, WeightsDtype.STORED).map(weights -> Arguments.of(
                v.get()[0] + (weights == WeightsDtype.STORED ? " (java)" : " (pytorch)"), v.get()[1], weights)));
    }

    static Stream<Arguments> slidingWindowVariants() {
        return bothPaths(
                Arguments.of("mistral-window-4", TestModelFolder.mistral().slidingWindow(4, 0)),
                Arguments.of("qwen2-window-4-from-layer-1", TestModelFolder.qwen2().slidingWindow(4, 1)),
                Arguments.of("qwen3-window-3-from-layer-1", TestModelFolder.qwen3().layers(3).slidingWindow(3, 1)));
    }

    /**
     * A window far shorter than the sequence, so that the window changes the answer: prefill in one
     * pass, and one token at a time through the KV cache, against the float64 reference.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("slidingWindowVariants")
    void slidingWindowAgreesWithReference(String label, TestModelFolder folder, WeightsDtype weights) throws Exception {
        Path dir = folder.write(tmp.resolve("model"));
        int[] prompt = folder.randomTokens(24, 1);
        ReferenceModel reference = ReferenceModel.load(dir);
        float[] expected = reference.nextTokenProbabilities(prompt);

        Path unwindowed = folder.write(tmp.resolve("unwindowed"));
        FolderEdits.editJson(unwindowed.resolve("config.json"), c -> c.putNull("sliding_window"));
        float[] withoutWindow = ReferenceModel.load(unwindowed).nextTokenProbabilities(prompt);
        assertTrue(maxDifference(expected, withoutWindow) > 100 * TOLERANCE, label + ": the window must matter for this test");

        try (EngineRun engine = new EngineRun(dir, weights)) {
            assertClose(expected, engine.nextTokenProbabilities(prompt), label + " (prefill)");
            assertClose(expected, engine.nextTokenProbabilitiesIncremental(prompt), label + " (token by token)");
            assertArrayEquals(reference.greedy(prompt, 16), engine.greedy(prompt, 16), label);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jlamaVariants")
    void agreesWithJlama(String label, TestModelFolder folder, WeightsDtype weights) throws Exception {
        Path dir = folder.write(tmp.resolve("model"));
        int[] prompt = folder.randomTokens(8, 1);
        try (JlamaOracle jlama = JlamaOracle.load(dir); EngineRun engine = new EngineRun(dir, weights)) {
            assertClose(jlama.nextTokenProbabilities(prompt), engine.nextTokenProbabilities(prompt), label);
            assertClose(jlama.nextTokenProbabilities(prompt), engine.nextTokenProbabilitiesIncremental(prompt), label);
            assertArrayEquals(jlama.greedy(prompt, GREEDY_TOKENS), engine.greedy(prompt, GREEDY_TOKENS), label);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("referenceVariants")
    void agreesWithReference(String label, TestModelFolder folder, WeightsDtype weights) throws Exception {
        Path dir = folder.write(tmp.resolve("model"));
        int[] prompt = folder.randomTokens(8, 1);
        ReferenceModel reference = ReferenceModel.load(dir);
        try (EngineRun engine = new EngineRun(dir, weights)) {
            assertClose(reference.nextTokenProbabilities(prompt), engine.nextTokenProbabilities(prompt), label);
            assertArrayEquals(reference.greedy(prompt, GREEDY_TOKENS), engine.greedy(prompt, GREEDY_TOKENS), label);
        }
    }

    /** 16-bit checkpoints on the CPU (weights kept 16-bit, computed in FP32): same tokens as the float64 reference on the widened weights. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("sixteenBitVariants")
    void sixteenBitCheckpointsAgreeWithReference(String label, TestModelFolder folder) throws Exception {
        agreesWithReference(label, folder, WeightsDtype.STORED);
    }

    static Stream<Arguments> sixteenBitVariants() {
        return Stream.of(
                Arguments.of("llama-bf16", TestModelFolder.llama().dtype(TensorDtype.BF16)),
                Arguments.of("qwen2-f16-sharded", TestModelFolder.qwen2().dtype(TensorDtype.F16).shards(2)));
    }

    static void assertClose(float[] expected, float[] actual, String label) {
        assertEquals(expected.length, actual.length, label + ": vocabulary size");
        float worst = maxDifference(expected, actual);
        if (worst > TOLERANCE) {
            throw new AssertionError(label + ": next-token probabilities differ by up to " + worst);
        }
    }

    static float maxDifference(float[] a, float[] b) {
        float worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        return worst;
    }
}

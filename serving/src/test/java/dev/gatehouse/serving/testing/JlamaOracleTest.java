package dev.gatehouse.serving.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every folder variant Jlama can run: loads, gives normalized distributions, agrees with the
 * float64 {@link ReferenceModel} (greedy tokens identical, probabilities within 1e-4), and greedy
 * decoding has clear top-1/top-2 gaps. Prints one "ORACLE" line per variant with the gaps seen.
 */
class JlamaOracleTest {

    @TempDir
    Path tmp;

    static Stream<Arguments> jlamaVariants() {
        return Stream.of(
            Arguments.of("llama", TestModelFolder.llama()),
            Arguments.of("llama-tied", TestModelFolder.llama().tied(true)),
            Arguments.of("llama-mha", TestModelFolder.llama().kvHeads(4)),
            Arguments.of("llama-3layers-seed7", TestModelFolder.llama().layers(3).seed(7).vocab(512)),
            Arguments.of("llama-f16-2shards", TestModelFolder.llama().dtype(TensorDtype.F16).shards(2)),
            Arguments.of("llama-rope-llama3", TestModelFolder.llama().ropeScaling(8.0, 1.0, 4.0, 64)),
            Arguments.of("mistral", TestModelFolder.mistral()),
            Arguments.of("qwen2", TestModelFolder.qwen2()),
            Arguments.of("qwen2-untied", TestModelFolder.qwen2().tied(false).shards(2)),
            Arguments.of("gpt2", TestModelFolder.gpt2()),
            Arguments.of("gpt2-prefixed", TestModelFolder.gpt2().gpt2Prefixed(true)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("jlamaVariants")
    void jlamaAgreesWithReference(String label, TestModelFolder f) throws Exception {
        Path dir = f.write(tmp.resolve(label));
        ReferenceModel ref = ReferenceModel.load(dir);
        int[] prompt = f.randomTokens(8, 1);
        try (JlamaOracle jl = JlamaOracle.load(dir)) {
            assertEquals(f.vocabSize(), jl.vocabSize());
            assertEquals(f.ropeScaling() != null, jl.ropePatched());

            float[] p = jl.nextTokenProbabilities(prompt);
            assertEquals(f.vocabSize(), p.length);
            double sum = 0;
            for (float v : p) {
                assertTrue(v >= 0 && v <= 1);
                sum += v;
            }
            assertEquals(1.0, sum, 1e-4, "Jlama's getLogits returns probabilities");

            // every prefix of the prompt
            float[][] per = jl.probabilitiesPerPosition(prompt);
            ReferenceModel.Session s = ref.newSession();
            double maxDiff = 0;
            for (int i = 0; i < prompt.length; i++) {
                float[] r = ReferenceModel.toFloat(ReferenceModel.softmax(s.step(prompt[i])));
                maxDiff = Math.max(maxDiff, maxAbsDiff(per[i], r));
            }
            // not bitwise: Jlama's Vector API reductions sum in another order once C2 compiles them
            assertArrayEquals(p, per[prompt.length - 1], 1e-6f);

            TokenOracle.Greedy g = jl.greedyWithProbabilities(prompt, 32);
            TokenOracle.Greedy rg = ref.greedyWithProbabilities(prompt, 32);
            assertArrayEquals(rg.tokens(), g.tokens(), label + ": Jlama and the float64 reference pick different tokens");
            assertArrayEquals(g.tokens(), jl.greedy(prompt, 32));
            for (int i = 0; i < 32; i++) maxDiff = Math.max(maxDiff, maxAbsDiff(g.probabilities()[i], rg.probabilities()[i]));
            assertTrue(maxDiff < 1e-4, label + ": max |p_jlama - p_ref| = " + maxDiff);

            long distinct = Arrays.stream(g.tokens()).distinct().count();
            System.out.printf("ORACLE %-22s minProbGap %.4f minLogitGap %.4f maxAbsProbDiffVsRef %.2e distinct %d/32 greedy %s%n", label,
                g.minTopTwoGap(), g.minTopTwoLogitGap(), maxDiff, distinct, Arrays.toString(g.tokens()));
            assertTrue(g.minTopTwoGap() > 1e-3, label + ": near-tie in greedy decoding, gap " + g.minTopTwoGap());
            assertTrue(distinct >= 3, label + ": degenerate greedy loop " + Arrays.toString(g.tokens()));
        }
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    /** The explicit float64 check on one llama folder, over a longer sequence and every position. */
    @Test
    void llamaMatchesFloat64FormulasAtEveryPosition() throws Exception {
        TestModelFolder f = TestModelFolder.llama().hidden(64).intermediate(128).layers(2).heads(4).kvHeads(2).vocab(256).seed(42);
        Path dir = f.write(tmp.resolve("llama"));
        int[] seq = f.randomTokens(96, 5);
        ReferenceModel ref = ReferenceModel.load(dir);
        try (JlamaOracle jl = JlamaOracle.load(dir)) {
            float[][] per = jl.probabilitiesPerPosition(seq);
            ReferenceModel.Session s = ref.newSession();
            double worstLogit = 0;
            for (int i = 0; i < seq.length; i++) {
                double[] logits = s.step(seq[i]);
                double[] rp = ReferenceModel.softmax(logits);
                assertEquals(ReferenceModel.argmax(rp), TokenOracle.argmax(per[i]), "position " + i);
                // compare in log space on tokens with non-negligible mass
                for (int v = 0; v < rp.length; v++) {
                    if (rp[v] > 1e-3) worstLogit = Math.max(worstLogit, Math.abs(Math.log(per[i][v]) - Math.log(rp[v])));
                }
            }
            System.out.printf("ORACLE llama-96-positions max |log p_jlama - log p_ref| (p > 1e-3) = %.2e%n", worstLogit);
            assertTrue(worstLogit < 1e-3, "log-prob difference " + worstLogit);
        }
    }

    /** Jlama's own loader, on the untouched folders: what it supports natively. */
    @Test
    void jlamaNativeLoaderOnUntouchedFolders() throws Exception {
        for (TestModelFolder f : new TestModelFolder[] { TestModelFolder.llama(), TestModelFolder.llama().tied(true), TestModelFolder.mistral(),
            TestModelFolder.qwen2(), TestModelFolder.gpt2(), TestModelFolder.llama().shards(2) }) {
            Path dir = f.write(tmp.resolve("native-" + f.architecture() + f.isTied() + f.shardCount()));
            int[] prompt = f.randomTokens(6, 3);
            float[] viaNative = nativeProbabilities(dir, prompt);
            float[] viaRef = ReferenceModel.load(dir).nextTokenProbabilities(prompt);
            assertTrue(maxAbsDiff(viaNative, viaRef) < 1e-4, f.toString());
        }
        // not natively: transformer.-prefixed GPT-2 (Jlama asks for "wte.weight"), qwen3 (no model type),
        // an eos_token_id list outside llama (its Mistral/Qwen2/GPT-2 configs take an int)
        assertThrows(Exception.class, () -> nativeProbabilities(TestModelFolder.gpt2().gpt2Prefixed(true).write(tmp.resolve("gp")), new int[] { 5 }));
        assertThrows(Exception.class, () -> nativeProbabilities(TestModelFolder.qwen3().write(tmp.resolve("q3")), new int[] { 5 }));
        assertThrows(Exception.class, () -> nativeProbabilities(TestModelFolder.qwen2().eosTokenIds(255, 253).write(tmp.resolve("q2e")), new int[] { 5 }));
        // ... while the oracle handles the first and the last
        try (JlamaOracle o = JlamaOracle.load(TestModelFolder.qwen2().eosTokenIds(255, 253).write(tmp.resolve("q2e2")))) {
            assertEquals(256, o.nextTokenProbabilities(new int[] { 5, 6 }).length);
        }
        // a llama eos list is fine natively
        nativeProbabilities(TestModelFolder.llama().eosTokenIds(2, 4).write(tmp.resolve("le")), new int[] { 5 });
    }

    /** Jlama 0.8.4 ignores rope_type llama3: natively it computes plain RoPE; the oracle patches it. */
    @Test
    void llama3RopeScalingIsIgnoredByJlamaItself() throws Exception {
        TestModelFolder f = TestModelFolder.llama().ropeScaling(8.0, 1.0, 4.0, 64);
        Path dir = f.write(tmp.resolve("l3"));
        Path plainDir = TestModelFolder.llama().write(tmp.resolve("plain"));
        int[] seq = f.randomTokens(24, 9);
        float[] nativeP = nativeProbabilities(dir, seq);
        float[] refScaled = ReferenceModel.load(dir).nextTokenProbabilities(seq);
        float[] refPlain = ReferenceModel.load(plainDir).nextTokenProbabilities(seq);
        assertTrue(maxAbsDiff(nativeP, refPlain) < 1e-4, "native Jlama computes unscaled RoPE");
        assertTrue(maxAbsDiff(refScaled, refPlain) > 1e-2, "the scaling matters for this folder");
        try (JlamaOracle o = JlamaOracle.load(dir)) {
            assertTrue(o.ropePatched());
            assertTrue(maxAbsDiff(o.nextTokenProbabilities(seq), refScaled) < 1e-4);
        }
        double[] inv = ReferenceModel.load(dir).inverseFrequencies();
        double[] plain = ReferenceModel.load(plainDir).inverseFrequencies();
        assertEquals(plain[0], inv[0], 1e-12, "wavelength 6.3 < 64/4: kept");
        assertEquals(plain[7] / 8, inv[7], 1e-12, "wavelength > 64: divided by factor");
    }

    @Test
    void unsupportedFoldersAreRejectedClearly() throws Exception {
        assertThrows(UnsupportedOperationException.class, () -> JlamaOracle.load(TestModelFolder.qwen3().write(tmp.resolve("q3"))));
        assertThrows(UnsupportedOperationException.class,
            () -> JlamaOracle.load(TestModelFolder.llama().dtype(TensorDtype.BF16).write(tmp.resolve("bf16"))));
        assertThrows(UnsupportedOperationException.class, () -> JlamaOracle.load(TestModelFolder.llama().headDim(32).write(tmp.resolve("hd"))));
        assertThrows(UnsupportedOperationException.class, () -> JlamaOracle.load(TestModelFolder.mistral().headDim(32).write(tmp.resolve("mhd"))));
        assertThrows(UnsupportedOperationException.class, () -> JlamaOracle.load(TestModelFolder.gpt2().intermediate(128).write(tmp.resolve("gi"))));
        try (JlamaOracle o = JlamaOracle.load(TestModelFolder.gpt2().write(tmp.resolve("g")))) {
            assertEquals(128, o.maxSequenceLength());
            assertThrows(IllegalArgumentException.class, () -> o.greedy(new int[120], 10));
            assertThrows(IllegalArgumentException.class, () -> o.nextTokenProbabilities(new int[] { 256 }));
        }
        try (JlamaOracle o = JlamaOracle.load(TestModelFolder.llama().write(tmp.resolve("l")))) {
            assertEquals(1024 - 2, o.maxSequenceLength(), "GQA with 2 kv heads: Jlama's RoPE table is read at position + 2 * kvHead");
        }
    }

    /** What Jlama cannot run, the reference still can: sanity of qwen3, BF16, custom head_dim. */
    @Test
    void referenceCoversWhatJlamaCannot() throws Exception {
        for (TestModelFolder f : new TestModelFolder[] { TestModelFolder.qwen3(), TestModelFolder.qwen3().headDim(16).kvHeads(4),
            TestModelFolder.llama().dtype(TensorDtype.BF16), TestModelFolder.llama().headDim(32), TestModelFolder.mistral().headDim(32), TestModelFolder.gpt2().dtype(TensorDtype.BF16),
            TestModelFolder.gpt2().intermediate(128) }) {
            Path dir = f.write(tmp.resolve("ref-" + Math.abs(f.toString().hashCode())));
            ReferenceModel ref = ReferenceModel.load(dir);
            TokenOracle.Greedy g = ref.greedyWithProbabilities(f.randomTokens(8, 1), 32);
            double sum = 0;
            for (float v : g.probabilities()[31]) sum += v;
            assertEquals(1.0, sum, 1e-5);
            long distinct = Arrays.stream(g.tokens()).distinct().count();
            System.out.printf("ORACLE reference-only %-60s minProbGap %.4f minLogitGap %.4f distinct %d/32%n", f, g.minTopTwoGap(),
                g.minTopTwoLogitGap(), distinct);
            assertTrue(distinct >= 3, f + " degenerate");
        }
        // qwen3's q_norm/k_norm matter: scaling them changes the output
        TestModelFolder q3 = TestModelFolder.qwen3();
        Path d1 = q3.write(tmp.resolve("q3a"));
        ReferenceModel r1 = ReferenceModel.load(d1);
        assertFalse(Arrays.equals(r1.nextTokenProbabilities(new int[] { 5, 6, 7 }),
            ReferenceModel.load(TestModelFolder.qwen3().seed(43).write(tmp.resolve("q3b"))).nextTokenProbabilities(new int[] { 5, 6, 7 })));
    }

    @Test
    void findClearPromptPicksAPromptWithoutNearTies() throws Exception {
        TestModelFolder f = TestModelFolder.qwen2();
        Path dir = f.write(tmp.resolve("q2"));
        try (JlamaOracle o = JlamaOracle.load(dir)) {
            int[] prompt = TokenOracle.findClearPrompt(o, s -> f.randomTokens(8, s), 32, 0.1, 100);
            assertTrue(o.greedyWithProbabilities(prompt, 32).minTopTwoLogitGap() >= 0.1);
        }
    }

    /** Jlama's own entry point, ModelSupport.loadModel on the folder as written, then forward per token. */
    private static float[] nativeProbabilities(Path dir, int[] ids) {
        AbstractModel m = ModelSupport.loadModel(dir.toFile(), DType.F32, DType.F32);
        try {
            KvBufferCache cache = new KvBufferCache(m);
            try (KvBufferCache.KvBuffer kv = cache.getEphemeralKvBuffer()) {
                float[] p = null;
                for (int i = 0; i < ids.length; i++) {
                    try (AbstractTensor h = m.forward(ids[i], i, kv, Optional.empty())) {
                        if (i == ids.length - 1) p = m.getLogits(h);
                    }
                }
                return p;
            }
        } finally {
            m.close();
        }
    }
}

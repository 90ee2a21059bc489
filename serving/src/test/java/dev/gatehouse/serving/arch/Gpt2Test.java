package dev.gatehouse.serving.arch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.gatehouse.serving.engine.WeightsDtype;
import dev.gatehouse.serving.testing.JlamaOracle;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * GPT-2 against Jlama, with the original un-prefixed weight names and with the `transformer.` prefix,
 * its F32 weights in PyTorch (auto) or mapped for the Vector API kernels (stored).
 */
class Gpt2Test {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "prefixed={0}, weights-dtype {1}")
    @CsvSource({"false, auto", "true, auto", "false, stored"})
    void agreesWithJlama(boolean prefixed, String weights) throws Exception {
        TestModelFolder folder = TestModelFolder.gpt2().gpt2Prefixed(prefixed);
        Path dir = folder.write(tmp.resolve("gpt2-" + prefixed + "-" + weights));
        int[] prompt = folder.randomTokens(8, 1);
        try (JlamaOracle jlama = JlamaOracle.load(dir); EngineRun engine = new EngineRun(dir, WeightsDtype.parse(weights))) {
            LlamaTest.assertClose(jlama.nextTokenProbabilities(prompt), engine.nextTokenProbabilities(prompt), "gpt2");
            LlamaTest.assertClose(jlama.nextTokenProbabilities(prompt), engine.nextTokenProbabilitiesIncremental(prompt), "gpt2");
            assertArrayEquals(jlama.greedy(prompt, LlamaTest.GREEDY_TOKENS), engine.greedy(prompt, LlamaTest.GREEDY_TOKENS));
        }
    }
}

package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.ReferenceModel;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.gatehouse.serving.testing.TokenOracle;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPT-2 through the batching engine: learned absolute positions (not rotary) must follow each
 * sequence's own position in a batch of different lengths and prompt chunks.
 */
class Gpt2EngineTest {
    static final int NEW_TOKENS = 20;

    @TempDir
    Path tmp;

    @Test
    void batchedRequestsArrivingAtDifferentTimesMatchTheirSoloRuns() throws Exception {
        TestModelFolder folder = TestModelFolder.gpt2().seed(5);
        Path dir = folder.write(tmp.resolve("gpt2"));
        ReferenceModel reference = ReferenceModel.load(dir);
        int[] lengths = {4, 11, 23, 7, 16};
        List<int[]> prompts = new ArrayList<>();
        for (int length : lengths) {
            prompts.add(TokenOracle.findClearPrompt(reference, s -> folder.randomTokens(length, 300L * length + s),
                    NEW_TOKENS, 1e-2, 50));
        }
        List<SamplingParams> params = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            params.add(i % 3 == 2 ? EngineTest.seeded(i).withMaxTokens(NEW_TOKENS)
                    : SamplingParams.greedy().withMaxTokens(NEW_TOKENS).withIgnoreEos(true));
        }
        try (LocalModel model = LocalModel.load(dir, DeviceChoice.CPU);
             Engine engine = Engine.start(model, EngineConfig.defaults().withMaxRunning(3).withStepTokenBudget(8),
                     new SimpleMeterRegistry())) {
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                handles.add(engine.submit(prompts.get(i), params.get(i)));
                Thread.sleep(10L * i); // staggered arrivals join a running batch
            }
            Generator alone = new Generator(model);
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(alone.generate(prompts.get(i), params.get(i), (t, tok) -> {}).tokenIds(),
                        handles.get(i).collect().tokenIds(), "request " + i);
            }
        }
    }
}

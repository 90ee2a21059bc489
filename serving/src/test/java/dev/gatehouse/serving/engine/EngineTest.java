package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.ReferenceModel;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.gatehouse.serving.testing.TokenOracle;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Continuous batching: requests run together give exactly what they give alone, and slots always come back. */
class EngineTest {
    static final int NEW_TOKENS = 24;

    @TempDir
    static Path tmp;
    static TestModelFolder folder;
    static LocalModel model;
    static List<int[]> prompts = new ArrayList<>();
    static ReferenceModel reference;

    @BeforeAll
    static void load() throws Exception {
        folder = TestModelFolder.llama().vocab(384).seed(11);
        Path dir = folder.write(tmp.resolve("llama"));
        model = LocalModel.load(dir, DeviceChoice.CPU);
        // Prompts of different lengths whose greedy path has no near-tie (batched FP32 may differ in the last bits).
        reference = ReferenceModel.load(dir);
        int[] lengths = {3, 9, 17, 30, 5, 12};
        for (int i = 0; i < lengths.length; i++) {
            int length = lengths[i];
            prompts.add(TokenOracle.findClearPrompt(reference, s -> folder.randomTokens(length, 100L * length + s),
                    NEW_TOKENS, 1e-2, 50));
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static Engine engine(EngineConfig config) {
        return Engine.start(model, config, new SimpleMeterRegistry());
    }

    static int[] alone(int[] prompt, SamplingParams params) {
        return new Generator(model).generate(prompt, params, (t, tok) -> {}).tokenIds();
    }

    static SamplingParams greedy() {
        return SamplingParams.greedy().withMaxTokens(NEW_TOKENS).withIgnoreEos(true);
    }

    static SamplingParams seeded(long seed) {
        return SamplingParams.defaults().withTemperature(0.9f).withTopP(0.95f).withSeed(seed)
                .withMaxTokens(NEW_TOKENS).withIgnoreEos(true);
    }

    @Test
    void batchedRequestsArrivingAtDifferentTimesMatchTheirSoloRuns() throws Exception {
        List<SamplingParams> params = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            params.add(i % 3 == 2 ? seeded(i) : greedy());
        }
        try (Engine engine = engine(EngineConfig.defaults().withMaxRunning(4).withStepTokenBudget(16))) {
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                handles.add(engine.submit(prompts.get(i), params.get(i)));
                Thread.sleep(15L * i); // staggered arrivals join a running batch
            }
            for (int i = 0; i < prompts.size(); i++) {
                RequestHandle.Completion c = handles.get(i).collect();
                assertArrayEquals(alone(prompts.get(i), params.get(i)), c.tokenIds(), "request " + i);
                assertEquals(FinishReason.LENGTH, c.finishReason());
                assertEquals(new EngineEvent.Usage(prompts.get(i).length, NEW_TOKENS), c.usage());
            }
            assertIdle(engine);
        }
    }

    @Test
    void promptsOfEqualLengthArePrefilledTogetherAndMatchTheirSoloRuns() throws Exception {
        try (Engine engine = engine(EngineConfig.defaults().withMaxRunning(4).withStepTokenBudget(64))) {
            List<int[]> same = new ArrayList<>();
            List<RequestHandle> handles = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int seed = i;
                same.add(TokenOracle.findClearPrompt(reference, s -> folder.randomTokens(12, 7000L + 100 * seed + s),
                        NEW_TOKENS, 1e-2, 50));
            }
            for (int[] prompt : same) {
                handles.add(engine.submit(prompt, greedy()));
            }
            for (int i = 0; i < same.size(); i++) {
                assertArrayEquals(alone(same.get(i), greedy()), handles.get(i).collect().tokenIds(), "request " + i);
            }
            assertIdle(engine);
        }
    }

    @Test
    void cancellingOneRequestLeavesTheOthersUntouched() throws Exception {
        try (Engine engine = engine(EngineConfig.defaults().withMaxRunning(4))) {
            RequestHandle a = engine.submit(prompts.get(0), greedy());
            RequestHandle doomed = engine.submit(prompts.get(1), greedy().withMaxTokens(1000));
            RequestHandle b = engine.submit(prompts.get(2), seeded(5));
            assertInstanceOf(EngineEvent.Token.class, doomed.next());
            doomed.cancel();
            assertArrayEquals(alone(prompts.get(0), greedy()), a.collect().tokenIds());
            assertArrayEquals(alone(prompts.get(2), seeded(5)), b.collect().tokenIds());
            RequestHandle.RequestFailedException failed = assertThrows(RequestHandle.RequestFailedException.class, doomed::collect);
            assertTrue(failed.cancelled());
            assertIdle(engine);
        }
    }

    @Test
    void fullWaitingQueueRefusesAtOnce() throws Exception {
        try (Engine engine = engine(EngineConfig.defaults().withMaxRunning(1).withMaxWaiting(2))) {
            List<RequestHandle> accepted = new ArrayList<>();
            CapacityException refused = null;
            for (int i = 0; i < 6 && refused == null; i++) {
                try {
                    accepted.add(engine.submit(prompts.get(0), greedy().withMaxTokens(200)));
                } catch (CapacityException e) {
                    refused = e;
                }
            }
            assertTrue(refused != null && refused.getMessage().contains("waiting"), "the queue refused");
            assertTrue(engine.capacity().waiting() <= 2);
            assertTrue(engine.capacity().estimatedWaitMillis() >= 0);
            accepted.forEach(RequestHandle::cancel);
            for (RequestHandle h : accepted) {
                assertThrows(RequestHandle.RequestFailedException.class, h::collect);
            }
            assertIdle(engine);
        }
    }

    @Test
    void aReaderThatStopsReadingPausesOnlyItsOwnSequence() throws Exception {
        try (Engine engine = engine(EngineConfig.defaults().withMaxRunning(2).withMaxPendingEvents(4))) {
            RequestHandle slow = engine.submit(prompts.get(3), greedy());
            RequestHandle fast = engine.submit(prompts.get(4), greedy());
            assertArrayEquals(alone(prompts.get(4), greedy()), fast.collect().tokenIds());
            assertTrue(slow.pendingEvents() <= 4, "paused at the limit, not buffering " + slow.pendingEvents());
            assertArrayEquals(alone(prompts.get(3), greedy()), slow.collect().tokenIds());
            assertIdle(engine);
        }
    }

    @Test
    void promptsOverTheModelLengthAreRefusedAndLengthCapsGeneration() throws Exception {
        try (Engine engine = engine(EngineConfig.defaults().withMaxRunning(2).withMaxModelLength(40))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> engine.submit(folder.randomTokens(40, 1), greedy()));
            assertTrue(e.getMessage().contains("40"), e.getMessage());
            RequestHandle.Completion c = engine.submit(prompts.get(3), greedy().withMaxTokens(100)).collect();
            assertEquals(40 - prompts.get(3).length, c.tokenIds().length);
            assertEquals(FinishReason.LENGTH, c.finishReason());
            assertIdle(engine);
        }
    }

    static void assertIdle(Engine engine) throws InterruptedException {
        assertTrue(engine.awaitIdle(5, TimeUnit.SECONDS));
        Thread.sleep(20); // the engine publishes after its step
        Capacity c = engine.capacity();
        assertEquals(0, c.running());
        assertEquals(0, c.waiting());
        assertEquals(0, c.kvBytesUsed(), "all KV memory returned");
    }
}

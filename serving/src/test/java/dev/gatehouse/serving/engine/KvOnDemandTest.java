package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.arch.KvCache;
import dev.gatehouse.serving.arch.StepBatch;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.ReferenceModel;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.gatehouse.serving.testing.TokenOracle;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** KV memory in blocks as sequences grow: concurrency bounded by the tokens in use, and preemption that never changes an answer. */
class KvOnDemandTest {
    static final int NEW_TOKENS = 24;
    static final int B = KvCache.BLOCK_SIZE;

    @TempDir
    static Path tmp;
    static LocalModel model;
    static long bytesPerToken;
    static List<int[]> prompts = new ArrayList<>();

    @BeforeAll
    static void load() throws Exception {
        load(WeightsDtype.AUTO);
    }

    /** Loads the model with {@code weights}: {@link KvOnDemandTest}'s subclass runs every test again on the Java forward pass. */
    static void load(WeightsDtype weights) throws Exception {
        prompts.clear();
        TestModelFolder folder = TestModelFolder.llama().seed(21);
        Path dir = folder.write(tmp.resolve("llama"));
        model = LocalModel.load(dir, DeviceChoice.CPU, DtypeChoice.AUTO, weights);
        bytesPerToken = PrefixCacheTest.bytesPerToken(model);
        ReferenceModel reference = ReferenceModel.load(dir);
        int[] lengths = {17, 30, 12, 9, 5, 21, 3, 14};
        for (int length : lengths) {
            prompts.add(TokenOracle.findClearPrompt(reference, s -> folder.randomTokens(length, 70L * length + s),
                    NEW_TOKENS, 1e-2, 50));
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static int[] alone(int[] prompt, SamplingParams params) {
        return new Generator(model).generate(prompt, params, (t, tok) -> {}).tokenIds();
    }

    @Test
    void manyShortSequencesRunTogetherWhereWholeSlotsWouldNotFit() throws Exception {
        // room for two sequences of max-model-length, as whole slots; eight short ones need 8 x 4 blocks of the 32
        EngineConfig config = EngineConfig.defaults().withMaxRunning(8).withMaxModelLength(256)
                .withKvCacheBytes(2 * 256 * bytesPerToken);
        MeterRegistry registry = new SimpleMeterRegistry();
        SamplingParams params = EngineTest.greedy().withMaxTokens(12);
        // the engine's first pass waits for the last submission: a test thread descheduled for a dozen
        // of this tiny model's steps would otherwise submit the eighth after the first had finished
        CountDownLatch allSubmitted = new CountDownLatch(1);
        StepFaults waitForAll = new StepFaults() {
            @Override
            public void beforeForward(StepBatch batch) {
                EngineTest.awaitSubmissions(allSubmitted);
            }
        };
        try (Engine engine = Engine.start(model, config, registry, waitForAll)) {
            assertEquals(256, engine.maxModelLength());
            List<RequestHandle> handles = new ArrayList<>();
            for (int[] prompt : prompts) {
                handles.add(engine.submit(prompt, params));
            }
            allSubmitted.countDown();
            for (int i = 0; i < prompts.size(); i++) {
                assertArrayEquals(alone(prompts.get(i), params), handles.get(i).collect().tokenIds(), "request " + i);
            }
            assertEquals(8, registry.get("gatehouse.engine.batch.size").summary().max(), "all eight decoded in one step");
            assertEquals(0, registry.get("gatehouse.engine.preemptions").counter().count());
            assertIdle(engine);
        }
    }

    @Test
    void aSequenceThatOutgrowsTheFreeBlocksIsPreemptedAndResumedWithTheSameTokens() throws Exception {
        for (boolean prefixCache : new boolean[] {true, false}) {
            // six blocks (96 positions); four sequences growing to 33-54 positions need 13: some must give way
            EngineConfig config = EngineConfig.defaults().withMaxRunning(4).withMaxModelLength(4 * B)
                    .withKvCacheBytes(6 * B * bytesPerToken).withPrefixCache(prefixCache);
            MeterRegistry registry = new SimpleMeterRegistry();
            List<SamplingParams> params = List.of(EngineTest.greedy(), EngineTest.greedy(), EngineTest.seeded(3), EngineTest.greedy());
            try (Engine engine = Engine.start(model, config, registry)) {
                List<RequestHandle> handles = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    handles.add(engine.submit(prompts.get(i), params.get(i)));
                }
                for (int i = 0; i < 4; i++) {
                    RequestHandle.Completion c = handles.get(i).collect();
                    assertArrayEquals(alone(prompts.get(i), params.get(i)), c.tokenIds(), "request " + i + ", prefix cache " + prefixCache);
                    assertEquals(new EngineEvent.Usage(prompts.get(i).length, NEW_TOKENS), c.usage());
                }
                assertTrue(registry.get("gatehouse.engine.preemptions").counter().count() > 0, "the pool was too small for all four");
                assertIdle(engine);
            }
        }
    }

    /**
     * A request queued behind one that waits for KV blocks (batch places free, blocks not) waits for a
     * running sequence to end; the estimate the router spills on says so. Counting only batch places,
     * it would say one or two steps where the wait is about thirty.
     */
    @Test
    void theWaitEstimateCountsARequestWaitingForKvBlocks() throws Exception {
        EngineConfig config = EngineConfig.defaults().withMaxRunning(4).withMaxModelLength(6 * B)
                .withKvCacheBytes(6 * B * bytesPerToken).withMaxPendingEvents(1000).withPrefixCache(false);
        StepFaults paced = new StepFaults() { // steps of 5 ms at least: the engine cannot run far ahead of this test's reads
            @Override
            public void beforeForward(StepBatch batch) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (Engine engine = Engine.start(model, config, new SimpleMeterRegistry(), paced)) {
            for (int i = 0; i < 3; i++) { // the decode and prefill speeds are measured as the engine works
                engine.submit(prompts.get(i), EngineTest.greedy().withMaxTokens(8)).collect();
            }
            int[] shortPrompt = prompts.get(6); // 3 tokens: 1 block
            RequestHandle growing = engine.submit(shortPrompt, EngineTest.greedy().withMaxTokens(90)); // to 92 positions: all 6 blocks
            for (int i = 0; i < 62; i++) { // 65 positions: 5 blocks held, 1 free
                assertInstanceOf(EngineEvent.Token.class, growing.next());
            }
            RequestHandle blocked = engine.submit(prompts.get(1), EngineTest.greedy().withMaxTokens(2)); // 30 tokens: 2 blocks
            EngineTest.awaitPublishedStep(growing);
            Capacity c = engine.capacity();
            assertEquals(1, c.running(), "the 30-token prompt waits for blocks: " + c);
            assertEquals(1, c.waiting());
            long estimateMillis = c.estimatedWaitMillis();

            long submitted = System.nanoTime();
            RequestHandle probe = engine.submit(shortPrompt, EngineTest.greedy().withMaxTokens(2));
            assertInstanceOf(EngineEvent.Token.class, probe.poll(30, TimeUnit.SECONDS));
            double measuredMillis = (System.nanoTime() - submitted) / 1e6;
            assertTrue(estimateMillis > measuredMillis / 8 && estimateMillis < measuredMillis * 8,
                    "estimated " + estimateMillis + " ms, waited " + measuredMillis + " ms");
            for (RequestHandle h : List.of(growing, blocked, probe)) {
                h.collect();
            }
            assertIdle(engine);
        }
    }

    @Test
    void aMaxModelLengthBeyondTheWholeBudgetIsRefusedWithTheFigures() {
        EngineConfig config = EngineConfig.defaults().withMaxModelLength(512).withKvCacheBytes(256 * bytesPerToken);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Engine.start(model, config, new SimpleMeterRegistry()).close());
        assertTrue(e.getMessage().startsWith("max-model-length 512 needs"), e.getMessage());
    }

    static void assertIdle(Engine engine) throws InterruptedException {
        Capacity c = EngineTest.awaitCapacity(engine, EngineTest::allFree, "idle");
        assertEquals(0, c.kvBytesUsed(), "every block given back");
    }
}

package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.arch.KvCache;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.ReferenceModel;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.gatehouse.serving.testing.TokenOracle;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Prefix caching: a prompt that starts like an earlier one prefills only the rest, and answers exactly as without the cache. */
class PrefixCacheTest {
    static final int NEW_TOKENS = 12;
    static final int B = KvCache.BLOCK_SIZE;

    @TempDir
    Path tmp;

    /** Every architecture as loaded by default, and the Llama family also mapped for the Java forward pass (stored). */
    static Stream<Arguments> architectures() {
        return Stream.of(Arguments.of("llama", TestModelFolder.llama().seed(3), WeightsDtype.AUTO),
                Arguments.of("mistral-window-20", TestModelFolder.mistral().slidingWindow(20, 0).seed(4), WeightsDtype.AUTO),
                Arguments.of("qwen2", TestModelFolder.qwen2().seed(5), WeightsDtype.AUTO),
                Arguments.of("qwen3", TestModelFolder.qwen3().seed(6), WeightsDtype.AUTO),
                Arguments.of("gpt2", TestModelFolder.gpt2().seed(7), WeightsDtype.AUTO),
                Arguments.of("llama (java)", TestModelFolder.llama().seed(3), WeightsDtype.STORED),
                Arguments.of("mistral-window-20 (java)", TestModelFolder.mistral().slidingWindow(20, 0).seed(4), WeightsDtype.STORED),
                Arguments.of("qwen2 (java)", TestModelFolder.qwen2().seed(5), WeightsDtype.STORED),
                Arguments.of("qwen3 (java)", TestModelFolder.qwen3().seed(6), WeightsDtype.STORED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("architectures")
    void promptsSharingAPrefixGiveTheSameGreedyTokensWithAndWithoutTheCache(String name, TestModelFolder folder,
                                                                            WeightsDtype weights) throws Exception {
        Path dir = folder.write(tmp.resolve("model"));
        ReferenceModel reference = ReferenceModel.load(dir);
        int[] prefix = folder.randomTokens(40, 1);
        List<int[]> prompts = new ArrayList<>();
        for (int suffix : new int[] {3, 11, 20}) {
            prompts.add(clear(reference, s -> concat(prefix, folder.randomTokens(suffix, 50L * suffix + s))));
        }
        try (LocalModel model = LocalModel.load(dir, DeviceChoice.CPU, DtypeChoice.AUTO, weights)) {
            Run cached = oneAfterAnother(model, EngineConfig.defaults(), prompts);
            Run uncached = oneAfterAnother(model, EngineConfig.defaults().withPrefixCache(false), prompts);
            for (int i = 0; i < prompts.size(); i++) {
                int[] alone = new Generator(model).generate(prompts.get(i), greedy(), (t, tok) -> {}).tokenIds();
                assertArrayEquals(alone, cached.outputs.get(i), "request " + i + " with the cache");
                assertArrayEquals(alone, uncached.outputs.get(i), "request " + i + " without the cache");
            }
            assertEquals(2 * 2 * B, cached.hitTokens(), "requests 2 and 3 reuse the prefix's two full blocks");
            assertEquals(0, uncached.hitTokens());
        }
    }

    @Test
    void aChatsNextTurnReusesThePromptAndTheAnswerOfTheLastOne() throws Exception {
        TestModelFolder folder = TestModelFolder.llama().seed(8);
        Path dir = folder.write(tmp.resolve("llama"));
        ReferenceModel reference = ReferenceModel.load(dir);
        int[] turn1 = clear(reference, s -> folder.randomTokens(30, 200 + s));
        try (LocalModel model = LocalModel.load(dir, DeviceChoice.CPU)) {
            SamplingParams longer = greedy().withMaxTokens(24);
            int[] answer = new Generator(model).generate(turn1, longer, (t, tok) -> {}).tokenIds();
            int[] turn2 = clear(reference, s -> concat(concat(turn1, answer), folder.randomTokens(7, 300 + s)));
            int[] alone2 = new Generator(model).generate(turn2, longer, (t, tok) -> {}).tokenIds();

            Run run = oneAfterAnother(model, EngineConfig.defaults(), List.of(turn1, turn2), longer);
            assertArrayEquals(answer, run.outputs.get(0));
            assertArrayEquals(alone2, run.outputs.get(1));
            // turn 1 cached 30 + 24 - 1 positions (the last answer token is never fed back): three full blocks
            assertEquals(3 * B, run.hitTokens(), "the whole first turn but its last partial block");
            assertEquals(3 * B / (double) (turn1.length + turn2.length), run.gauge("gatehouse.engine.prefix.cache.hit.ratio"), 1e-9);
        }
    }

    @Test
    void underMemoryPressureTheLeastRecentlyUsedPrefixIsEvictedAndAnswersStayExact() throws Exception {
        TestModelFolder folder = TestModelFolder.llama().seed(9);
        Path dir = folder.write(tmp.resolve("llama"));
        ReferenceModel reference = ReferenceModel.load(dir);
        List<int[]> prompts = new ArrayList<>(); // 2 full blocks each (+ 1 token); each leaves 2 cached blocks behind
        for (int i = 0; i < 5; i++) {
            int seed = 1000 * i;
            prompts.add(clear(reference, s -> folder.randomTokens(2 * B + 1, seed + s)));
        }
        try (LocalModel model = LocalModel.load(dir, DeviceChoice.CPU)) {
            EngineConfig eightBlocks = EngineConfig.defaults().withMaxRunning(2).withMaxModelLength(4 * B)
                    .withKvCacheBytes(8 * B * bytesPerToken(model));
            List<int[]> order = new ArrayList<>(prompts);
            order.add(prompts.get(4)); // the most recent prefix: still cached
            order.add(prompts.get(1)); // an older one: its tail block was evicted for the later ones, its head was not
            Run run = oneAfterAnother(model, eightBlocks, order);
            for (int i = 0; i < order.size(); i++) {
                assertArrayEquals(new Generator(model).generate(order.get(i), greedy(), (t, tok) -> {}).tokenIds(),
                        run.outputs.get(i), "request " + i);
            }
            assertEquals(List.of(0, 0, 0, 0, 0, 2 * B, B), run.hitsPerRequest()); // the first prefix went whole
            assertTrue(run.engineCapacity.cachedBlocks() <= 8);
        }
    }

    @Test
    void sequencesRunningTogetherShareThePrefixBlocks() throws Exception {
        TestModelFolder folder = TestModelFolder.llama().seed(10);
        Path dir = folder.write(tmp.resolve("llama"));
        ReferenceModel reference = ReferenceModel.load(dir);
        int[] prefix = folder.randomTokens(3 * B, 2);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int seed = 100 * i;
            prompts.add(clear(reference, s -> concat(prefix, folder.randomTokens(5, seed + s))));
        }
        MeterRegistry registry = new SimpleMeterRegistry();
        try (LocalModel model = LocalModel.load(dir, DeviceChoice.CPU);
             Engine engine = Engine.start(model, EngineConfig.defaults().withMaxRunning(4), registry)) {
            RequestHandle first = engine.submit(prompts.get(0), greedy());
            first.next(); // its prompt is in the cache once its first token is out
            List<RequestHandle> others = new ArrayList<>();
            for (int i = 1; i < 4; i++) {
                others.add(engine.submit(prompts.get(i), greedy()));
            }
            Capacity together = EngineTest.awaitCapacity(engine, c -> c.running() == 4 || c.running() + c.waiting() < 4, "four running");
            List<int[]> outputs = new ArrayList<>();
            outputs.add(null);
            for (RequestHandle h : others) {
                outputs.add(h.collect().tokenIds());
            }
            first.collect();
            for (int i = 1; i < 4; i++) {
                assertArrayEquals(new Generator(model).generate(prompts.get(i), greedy(), (t, tok) -> {}).tokenIds(), outputs.get(i));
            }
            assertEquals(3 * 3 * B, registry.get("gatehouse.engine.prefix.cache.hit.tokens").counter().count());
            if (together.running() == 4) { // 4 x 4 blocks unshared; the prefix's 3 blocks are held once
                long blockBytes = B * bytesPerToken(model);
                assertTrue(together.kvBytesUsed() <= (3 + 4 * 2) * blockBytes, together.toString());
            }
        }
    }

    static long bytesPerToken(LocalModel model) {
        var c = model.config();
        return KvCache.bytesPerToken(c.numLayers(), c.numKvHeads(), c.headDim(), model.lm().dtype());
    }

    static SamplingParams greedy() {
        return SamplingParams.greedy().withMaxTokens(NEW_TOKENS).withIgnoreEos(true);
    }

    static int[] clear(ReferenceModel reference, java.util.function.IntFunction<int[]> promptForSeed) {
        return TokenOracle.findClearPrompt(reference, promptForSeed, 24, 1e-2, 50);
    }

    static int[] concat(int[] a, int[] b) {
        return IntStream.concat(IntStream.of(a), IntStream.of(b)).toArray();
    }

    /** Outputs of requests run one after another on one engine, and what the prefix cache did for each. */
    record Run(List<int[]> outputs, List<Integer> hitsPerRequest, MeterRegistry registry, Capacity engineCapacity) {
        long hitTokens() {
            return hitsPerRequest.stream().mapToLong(Integer::longValue).sum();
        }

        double gauge(String name) {
            return registry.get(name).gauge().value();
        }
    }

    static Run oneAfterAnother(LocalModel model, EngineConfig config, List<int[]> prompts) throws Exception {
        return oneAfterAnother(model, config, prompts, greedy());
    }

    static Run oneAfterAnother(LocalModel model, EngineConfig config, List<int[]> prompts, SamplingParams params) throws Exception {
        MeterRegistry registry = new SimpleMeterRegistry();
        try (Engine engine = Engine.start(model, config, registry)) {
            List<int[]> outputs = new ArrayList<>();
            List<Integer> hits = new ArrayList<>();
            double before = 0;
            for (int[] prompt : prompts) {
                outputs.add(engine.submit(prompt, params).collect().tokenIds());
                double after = registry.get("gatehouse.engine.prefix.cache.hit.tokens").counter().count();
                hits.add((int) (after - before));
                before = after;
            }
            return new Run(outputs, hits, registry, engine.capacity());
        }
    }
}

package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.arch.StepBatch;
import dev.gatehouse.serving.sample.SamplingParams;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every {@link KvOnDemandTest} (preemption and recompute included) with the weights mapped for the Java forward pass. */
class KvOnDemandOnJavaForwardTest extends KvOnDemandTest {
    @BeforeAll
    static void load() throws Exception {
        load(WeightsDtype.STORED);
    }

    @Test
    void theWeightsAreTheJavaKernels() {
        assertTrue(model.dtype().why().contains("F32 weights kept as stored"), model.dtype().why());
    }

    @Test
    void aNewcomerBetweenTheLayersOfADecodePassTakesOnlyFreeBlocks() throws Exception {
        // Two streams (prompts of 17 and 30) hold four blocks at their first decode; the newcomer's 21 need two.
        // Five blocks: one is free, so it is not let in (the next pass decodes the two alone) and nobody is preempted.
        SamplingParams short8 = EngineTest.greedy().withMaxTokens(8);
        List<String> events = newcomerMidPass(5, short8);
        assertEquals(List.of("newcomer submitted", "decode x2"), events.subList(0, 2), String.valueOf(events));
        // Eight blocks: it is prefilled there; the three then outgrow the pool, and the answers stay the same.
        events = newcomerMidPass(8, EngineTest.greedy());
        assertEquals(List.of("newcomer submitted", "prompt of 21"), events.subList(0, 2), String.valueOf(events));
    }

    /** Runs two streams and a newcomer submitted at their first decode pass's layer boundary; returns what followed. */
    private static List<String> newcomerMidPass(int blocks, SamplingParams params) throws Exception {
        int[] newcomer = prompts.get(5);
        List<String> events = new CopyOnWriteArrayList<>();
        AtomicBoolean submitNow = new AtomicBoolean(true);
        Engine[] engineRef = new Engine[1];
        RequestHandle[] late = new RequestHandle[1];
        // the engine's first pass waits for both streams: a test thread descheduled for a few of this tiny
        // model's steps would otherwise submit the second after the first had finished, and no pass would carry both
        CountDownLatch bothSubmitted = new CountDownLatch(1);
        StepFaults observe = new StepFaults() {
            @Override
            public void beforeForward(StepBatch batch) {
                EngineTest.awaitSubmissions(bothSubmitted);
                if (!submitNow.get()) {
                    events.add(batch.tokensPerSeq() == 1 ? "decode x" + batch.batchSize() : "prompt of " + batch.tokensPerSeq());
                }
            }

            @Override
            public void betweenLayers(StepBatch batch) {
                if (batch.tokensPerSeq() == 1 && batch.batchSize() == 2 && submitNow.compareAndSet(true, false)) {
                    events.add("newcomer submitted");
                    late[0] = engineRef[0].submit(newcomer, params);
                }
            }
        };
        EngineConfig config = EngineConfig.defaults().withMaxRunning(4).withMaxModelLength(4 * B)
                .withKvCacheBytes((long) blocks * B * bytesPerToken);
        MeterRegistry registry = new SimpleMeterRegistry();
        try (Engine engine = Engine.start(model, config, registry, observe)) {
            engineRef[0] = engine;
            RequestHandle first = engine.submit(prompts.get(0), params);
            RequestHandle second = engine.submit(prompts.get(1), params);
            bothSubmitted.countDown();
            assertArrayEquals(alone(prompts.get(0), params), first.collect().tokenIds(), blocks + " blocks: first");
            assertArrayEquals(alone(prompts.get(1), params), second.collect().tokenIds(), blocks + " blocks: second");
            assertArrayEquals(alone(newcomer, params), late[0].collect().tokenIds(), blocks + " blocks: the newcomer");
            double preempted = registry.get("gatehouse.engine.preemptions").counter().count();
            assertEquals(blocks == 5, preempted == 0, blocks + " blocks: " + preempted + " preemptions");
            assertIdle(engine);
        }
        return events;
    }
}

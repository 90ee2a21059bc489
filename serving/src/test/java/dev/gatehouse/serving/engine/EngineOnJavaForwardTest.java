package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.arch.StepBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every {@link EngineTest} with the weights mapped for the Java forward pass (prefill and decode in Java). */
class EngineOnJavaForwardTest extends EngineTest {
    @BeforeAll
    static void load() throws Exception {
        load(WeightsDtype.STORED);
    }

    @Test
    void theWeightsAreTheJavaKernels() {
        assertTrue(model.dtype().why().contains("F32 weights kept as stored"), model.dtype().why());
    }

    @Test
    void aNewcomerGetsItsFirstTokenBetweenTheLayersOfTheDecodePassUnderWay() throws Exception {
        // The newcomer comes while three streams' decode pass is between two layers: its prompt runs
        // there and gives its first token, then that pass goes on and gives the three theirs.
        int[] newcomer = prompts.get(5);
        List<String> events = new CopyOnWriteArrayList<>();
        AtomicBoolean submitNow = new AtomicBoolean(true);
        List<RequestHandle> late = new CopyOnWriteArrayList<>();
        Engine[] engineRef = new Engine[1];
        // the engine's first pass waits for all three streams: a test thread descheduled for a few of this
        // tiny model's steps would otherwise submit the third after the first had finished
        CountDownLatch allSubmitted = new CountDownLatch(1);
        StepFaults observe = new StepFaults() {
            @Override
            public void beforeForward(StepBatch batch) {
                EngineTest.awaitSubmissions(allSubmitted);
                events.add(batch.tokensPerSeq() == 1 ? "decode x" + batch.batchSize() : "prompt of " + batch.tokensPerSeq());
            }

            @Override
            public void betweenLayers(StepBatch batch) {
                if (batch.tokensPerSeq() == 1 && batch.batchSize() == 3 && submitNow.compareAndSet(true, false)) {
                    events.add("newcomer submitted");
                    late.add(engineRef[0].submit(newcomer, greedy()));
                }
            }

            @Override
            public void beforeToken(Sequence seq) {
                events.add(Arrays.equals(seq.prompt, newcomer) ? "newcomer's token" : "token");
            }
        };
        try (Engine engine = engine(EngineConfig.defaults().withMaxRunning(4), observe)) {
            engineRef[0] = engine;
            List<RequestHandle> running = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                running.add(engine.submit(prompts.get(i), greedy()));
            }
            allSubmitted.countDown();
            int[] firstTokens = new int[3];
            for (int i = 0; i < 3; i++) {
                firstTokens[i] = assertInstanceOf(EngineEvent.Token.class, running.get(i).next()).token().tokenId();
            }
            for (int i = 0; i < 3; i++) { // the streams whose pass paused give what they give alone
                int[] rest = running.get(i).collect().tokenIds();
                int[] all = new int[rest.length + 1];
                all[0] = firstTokens[i];
                System.arraycopy(rest, 0, all, 1, rest.length);
                assertArrayEquals(alone(prompts.get(i), greedy()), all, "request " + i);
            }
            assertArrayEquals(alone(newcomer, greedy()), late.get(0).collect().tokenIds(), "the newcomer");
            int submitted = events.indexOf("newcomer submitted");
            assertTrue(submitted > 0, "submitted between the layers of a decode pass: " + events);
            assertEquals(List.of("decode x3", "newcomer submitted", "prompt of " + newcomer.length, "newcomer's token",
                    "token", "token", "token"), events.subList(submitted - 1, submitted + 6), String.valueOf(events));
            assertIdle(engine);
        }
    }
}

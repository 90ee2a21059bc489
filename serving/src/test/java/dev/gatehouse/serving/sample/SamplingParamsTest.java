package dev.gatehouse.serving.sample;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {

    private static void assertRejected(SamplingParams p, String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::validate);
        assertTrue(e.getMessage().contains(name), () -> "message should name " + name + ": " + e.getMessage());
    }

    @Test
    void defaultsAreValidAndNeutral() {
        SamplingParams p = SamplingParams.defaults();
        assertDoesNotThrow(p::validate);
        assertEquals(1f, p.temperature());
        assertEquals(0, p.topK());
        assertEquals(1f, p.topP());
        assertEquals(0f, p.minP());
        assertEquals(1f, p.repetitionPenalty());
        assertEquals(null, p.seed());
        assertEquals(List.of(), p.stop());
        assertTrue(SamplingParams.greedy().isGreedy());
    }

    @Test
    void withersChangeOneField() {
        SamplingParams p = SamplingParams.defaults().withTopP(0.9f).withSeed(7L).withLogprobs(true, 5);
        assertEquals(0.9f, p.topP());
        assertEquals(7L, p.seed());
        assertTrue(p.logprobs());
        assertEquals(5, p.topLogprobs());
        assertEquals(1f, p.temperature());
    }

    @Test
    void acceptsBoundaryValues() {
        SamplingParams d = SamplingParams.defaults();
        for (SamplingParams p : List.of(
                d.withTemperature(0f), d.withTemperature(100f), d.withTopP(1f), d.withTopP(1e-6f),
                d.withMinP(0f), d.withMinP(1f), d.withPresencePenalty(-2f), d.withFrequencyPenalty(2f),
                d.withLogprobs(true, 20), d.withRepetitionPenalty(0.5f), d.withMaxTokens(1),
                d.withStop(List.of("\n\n")))) {
            assertDoesNotThrow(p::validate, p::toString);
        }
    }

    @Test
    void rejectsOutOfRangeNamingTheParameter() {
        SamplingParams d = SamplingParams.defaults();
        assertRejected(d.withMaxTokens(0), "max_tokens");
        assertRejected(d.withTemperature(-0.1f), "temperature");
        assertRejected(d.withTemperature(100.5f), "temperature");
        assertRejected(d.withTopK(-1), "top_k");
        assertRejected(d.withTopP(0f), "top_p");
        assertRejected(d.withTopP(1.01f), "top_p");
        assertRejected(d.withMinP(-0.01f), "min_p");
        assertRejected(d.withMinP(1.5f), "min_p");
        assertRejected(d.withRepetitionPenalty(0f), "repetition_penalty");
        assertRejected(d.withPresencePenalty(2.5f), "presence_penalty");
        assertRejected(d.withFrequencyPenalty(-2.5f), "frequency_penalty");
        assertRejected(d.withLogprobs(true, 21), "top_logprobs");
        assertRejected(d.withLogprobs(true, -1), "top_logprobs");
        assertRejected(d.withStop(List.of("")), "stop");
        assertRejected(d.withStop(Arrays.asList("ok", null)), "stop");
    }

    @Test
    void rejectsNaNEverywhere() {
        SamplingParams d = SamplingParams.defaults();
        float nan = Float.NaN;
        assertRejected(d.withTemperature(nan), "temperature");
        assertRejected(d.withTopP(nan), "top_p");
        assertRejected(d.withMinP(nan), "min_p");
        assertRejected(d.withRepetitionPenalty(nan), "repetition_penalty");
        assertRejected(d.withPresencePenalty(nan), "presence_penalty");
        assertRejected(d.withFrequencyPenalty(nan), "frequency_penalty");
    }

    @Test
    void samplerValidatesItsParams() {
        assertThrows(IllegalArgumentException.class,
                () -> new Sampler(SamplingParams.defaults().withTopP(2f), new int[0]));
    }
}

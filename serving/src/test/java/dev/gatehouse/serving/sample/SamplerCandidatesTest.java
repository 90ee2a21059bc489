package dev.gatehouse.serving.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A sampler fed only its largest logits (what a GPU reads back) picks exactly what it picks from
 * the whole row, and asks for the whole row whenever it needs it.
 */
class SamplerCandidatesTest {
    private static final int[] NO_PROMPT = new int[0];

    private static float[] randomLogits(int n, long seed) {
        Random r = new Random(seed);
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) (r.nextGaussian() * 3);
        }
        return l;
    }

    @Test
    void greedyNeedsOneCandidateTopKItsKAndEverythingElseTheRow() {
        assertEquals(1, new Sampler(SamplingParams.greedy(), NO_PROMPT).candidatesNeeded());
        assertEquals(1, new Sampler(SamplingParams.defaults().withTopK(1), NO_PROMPT).candidatesNeeded());
        assertEquals(40, new Sampler(SamplingParams.defaults().withTopK(40).withTopP(0.9f).withMinP(0.05f), NO_PROMPT)
                .candidatesNeeded());
        assertEquals(0, new Sampler(SamplingParams.defaults(), NO_PROMPT).candidatesNeeded(), "no top_k: every token may be drawn");
        assertEquals(0, new Sampler(SamplingParams.defaults().withTopK(Sampler.MAX_DEVICE_TOP_K + 1), NO_PROMPT).candidatesNeeded());
        assertEquals(0, new Sampler(SamplingParams.greedy().withRepetitionPenalty(1.1f), NO_PROMPT).candidatesNeeded(),
                "a penalty may lower the top logit below one outside the candidates");
        assertEquals(0, new Sampler(SamplingParams.greedy().withLogprobs(true, 0), NO_PROMPT).candidatesNeeded(),
                "logprobs normalise over the whole vocabulary");
    }

    @Test
    void candidatesGiveTheSameTokensAsTheWholeRow() {
        SamplingParams[] all = {SamplingParams.greedy(), SamplingParams.defaults().withTopK(1),
                SamplingParams.defaults().withTopK(5).withSeed(7L),
                SamplingParams.defaults().withTopK(40).withTopP(0.8f).withTemperature(0.7f).withSeed(11L),
                SamplingParams.defaults().withTopK(64).withMinP(0.1f).withSeed(3L)};
        for (SamplingParams params : all) {
            Sampler whole = new Sampler(params, NO_PROMPT);
            Sampler top = new Sampler(params, NO_PROMPT);
            int k = top.candidatesNeeded();
            for (int step = 0; step < 200; step++) {
                float[] logits = randomLogits(1000, step);
                int[] ids = TopK.largest(logits, k);
                float[] values = new float[k];
                for (int j = 0; j < k; j++) {
                    values[j] = logits[ids[j]];
                }
                assertEquals(whole.sample(logits.clone()).tokenId(), top.sampleTop(ids, params.isGreedy() ? null : values).tokenId(),
                        params + " step " + step);
            }
        }
    }

    @Test
    void aSamplerThatNeedsTheRowRefusesCandidates() {
        Sampler s = new Sampler(SamplingParams.defaults().withSeed(1L), NO_PROMPT);
        assertThrows(IllegalStateException.class, () -> s.sampleTop(new int[] {1}, new float[] {1f}));
        Sampler topK = new Sampler(SamplingParams.defaults().withTopK(4), NO_PROMPT);
        assertThrows(IllegalArgumentException.class, () -> topK.sampleTop(new int[] {1, 2}, null));
    }
}

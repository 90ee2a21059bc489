package dev.gatehouse.serving.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SamplerTest {
    private static final SamplingParams BASE = SamplingParams.defaults();
    private static final int[] NO_PROMPT = new int[0];

    /** Logits whose softmax is exactly {@code probs}. */
    private static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            l[i] = (float) Math.log(probs[i]);
        }
        return l;
    }

    private static float[] randomLogits(int n, long seed, double scale) {
        Random r = new Random(seed);
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) (r.nextGaussian() * scale);
        }
        return l;
    }

    private static double[] softmax(float[] logits, double temperature) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l / temperature);
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] / temperature - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /** Frequencies of {@code draws} samples, each from a fresh copy of {@code logits}. */
    private static double[] frequencies(SamplingParams params, float[] logits, int draws) {
        Sampler s = new Sampler(params, NO_PROMPT);
        double[] f = new double[logits.length];
        for (int i = 0; i < draws; i++) {
            f[s.sample(logits.clone()).tokenId()] += 1.0 / draws;
        }
        return f;
    }

    private static int[] run(SamplingParams params, float[] logits, int steps) {
        Sampler s = new Sampler(params, NO_PROMPT);
        return IntStream.range(0, steps).map(i -> s.sample(logits.clone()).tokenId()).toArray();
    }

    @Test
    void greedyPicksArgmaxLowestIdOnTies() {
        Sampler s = new Sampler(SamplingParams.greedy(), NO_PROMPT);
        assertEquals(1, s.sample(new float[] {0.1f, 3f, -1f, 3f, 2f}).tokenId());
        float[] big = randomLogits(50_000, 1, 3);
        int expected = 0;
        for (int i = 1; i < big.length; i++) {
            expected = big[i] > big[expected] ? i : expected;
        }
        assertEquals(expected, s.sample(big).tokenId());
    }

    @Test
    void sameSeedSameTokensDifferentSeedDifferentTokens() {
        float[] logits = randomLogits(1000, 2, 1);
        for (SamplingParams p : List.of(BASE, BASE.withTopP(0.9f), BASE.withTopK(50).withTemperature(0.8f),
                BASE.withMinP(0.05f).withTopP(0.95f))) {
            int[] a = run(p.withSeed(42L), logits, 50);
            assertArrayEquals(a, run(p.withSeed(42L), logits, 50), p::toString);
            assertNotEquals(Arrays.toString(a), Arrays.toString(run(p.withSeed(43L), logits, 50)), p::toString);
        }
    }

    @Test
    void temperatureSamplesFollowSoftmaxOfScaledLogits() {
        float[] logits = {1f, 2f, 0.5f, -1f, 0f};
        for (float t : new float[] {0.7f, 1f, 2f}) {
            double[] expected = softmax(logits, t);
            double[] got = frequencies(BASE.withTemperature(t).withSeed(7L), logits, 20_000);
            for (int i = 0; i < logits.length; i++) {
                assertEquals(expected[i], got[i], 0.015, "T=" + t + " token " + i);
            }
        }
    }

    @Test
    void topKOneIsGreedy() {
        for (int trial = 0; trial < 20; trial++) {
            float[] logits = randomLogits(5000, 100 + trial, 2);
            int greedy = new Sampler(SamplingParams.greedy(), NO_PROMPT).sample(logits.clone()).tokenId();
            Sampler topOne = new Sampler(BASE.withTopK(1).withTemperature(1.5f).withSeed((long) trial), NO_PROMPT);
            assertEquals(greedy, topOne.sample(logits.clone()).tokenId());
        }
    }

    @Test
    void topKKeepsTheKBestRenormalised() {
        float[] logits = logitsOf(0.4, 0.1, 0.3, 0.2);
        double[] got = frequencies(BASE.withTopK(2).withSeed(3L), logits, 20_000);
        assertEquals(0.4 / 0.7, got[0], 0.015);
        assertEquals(0.3 / 0.7, got[2], 0.015);
        assertEquals(0, got[1]);
        assertEquals(0, got[3]);
    }

    @Test
    void topPKeepsExactlyTheNucleus() {
        float[] logits = logitsOf(0.05, 0.5, 0.15, 0.3);
        for (SamplingParams p : List.of(BASE.withTopP(0.75f), BASE.withTopP(0.75f).withTopK(3))) {
            double[] got = frequencies(p.withSeed(5L), logits, 20_000);
            assertEquals(0.5 / 0.8, got[1], 0.015, p::toString);
            assertEquals(0.3 / 0.8, got[3], 0.015, p::toString);
            assertEquals(0, got[0], p::toString);
            assertEquals(0, got[2], p::toString);
        }
        // a tiny top_p still keeps the top token
        assertEquals(1, run(BASE.withTopP(0.01f).withSeed(1L), logits, 20)[19]);
    }

    @Test
    void topPOnLargeVocabMatchesNaiveFullSort() {
        // peaked head plus a long flat tail, like real LM logits
        float[] logits = randomLogits(60_000, 9, 1);
        Random r = new Random(10);
        for (int i = 0; i < 40; i++) {
            logits[r.nextInt(logits.length)] += 6 + 4 * (float) r.nextDouble();
        }
        float topP = 0.9f;
        double[] p = softmax(logits, 1);
        Integer[] order = IntStream.range(0, p.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -p[i]));
        Set<Integer> nucleus = new HashSet<>();
        double cum = 0;
        for (Integer i : order) {
            nucleus.add(i);
            cum += p[i];
            if (cum >= topP) {
                break;
            }
        }
        Sampler s = new Sampler(BASE.withTopP(topP).withSeed(11L), NO_PROMPT);
        Set<Integer> drawn = new HashSet<>();
        for (int i = 0; i < 2000; i++) {
            int t = s.sample(logits.clone()).tokenId();
            assertTrue(nucleus.contains(t), "token " + t + " is outside the nucleus");
            drawn.add(t);
        }
        for (int i : nucleus) { // every token with a real share of the nucleus shows up
            assertTrue(p[i] < 0.005 || drawn.contains(i), "token " + i + " (p=" + p[i] + ") never drawn");
        }
    }

    @Test
    void minPDropsTokensBelowFractionOfTheTopProbability() {
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        // min_p 0.25: bar = 0.125, so 0.05 goes and the rest are renormalised
        for (SamplingParams p : List.of(BASE.withMinP(0.25f), BASE.withMinP(0.25f).withTopK(4))) {
            double[] got = frequencies(p.withSeed(8L), logits, 20_000);
            assertEquals(0, got[3], p::toString);
            assertEquals(0.5 / 0.95, got[0], 0.015, p::toString);
            assertEquals(0.15 / 0.95, got[2], 0.015, p::toString);
        }
        // min_p 0.5: bar = 0.25, only the two biggest survive
        double[] got = frequencies(BASE.withMinP(0.5f).withSeed(8L), logits, 5000);
        assertEquals(0, got[2] + got[3]);
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeSeenLogits() {
        Sampler s = new Sampler(BASE.withRepetitionPenalty(2f), new int[] {0, 2, 2});
        float[] l = {2f, 1f, -1f, 3f};
        s.applyPenalties(l);
        assertArrayEquals(new float[] {1f, 1f, -2f, 3f}, l); // prompt tokens 0 and 2 only, once each

        // generated tokens count too: greedy picks 3, then 3 is penalised to 1.5 and 0 (prompt, 2 -> 1) loses to 1
        Sampler g = new Sampler(SamplingParams.greedy().withRepetitionPenalty(2f), new int[] {0});
        float[] logits = {2.4f, 1.6f, -1f, 3f};
        assertEquals(3, g.sample(logits.clone()).tokenId());
        assertEquals(1, g.sample(logits.clone()).tokenId());
    }

    @Test
    void presenceAndFrequencyPenaltiesCountGeneratedTokensOnly() {
        Sampler s = new Sampler(SamplingParams.greedy().withPresencePenalty(0.5f).withFrequencyPenalty(0.25f),
                new int[] {0, 1});
        float[] zeros = new float[4];
        s.applyPenalties(zeros);
        assertArrayEquals(new float[4], zeros); // the prompt is not penalised

        s.sample(new float[] {0, 0, 0, 100}); // generate 3
        s.sample(new float[] {0, 0, 0, 100}); // 3 again
        s.sample(new float[] {0, 100, 0, 0}); // then 1
        float[] l = new float[4];
        s.applyPenalties(l);
        assertArrayEquals(new float[] {0f, -(0.25f + 0.5f), 0f, -(2 * 0.25f + 0.5f)}, l);
    }

    @Test
    void presencePenaltyStopsGreedyRepeating() {
        Sampler s = new Sampler(SamplingParams.greedy().withPresencePenalty(0.5f), NO_PROMPT);
        float[] logits = {1.0f, 0.9f, 0.8f};
        int[] got = IntStream.range(0, 3).map(i -> s.sample(logits.clone()).tokenId()).toArray();
        assertArrayEquals(new int[] {0, 1, 2}, got);
    }

    @Test
    void logprobsAreLogSoftmaxOfRawLogits() {
        float[] logits = randomLogits(1000, 12, 2);
        SamplingParams p = BASE.withTemperature(0.8f).withTopK(50).withRepetitionPenalty(1.3f)
                .withPresencePenalty(1f).withLogprobs(true, 5).withSeed(13L);
        Sampler s = new Sampler(p, new int[] {1, 2, 3});
        double[] expected = softmax(logits, 1);
        Integer[] order = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -logits[i]));
        for (int step = 0; step < 10; step++) {
            SampledToken t = s.sample(logits.clone()); // penalties change the draw, not the logprobs
            assertEquals(Math.log(expected[t.tokenId()]), t.logprob(), 1e-4);
            List<TopLogprob> top = t.topLogprobs();
            assertEquals(5, top.size());
            for (int j = 0; j < top.size(); j++) {
                assertEquals((int) order[j], top.get(j).tokenId());
                assertEquals(Math.log(expected[order[j]]), top.get(j).logprob(), 1e-4);
                if (j > 0) {
                    assertTrue(top.get(j - 1).logprob() >= top.get(j).logprob());
                }
            }
        }
        SampledToken off = new Sampler(BASE, NO_PROMPT).sample(logits.clone());
        assertTrue(Float.isNaN(off.logprob()));
        assertTrue(off.topLogprobs().isEmpty());
    }

    @Test
    void logprobsStayFiniteForHugeLogits() {
        Sampler s = new Sampler(SamplingParams.greedy().withLogprobs(true, 2), NO_PROMPT);
        SampledToken t = s.sample(new float[] {1000f, 999f, -1000f});
        assertEquals(-Math.log1p(Math.exp(-1)), t.logprob(), 1e-5);
        assertEquals(1, t.topLogprobs().get(1).tokenId());
    }

    @Test
    void maskedLogitsAreNeverDrawn() {
        float[] logits = new float[100];
        Arrays.fill(logits, Float.NEGATIVE_INFINITY);
        logits[17] = -5f;
        logits[42] = -5f;
        for (SamplingParams p : List.of(BASE, BASE.withTopP(0.5f), BASE.withTopK(10), BASE.withMinP(0.1f))) {
            for (int t : run(p.withSeed(1L), logits, 50)) {
                assertTrue(t == 17 || t == 42, p::toString);
            }
        }
    }

    @Test
    void topKSelectionMatchesSort() {
        Random r = new Random(14);
        for (int trial = 0; trial < 50; trial++) {
            float[] v = new float[1 + r.nextInt(300)];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(20); // many ties
            }
            int k = 1 + r.nextInt(v.length);
            Integer[] order = IntStream.range(0, v.length).boxed().toArray(Integer[]::new);
            Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -v[i]).thenComparingInt(i -> i));
            int[] expected = Arrays.stream(order).limit(k).mapToInt(Integer::intValue).toArray();
            assertArrayEquals(expected, TopK.largest(v, k));
        }
    }

    /** Exercises every path on a Qwen-sized vocabulary; not timed. */
    @Test
    void manySamplesOnFullSizeVocabulary() {
        int vocab = 152_000;
        float[] base = randomLogits(vocab, 15, 2);
        Random r = new Random(16);
        for (int i = 0; i < 200; i++) {
            base[r.nextInt(vocab)] += 8 + 6 * (float) r.nextDouble();
        }
        List<SamplingParams> configs = new ArrayList<>(List.of(
                SamplingParams.greedy(), BASE.withTemperature(0.7f).withTopP(0.9f), BASE.withTopK(40),
                BASE.withMinP(0.05f), BASE.withTopP(0.95f).withRepetitionPenalty(1.1f).withLogprobs(true, 5)));
        for (int c = 0; c < 200; c++) {
            SamplingParams p = configs.get(c % configs.size()).withSeed((long) c);
            SampledToken t = new Sampler(p, new int[] {1, 2, 3}).sample(base.clone());
            assertTrue(t.tokenId() >= 0 && t.tokenId() < vocab);
        }
    }
}

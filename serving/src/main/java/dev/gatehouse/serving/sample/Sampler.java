package dev.gatehouse.serving.sample;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Picks the next token for one sequence. Not thread-safe: one instance per sequence, called once
 * per decode step. Holds the seeded random source (same seed, same logits -> same tokens) and the
 * token history the penalties need.
 *
 * <p>Pipeline: penalties -> greedy argmax if temperature 0 -> temperature -> top-k -> softmax ->
 * min-p -> top-p -> renormalise -> draw. The vocabulary (up to ~152k) is never sorted: greedy is
 * one pass, top-k a bounded heap, and the rest a few linear passes (see Nucleus).
 */
public final class Sampler {
    private final SamplingParams params;
    private final SplittableRandom random;

    // Distinct ids in prompt + output, for the repetition penalty.
    private final BitSet seen = new BitSet();
    private int[] seenIds = new int[16];
    private int seenCount;

    // Distinct generated ids and their counts, for presence/frequency penalties.
    private final Map<Integer, Integer> genSlot = new HashMap<>();
    private int[] genIds = new int[16];
    private int[] genCounts = new int[16];
    private int genDistinct;

    public Sampler(SamplingParams params, int[] promptTokenIds) {
        this.params = params.validate();
        this.random = params.seed() == null ? new SplittableRandom() : new SplittableRandom(params.seed());
        for (int id : promptTokenIds) {
            markSeen(id);
        }
    }

    public SamplingParams params() {
        return params;
    }

    /** The largest top_k served from a device-side top-k; a larger one reads the whole row. */
    public static final int MAX_DEVICE_TOP_K = 64;

    /**
     * How many of a step's largest logits this sampler needs: 1 for greedy, k for top-k sampling
     * (k up to {@link #MAX_DEVICE_TOP_K}), or 0 for the whole row: penalties change logits anywhere
     * in the vocabulary, and logprobs normalise over all of it.
     */
    public int candidatesNeeded() {
        boolean penalties = params.repetitionPenalty() != 1f || params.presencePenalty() != 0f
                || params.frequencyPenalty() != 0f;
        if (penalties || params.logprobs()) {
            return 0;
        }
        if (params.isGreedy()) {
            return 1;
        }
        return params.topK() > 0 && params.topK() <= MAX_DEVICE_TOP_K ? params.topK() : 0;
    }

    /**
     * Chooses a token from a row's {@link #candidatesNeeded} largest logits, largest first (the
     * same token {@link #sample} picks from the whole row with the same random draws), and records it.
     *
     * @param values their logits, or null for greedy (the first id is the token)
     */
    public SampledToken sampleTop(int[] ids, float[] values) {
        if (candidatesNeeded() == 0) {
            throw new IllegalStateException("this sampler needs the whole row of logits");
        }
        boolean greedy = params.isGreedy();
        if (ids.length == 0 || (!greedy && (values == null || values.length != ids.length))) {
            throw new IllegalArgumentException("candidates: " + ids.length + " ids, "
                    + (values == null ? "no" : values.length) + " logits");
        }
        int token = greedy ? ids[0] : drawSorted(ids, values, Math.min(ids.length, params.topK()));
        record(token);
        return new SampledToken(token, Float.NaN, List.of());
    }

    /**
     * Chooses a token from one step's logits (which this may overwrite) and records it as generated
     * so the penalties see it on the next step.
     */
    public SampledToken sample(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("empty logits");
        }
        float[] raw = params.logprobs() ? logits.clone() : null; // logprobs report the unpenalised model
        applyPenalties(logits);
        int token = params.isGreedy() ? argmax(logits)
                : params.topK() > 0 && params.topK() < logits.length ? drawTopK(logits, params.topK())
                : drawFull(logits);
        record(token);
        return raw == null ? new SampledToken(token, Float.NaN, List.of()) : withLogprobs(raw, token, params.topLogprobs());
    }

    /** Applies repetition, then presence/frequency penalties in place (vLLM's order). */
    void applyPenalties(float[] logits) {
        float rp = params.repetitionPenalty();
        if (rp != 1f) {
            for (int j = 0; j < seenCount; j++) {
                int id = seenIds[j];
                if (id < logits.length) {
                    float l = logits[id];
                    logits[id] = l > 0 ? l / rp : l * rp;
                }
            }
        }
        float presence = params.presencePenalty();
        float frequency = params.frequencyPenalty();
        if (presence != 0f || frequency != 0f) {
            for (int j = 0; j < genDistinct; j++) {
                int id = genIds[j];
                if (id < logits.length) {
                    logits[id] -= genCounts[j] * frequency + presence;
                }
            }
        }
    }

    /** Highest logit, lowest id on ties; NaN never wins. */
    static int argmax(float[] logits) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] > bestValue) {
                bestValue = logits[i];
                best = i;
            }
        }
        return best;
    }

    /** Top-k: the heap picks k candidates, already sorted, so only k exp() calls are needed. */
    private int drawTopK(float[] logits, int k) {
        int[] ids = TopK.largest(logits, k);
        float[] values = new float[ids.length];
        for (int j = 0; j < ids.length; j++) {
            values[j] = logits[ids[j]];
        }
        return drawSorted(ids, values, ids.length);
    }

    /** Draws from the first k candidates, largest first: temperature, min-p, top-p over them alone. */
    private int drawSorted(int[] ids, float[] values, int k) {
        float max = values[0];
        float invT = 1f / params.temperature();
        float[] w = new float[k];
        double total = 0;
        int m = 0;
        for (; m < k; m++) {
            // weight = p / pMax, so min-p is simply weight >= minP; sorted, so stop at the first miss
            w[m] = (float) FastExp.exp((values[m] - max) * invT);
            if (!(w[m] > FastExp.FLOOR) || w[m] < params.minP()) {
                break;
            }
            total += w[m];
        }
        if (m == 0) {
            return ids[0]; // degenerate logits (all -inf / +inf / NaN)
        }
        if (params.topP() < 1f) { // sorted, so the nucleus is the shortest prefix reaching the cut
            double cut = params.topP() * total;
            total = 0;
            int kept = 0;
            while (kept < m && total < cut) {
                total += w[kept++];
            }
            m = kept;
        }
        double r = random.nextDouble() * total;
        double cum = 0;
        for (int j = 0; j < m; j++) {
            cum += w[j];
            if (r < cum) {
                return ids[j];
            }
        }
        return ids[m - 1]; // only reachable through rounding
    }

    /** No top-k: one vectorised exp pass over the vocabulary, then min-p and top-p in O(n). */
    private int drawFull(float[] logits) {
        int best = argmax(logits);
        // weights w = p / pMax, written over the caller's array; min-p is then simply w >= minP
        FastExp.exp(logits, logits, logits[best], 1f / params.temperature());
        // keep w >= minP; the floor also drops masked (-inf) and NaN logits
        float keep = Math.max(params.minP(), Math.nextUp(FastExp.FLOOR));
        float topP = params.topP();
        double[] sums = Nucleus.histogram();
        float histFrom = topP < 1f ? Nucleus.neverBelow(topP, logits.length) : Float.POSITIVE_INFINITY;
        double total = Nucleus.tally(logits, keep, histFrom, sums);
        if (!(total > 0)) {
            return best; // degenerate logits (all -inf / +inf / NaN)
        }
        Nucleus.Bar bar = topP < 1f ? Nucleus.bar(logits, sums, topP * total)
                : new Nucleus.Bar(Nucleus.ANY_POSITIVE, total);
        return Nucleus.draw(logits, bar, random.nextDouble());
    }

    /** Logprobs of the raw logits: log_softmax(x)_i = x_i - logSumExp(x). Consumes {@code raw}. */
    static SampledToken withLogprobs(float[] raw, int token, int topN) {
        int[] topIds = TopK.largest(raw, topN);
        float[] topRaw = new float[topIds.length];
        for (int j = 0; j < topIds.length; j++) {
            topRaw[j] = raw[topIds[j]];
        }
        float tokenRaw = raw[token];
        double lse = logSumExp(raw);
        List<TopLogprob> top = new ArrayList<>(topIds.length);
        for (int j = 0; j < topIds.length; j++) {
            top.add(new TopLogprob(topIds[j], (float) (topRaw[j] - lse)));
        }
        return new SampledToken(token, (float) (tokenRaw - lse), top);
    }

    /** log(sum(exp(x))), shifted by the max so nothing overflows, summed in double. Overwrites x. */
    static double logSumExp(float[] x) {
        float max = x[argmax(x)];
        if (Float.isInfinite(max) || Float.isNaN(max)) {
            return max; // all -inf (or a +inf / NaN logit): nothing meaningful to normalise
        }
        FastExp.exp(x, x, max, 1f);
        double sum = 0;
        for (float e : x) {
            if (e > FastExp.FLOOR) { // skips NaN and the clamped far tail (< 1e-38 each)
                sum += e;
            }
        }
        return max + Math.log(sum);
    }

    private void record(int token) {
        markSeen(token);
        Integer slot = genSlot.get(token);
        if (slot != null) {
            genCounts[slot]++;
            return;
        }
        if (genDistinct == genIds.length) {
            genIds = Arrays.copyOf(genIds, genDistinct * 2);
            genCounts = Arrays.copyOf(genCounts, genDistinct * 2);
        }
        genSlot.put(token, genDistinct);
        genIds[genDistinct] = token;
        genCounts[genDistinct++] = 1;
    }

    private void markSeen(int id) {
        if (id < 0 || seen.get(id)) {
            return;
        }
        seen.set(id);
        if (seenCount == seenIds.length) {
            seenIds = Arrays.copyOf(seenIds, seenCount * 2);
        }
        seenIds[seenCount++] = id;
    }
}

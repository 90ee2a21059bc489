package dev.gatehouse.serving.sample;

import java.util.Arrays;

/**
 * Top-p over a whole vocabulary in O(n), without sorting it.
 *
 * <p>Each token gets a key: its weight's float bits on top (non-negative floats order like their
 * bits) and ~tokenId below, so a larger key means a heavier token, or the lower id on a tie. The
 * nucleus is then "every token whose key is >= some key K", and finding K needs no sort: a
 * histogram over ~1%-wide weight buckets finds the bucket where the running sum (heaviest first)
 * crosses topP; lighter buckets are out, heavier ones in, and only that one bucket is sorted.
 *
 * <p>The llama2.c pre-filter alone (keep only p >= (1-topP)/(n-1), then sort those) is correct
 * but keeps most of the vocabulary on flat distributions (high temperature), and the sort then
 * costs milliseconds. Here it only decides which tokens enter the histogram; see neverBelow.
 */
final class Nucleus {
    /** Buckets per octave of weight = 2^(23 - SHIFT) = 64, so each is about 1% wide. */
    private static final int SHIFT = 17;
    private static final int ONE = Float.floatToRawIntBits(1f) >>> SHIFT;
    /** Weights below 2^-32 of the top share one last bucket: a nucleus almost never reaches them. */
    private static final int LAST = 32 << (23 - SHIFT);
    /** Key of the lightest possible token with weight > 0: the bar when top-p is off. */
    static final long ANY_POSITIVE = 1L << 32;

    /** The tokens with key >= minKey, and their total weight. */
    record Bar(long minKey, double weight) {
    }

    private Nucleus() {
    }

    static long key(float weight, int tokenId) {
        return ((long) Float.floatToRawIntBits(weight) << 32) | (~tokenId & 0xFFFFFFFFL);
    }

    /** Bucket 0 holds weight 1 (the top token); the index grows as the weight falls. */
    private static int bucket(float w) {
        return Math.min(LAST, ONE - (Float.floatToRawIntBits(w) >>> SHIFT));
    }

    /**
     * A weight below which a token can never be in the nucleus (llama2.c's bound): with m tokens,
     * those with p < (1-topP)/(m-1) together weigh < 1-topP, so the heavier ones, which all rank
     * ahead of them, already reach topP. As weights are p / pMax >= p and m <= n, a weight under
     * (1-topP)/(n-1) has p under that bound. Such tokens can stay out of the histogram, which
     * keeps its sums from all hitting the same few buckets (slow) on peaked distributions.
     */
    static float neverBelow(float topP, int n) {
        return (float) ((1.0 - topP) / Math.max(1, n - 1));
    }

    /** An empty histogram: weight per bucket. */
    static double[] histogram() {
        return new double[LAST + 1];
    }

    /**
     * One pass over the weights: zeroes those below {@code keep} (min-p; also NaN), adds those at
     * or above {@code histFrom} to {@code sums}, and returns the total kept weight.
     */
    static double tally(float[] w, float keep, float histFrom, double[] sums) {
        double total = 0;
        for (int i = 0; i < w.length; i++) {
            float x = w[i];
            if (!(x >= keep)) {
                w[i] = 0f;
            } else {
                total += x;
                if (x >= histFrom) {
                    sums[bucket(x)] += x;
                }
            }
        }
        return total;
    }

    /**
     * The largest key K such that the tokens with key >= K (the heaviest first, lowest id first
     * on ties) weigh at least {@code cut} together. Weights must lie in [0, 1]; {@code sums} is
     * their histogram from {@link #tally}, which may leave out weights below {@link #neverBelow}.
     */
    static Bar bar(float[] w, double[] sums, double cut) {
        int b = 0;
        double above = 0;
        while (b < LAST && above + sums[b] < cut) {
            above += sums[b++];
        }
        // sort just the boundary bucket, and take its heaviest tokens until the cut is reached
        long[] keys = new long[64];
        int m = 0;
        for (int i = 0; i < w.length; i++) {
            if (w[i] > 0f && bucket(w[i]) == b) {
                if (m == keys.length) {
                    keys = Arrays.copyOf(keys, 2 * m);
                }
                keys[m++] = key(w[i], i);
            }
        }
        if (m == 0) { // rounding left the cut just above the total: keep everything
            return new Bar(ANY_POSITIVE, above);
        }
        Arrays.sort(keys, 0, m); // ascending: the heaviest sit at the end
        int j = m - 1;
        above += weight(keys[j]);
        while (above < cut && j > 0) {
            above += weight(keys[--j]);
        }
        return new Bar(keys[j], above);
    }

    private static float weight(long key) {
        return Float.intBitsToFloat((int) (key >>> 32));
    }

    /**
     * Draws token i with probability w[i] / bar.weight among the tokens with key >= bar.minKey,
     * scanning in id order (the renormalisation happens here); u is uniform in [0, 1).
     */
    static int draw(float[] w, Bar bar, double u) {
        double r = u * bar.weight();
        double cum = 0;
        int last = 0;
        for (int i = 0; i < w.length; i++) {
            if (key(w[i], i) >= bar.minKey()) {
                cum += w[i];
                last = i;
                if (r < cum) {
                    return i;
                }
            }
        }
        return last; // only reachable through rounding
    }
}

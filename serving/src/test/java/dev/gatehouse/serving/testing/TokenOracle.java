package dev.gatehouse.serving.testing;

/** Something that can tell the next-token distribution of a causal LM, working on token ids only. */
public interface TokenOracle {

    int vocabSize();

    /**
     * The next-token probability distribution (softmax of the logits, length {@link #vocabSize()})
     * after the whole sequence {@code tokenIds}, processed from position 0.
     */
    float[] nextTokenProbabilities(int[] tokenIds);

    /** Greedy (argmax, lowest id on exact ties) continuation of {@code n} tokens; never stops at eos. */
    int[] greedy(int[] promptIds, int n);

    /**
     * Greedy continuation together with, for each generated token, the distribution (probabilities)
     * it was picked from.
     */
    Greedy greedyWithProbabilities(int[] promptIds, int n);

    /** A greedy run: {@code probabilities[i]} is the distribution {@code tokens[i]} was the argmax of. */
    record Greedy(int[] tokens, float[][] probabilities) {
        /** Smallest top-1 minus top-2 probability over the steps. */
        public float minTopTwoGap() {
            float m = Float.POSITIVE_INFINITY;
            for (float[] p : probabilities) m = Math.min(m, topTwoGap(p));
            return m;
        }

        /** Smallest {@code ln(p1 / p2)} over the steps: the top-1 minus top-2 LOGIT gap. */
        public double minTopTwoLogitGap() {
            double m = Double.POSITIVE_INFINITY;
            for (float[] p : probabilities) m = Math.min(m, topTwoLogitGap(p));
            return m;
        }
    }

    /**
     * Tries prompts {@code promptForSeed.apply(0), apply(1), ...} until one whose greedy continuation
     * of {@code n} tokens has every top-1/top-2 logit gap at least {@code minLogitGap} (so an engine with
     * small numerical differences cannot pick another token); returns that prompt.
     */
    static int[] findClearPrompt(TokenOracle oracle, java.util.function.IntFunction<int[]> promptForSeed, int n, double minLogitGap, int maxTries) {
        for (int s = 0; s < maxTries; s++) {
            int[] prompt = promptForSeed.apply(s);
            if (oracle.greedyWithProbabilities(prompt, n).minTopTwoLogitGap() >= minLogitGap) return prompt;
        }
        throw new IllegalStateException("no prompt with a logit gap >= " + minLogitGap + " in " + maxTries + " tries");
    }

    /** {@code ln(p1 / p2)} of the two largest probabilities (= their logit difference). */
    static double topTwoLogitGap(float[] p) {
        float a = Float.NEGATIVE_INFINITY, b = Float.NEGATIVE_INFINITY;
        for (float v : p) {
            if (v > a) {
                b = a;
                a = v;
            } else if (v > b) {
                b = v;
            }
        }
        return Math.log((double) a / b);
    }

    /** Index of the largest entry (the first one on exact ties, like torch.argmax). */
    static int argmax(float[] p) {
        int best = 0;
        for (int i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
        return best;
    }

    /** Largest minus second-largest entry. */
    static float topTwoGap(float[] p) {
        float a = Float.NEGATIVE_INFINITY, b = Float.NEGATIVE_INFINITY;
        for (float v : p) {
            if (v > a) {
                b = a;
                a = v;
            } else if (v > b) {
                b = v;
            }
        }
        return a - b;
    }
}

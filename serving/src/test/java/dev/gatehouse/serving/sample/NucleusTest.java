package dev.gatehouse.serving.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The O(n) nucleus must equal the textbook one: sort descending, take the shortest prefix. */
class NucleusTest {

    private static Set<Integer> naive(float[] w, float topP) {
        double total = 0;
        for (float x : w) {
            total += x;
        }
        Integer[] order = IntStream.range(0, w.length).filter(i -> w[i] > 0).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -w[i]).thenComparingInt(i -> i));
        Set<Integer> kept = new TreeSet<>();
        double cum = 0;
        for (Integer i : order) {
            kept.add(i);
            cum += w[i];
            if (cum >= topP * total) {
                break;
            }
        }
        return kept;
    }

    private static Set<Integer> fast(float[] w, float topP, float minP) {
        double[] sums = Nucleus.histogram();
        double total = Nucleus.tally(w, Math.max(minP, Math.nextUp(FastExp.FLOOR)),
                Nucleus.neverBelow(topP, w.length), sums);
        Nucleus.Bar bar = Nucleus.bar(w, sums, topP * total);
        Set<Integer> kept = new TreeSet<>();
        double weight = 0;
        for (int i = 0; i < w.length; i++) {
            if (Nucleus.key(w[i], i) >= bar.minKey()) {
                kept.add(i);
                weight += w[i];
            }
        }
        assertEquals(weight, bar.weight(), 1e-9 * weight);
        return kept;
    }

    /** Weights as the sampler builds them: exp((logit - max) / T). */
    private static float[] weights(float[] logits, float temperature) {
        float[] w = logits.clone();
        FastExp.exp(w, w, w[Sampler.argmax(w)], 1f / temperature);
        return w;
    }

    @Test
    void matchesSortedPrefixOnPeakedFlatAndTiedDistributions() {
        Random r = new Random(21);
        for (int trial = 0; trial < 40; trial++) {
            int n = 1 + r.nextInt(trial < 30 ? 3000 : 60_000);
            float[] logits = new float[n];
            int shape = trial % 4;
            for (int i = 0; i < n; i++) {
                logits[i] = switch (shape) {
                    case 0 -> (float) r.nextGaussian(); // flat
                    case 1 -> (float) (r.nextGaussian() * 3 + (r.nextInt(100) == 0 ? 15 : 0)); // peaked
                    case 2 -> r.nextInt(5); // many exact ties
                    default -> (float) (-r.nextDouble() * 60); // long tail
                };
            }
            for (float topP : new float[] {0.01f, 0.3f, 0.9f, 0.95f, 0.999f}) {
                float[] w = weights(logits, 0.5f + r.nextFloat());
                float[] copy = w.clone();
                Set<Integer> expected = naive(w, topP);
                assertEquals(expected, fast(copy, topP, 0f), "trial " + trial + " shape " + shape + " top_p " + topP);
            }
        }
    }

    @Test
    void minPIsAppliedBeforeTheNucleus() {
        float[] w = {1f, 0.5f, 0.3f, 0.05f, 0.04f};
        // min_p 0.1 drops the last two; top_p 0.9 of the remaining 1.8 needs 1.62: 1 + 0.5 + 0.3
        assertEquals(Set.of(0, 1, 2), fast(w.clone(), 0.9f, 0.1f));
        assertEquals(Set.of(0, 1), fast(w.clone(), 0.8f, 0.1f));
    }

    @Test
    void drawStaysInsideTheBar() {
        float[] w = weights(new float[] {2f, 1f, 0f, -1f, 3f}, 1f);
        double[] sums = Nucleus.histogram();
        double total = Nucleus.tally(w, Math.nextUp(FastExp.FLOOR), 0f, sums);
        Nucleus.Bar bar = Nucleus.bar(w, sums, 0.8 * total);
        for (double u = 0; u < 1; u += 0.001) {
            int t = Nucleus.draw(w, bar, u);
            assertEquals(true, t == 4 || t == 0, "drew " + t);
        }
    }
}

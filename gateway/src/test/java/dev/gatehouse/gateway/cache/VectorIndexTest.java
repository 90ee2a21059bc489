package dev.gatehouse.gateway.cache;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The index finds what exact float arithmetic finds, with similarities within 0.005 of the exact ones. */
class VectorIndexTest {
    private static float[] random(SplittableRandom r, int dimensions) {
        float[] v = new float[dimensions];
        for (int i = 0; i < dimensions; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return VectorIndex.unit(v);
    }

    private static double exactDot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void theNearestVectorAndItsSimilarityMatchExactArithmetic() {
        SplittableRandom r = new SplittableRandom(3);
        int dimensions = 387; // not a multiple of any vector width: the tail counts too
        float[][] stored = new float[500][];
        VectorIndex index = new VectorIndex(dimensions, stored.length);
        for (int i = 0; i < stored.length; i++) {
            stored[i] = random(r, dimensions);
            assertEquals(i, index.add(stored[i], i % 2)); // two contexts
        }
        for (int q = 0; q < 50; q++) {
            float[] near = stored[r.nextInt(stored.length)].clone(); // a stored vector, nudged
            near[q] += 0.3f;
            float[] query = VectorIndex.unit(near);
            int best = -1;
            double bestDot = -2;
            for (int i = 1; i < stored.length; i += 2) { // context 1 only
                double d = exactDot(query, stored[i]);
                if (d > bestDot) {
                    bestDot = d;
                    best = i;
                }
            }

            VectorIndex.Nearest found = index.nearest(query, 1);

            assertEquals(best, found.slot());
            assertEquals(bestDot, found.similarity(), 0.005);
        }
    }

    @Test
    void aFullIndexReplacesItsOldestVector() {
        SplittableRandom r = new SplittableRandom(4);
        VectorIndex index = new VectorIndex(8, 2);
        float[] first = random(r, 8);
        index.add(first, 0);
        index.add(random(r, 8), 0);
        int slot = index.add(random(r, 8), 0);

        assertEquals(0, slot, "the oldest slot");
        assertEquals(2, index.size());
    }
}

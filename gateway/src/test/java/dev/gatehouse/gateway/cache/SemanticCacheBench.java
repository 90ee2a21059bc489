package dev.gatehouse.gateway.cache;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The semantic cache's search (scripts/bench-semantic-cache): p50 / p99 / max time to find the nearest
 * of N stored 384-float vectors (all-MiniLM-L6-v2's size), all in one conversation context, the worst
 * case. Embedding the message is timed separately by the cache's own metric.
 */
public final class SemanticCacheBench {
    public static void main(String[] args) {
        int dimensions = 384;
        int lookups = Integer.getInteger("bench.lookups", 2000);
        for (int entries : Arrays.stream(System.getProperty("bench.entries", "10000,100000").split(","))
                .mapToInt(Integer::parseInt).toArray()) {
            SplittableRandom random = new SplittableRandom(42);
            VectorIndex index = new VectorIndex(dimensions, entries);
            for (int i = 0; i < entries; i++) {
                index.add(VectorIndex.unit(randomVector(random, dimensions)), 7L);
            }
            for (int i = 0; i < 200; i++) { // warm the JIT
                index.nearest(VectorIndex.unit(randomVector(random, dimensions)), 7L);
            }
            long[] nanos = new long[lookups];
            for (int i = 0; i < lookups; i++) {
                float[] query = VectorIndex.unit(randomVector(random, dimensions));
                long start = System.nanoTime();
                index.nearest(query, 7L);
                nanos[i] = System.nanoTime() - start;
            }
            Arrays.sort(nanos);
            System.out.printf("| %,d | %.2f | %.2f | %.2f | %.0f MB |%n", entries, nanos[lookups / 2] / 1e6,
                    nanos[(int) (lookups * 0.99)] / 1e6, nanos[lookups - 1] / 1e6, entries * (dimensions + 12.0) / (1 << 20));
        }
    }

    private static float[] randomVector(SplittableRandom random, int dimensions) {
        float[] v = new float[dimensions];
        for (int i = 0; i < dimensions; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }
}

package dev.gatehouse.gateway.cache;

import java.util.Arrays;

/**
 * Up to {@code capacity} unit vectors of one dimension in one flat array, each tagged with a context
 * (only vectors of the same context are compared), searched exhaustively for the most similar
 * (cosine = dot product of unit vectors). Exact search is fast enough at a semantic
 * cache's sizes (see docs/benchmarks.md: 100,000 vectors of 384 floats in a few milliseconds) and has
 * no recall to tune. A full index overwrites its oldest slot. Not thread-safe: {@link SemanticCache}
 * holds the lock.
 */
final class VectorIndex {
    private final int dimensions;
    private final int capacity;
    private float[] vectors;
    private long[] contexts;
    private int size;
    private int next; // the slot the next vector goes to

    VectorIndex(int dimensions, int capacity) {
        this.dimensions = dimensions;
        this.capacity = capacity;
        this.vectors = new float[dimensions * Math.min(capacity, 1024)]; // grows as vectors come
        this.contexts = new long[Math.min(capacity, 1024)];
    }

    /** The most similar slot and its similarity; slot -1 when the index is empty. */
    record Nearest(int slot, float similarity) {}

    /** Stores a unit vector of {@code context}, returning its slot (the oldest one's when full). */
    int add(float[] unit, long context) {
        int slot = next;
        if (slot == contexts.length) {
            int grown = Math.min(capacity, 2 * contexts.length);
            vectors = Arrays.copyOf(vectors, grown * dimensions);
            contexts = Arrays.copyOf(contexts, grown);
        }
        System.arraycopy(unit, 0, vectors, slot * dimensions, dimensions);
        contexts[slot] = context;
        next = (next + 1) % capacity;
        size = Math.min(size + 1, capacity);
        return slot;
    }

    /** The most similar vector of {@code context}. */
    Nearest nearest(float[] unit, long context) {
        int best = -1;
        float bestSimilarity = Float.NEGATIVE_INFINITY;
        for (int slot = 0; slot < size; slot++) {
            if (contexts[slot] != context) {
                continue;
            }
            float s = dot(unit, slot * dimensions);
            if (s > bestSimilarity) {
                bestSimilarity = s;
                best = slot;
            }
        }
        return new Nearest(best, bestSimilarity);
    }

    /** Four independent sums, so the CPU overlaps the multiply-adds instead of waiting on one chain. */
    private float dot(float[] unit, int offset) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 3 < dimensions; i += 4) {
            s0 += unit[i] * vectors[offset + i];
            s1 += unit[i + 1] * vectors[offset + i + 1];
            s2 += unit[i + 2] * vectors[offset + i + 2];
            s3 += unit[i + 3] * vectors[offset + i + 3];
        }
        for (; i < dimensions; i++) {
            s0 += unit[i] * vectors[offset + i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    int size() {
        return size;
    }

    int dimensions() {
        return dimensions;
    }

    /** {@code v} scaled to length 1; null for a zero vector (which is similar to nothing). */
    static float[] unit(float[] v) {
        double norm = 0;
        for (float x : v) {
            norm += (double) x * x;
        }
        if (norm == 0) {
            return null;
        }
        float scale = (float) (1 / Math.sqrt(norm));
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i] * scale;
        }
        return out;
    }
}

package dev.gatehouse.gateway.cache;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Up to {@code capacity} unit vectors of one dimension in one flat array, each tagged with a context
 * (only vectors of the same context are compared), searched exhaustively for the most similar
 * (cosine = dot product of unit vectors). Exhaustive search has no recall to tune; what limits it is
 * reading every vector, so they are kept as bytes (each component times 127 over the vector's
 * largest), a quarter of the floats' memory, which moves a similarity by about 0.001
 * (docs/benchmarks.md: 100,000 vectors of 384). A full index overwrites its oldest slot. Not
 * thread-safe: {@link InMemorySemanticAnswers} holds the lock.
 */
final class VectorIndex {
    /** Bytes read per step: as many as the preferred float vector has lanes, widened to floats. */
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(FLOATS.length() * 8));
    private final int dimensions;
    private final int capacity;
    private byte[] vectors;
    private float[] scales; // each vector's largest component / 127
    private long[] contexts;
    private int size;
    private int next; // the slot the next vector goes to

    VectorIndex(int dimensions, int capacity) {
        this.dimensions = dimensions;
        this.capacity = capacity;
        this.vectors = new byte[dimensions * Math.min(capacity, 1024)]; // grows as vectors come
        this.scales = new float[Math.min(capacity, 1024)];
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
            scales = Arrays.copyOf(scales, grown);
            contexts = Arrays.copyOf(contexts, grown);
        }
        float largest = 0;
        for (float x : unit) {
            largest = Math.max(largest, Math.abs(x));
        }
        for (int i = 0; i < dimensions; i++) {
            vectors[slot * dimensions + i] = (byte) Math.round(unit[i] * 127 / largest);
        }
        scales[slot] = largest / 127;
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
            float s = dot(unit, slot);
            if (s > bestSimilarity) {
                bestSimilarity = s;
                best = slot;
            }
        }
        return new Nearest(best, bestSimilarity);
    }

    /** Widens the stored bytes to floats and multiply-adds them with the query, the widest lanes at a time. */
    private float dot(float[] unit, int slot) {
        int offset = slot * dimensions;
        FloatVector sum = FloatVector.zero(FLOATS);
        int i = 0;
        for (int end = FLOATS.loopBound(dimensions); i < end; i += FLOATS.length()) {
            FloatVector stored = (FloatVector) ByteVector.fromArray(BYTES, vectors, offset + i)
                    .convertShape(VectorOperators.B2F, FLOATS, 0);
            sum = FloatVector.fromArray(FLOATS, unit, i).fma(stored, sum);
        }
        float s = sum.reduceLanes(VectorOperators.ADD);
        for (; i < dimensions; i++) {
            s += unit[i] * vectors[offset + i];
        }
        return s * scales[slot];
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

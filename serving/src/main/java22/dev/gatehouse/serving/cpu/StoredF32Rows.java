package dev.gatehouse.serving.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Java 22+ variant of {@code src/main/java}'s StoredF32Rows (why two exist: see there), in the jar's
 * {@code META-INF/versions/22}: the vectors load from a MemorySegment over the stored part, with no copy
 * through a float[]. The arithmetic of each row, and so every result bit, is that of CpuMatrix's dot4x1 on copied rows.
 */
final class StoredF32Rows {
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment part;
    private final int cols;

    StoredF32Rows(ByteBuffer part, int cols) {
        this.part = MemorySegment.ofBuffer(part);
        this.cols = cols;
    }

    static boolean inPlace() {
        return true;
    }

    void dot8x1(int row, float[] x, int x0, float[] y, int y0) {
        int lanes = FLOATS.length();
        int bound = cols - cols % lanes;
        long stride = (long) cols * Float.BYTES;
        long w0 = row * stride;
        long w1 = w0 + stride;
        long w2 = w1 + stride;
        long w3 = w2 + stride;
        long w4 = w3 + stride;
        long w5 = w4 + stride;
        long w6 = w5 + stride;
        long w7 = w6 + stride;
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int c = 0; c < bound; c += lanes) {
            FloatVector u = FloatVector.fromArray(FLOATS, x, x0 + c);
            long at = (long) c * Float.BYTES;
            a0 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w0 + at, ByteOrder.LITTLE_ENDIAN), a0);
            a1 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w1 + at, ByteOrder.LITTLE_ENDIAN), a1);
            a2 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w2 + at, ByteOrder.LITTLE_ENDIAN), a2);
            a3 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w3 + at, ByteOrder.LITTLE_ENDIAN), a3);
            a4 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w4 + at, ByteOrder.LITTLE_ENDIAN), a4);
            a5 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w5 + at, ByteOrder.LITTLE_ENDIAN), a5);
            a6 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w6 + at, ByteOrder.LITTLE_ENDIAN), a6);
            a7 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w7 + at, ByteOrder.LITTLE_ENDIAN), a7);
        }
        y[y0] = finish(a0, bound, w0, x, x0);
        y[y0 + 1] = finish(a1, bound, w1, x, x0);
        y[y0 + 2] = finish(a2, bound, w2, x, x0);
        y[y0 + 3] = finish(a3, bound, w3, x, x0);
        y[y0 + 4] = finish(a4, bound, w4, x, x0);
        y[y0 + 5] = finish(a5, bound, w5, x, x0);
        y[y0 + 6] = finish(a6, bound, w6, x, x0);
        y[y0 + 7] = finish(a7, bound, w7, x, x0);
    }

    private float finish(FloatVector acc, int bound, long w, float[] x, int x0) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int c = bound; c < cols; c++) {
            sum += x[x0 + c] * part.get(FLOAT, w + (long) c * Float.BYTES);
        }
        return sum;
    }
}
